"""A debugging dev set: QuixBugs' own bugs plus one-line bugs injected into its correct programs.

Each bug is a buggy file, the correct file, the 0-based line(s) of the buggy
file that a fix changes, the program's tests, and the error a developer would
paste (the failing test's traceback and assertion, from running those tests).

Types:
  quixbugs           the data set's own bug in each of its 40 programs
  operator           + and -, * and //, < <= > >=, == and !=, in and not in, and/or, += and -= swapped
  off_by_one         an integer in an index, bound, comparison or arithmetic +-1; a range or slice bound +-1
  wrong_variable     a read of a local variable replaced by another local of the same function
  missing_statement  a one-line statement deleted (its block keeps at least one)
  extra_statement    a statement repeated, an early return at the end of a loop body, an extra `+= 1` in a loop
  wrong_constant     0 and 1, True and False, another one-character string (a literal that is no index or bound)
  missing_logic      a clause dropped from an and/or, an if's guard removed (its body kept), an elif/else branch dropped

An injected bug changes one line inside a function (missing_logic's guard and
branch removals take a header or a whole branch). A mutant is kept only when
it parses and its program's tests fail; a run past the timeout (BUILD_TIMEOUT_S
plus SLOW_FACTOR times the correct program's test time) fails: its error says the
call does not terminate, and where Ctrl-C stopped it. Mutants are tried in a
seeded order for each program and type, and each type takes at most
PER_PROGRAM of a program, in a seeded order of programs, until it has
--per-type bugs.

Building takes a few hundred test runs (a minute or two on 2 cores), so the set
is kept in benchmarks/.cache/debug_bugs.json, keyed by a hash of the data set,
this code and the parameters; a change to any of them builds it again.

    python benchmarks/debug_bugs.py [--rebuild]     # build (or load) the set and print how many bugs of each type
    python benchmarks/debug_bugs.py --show NAME     # one bug: its diff, bug lines and error
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import random
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from quixbugs_programs import DEFAULT_DATA, TestRunner, bug_lines, error_report, load_programs, tests_path

INJECTED = ("operator", "off_by_one", "wrong_variable", "missing_statement", "extra_statement", "wrong_constant", "missing_logic")
BUG_TYPES = ("quixbugs", *INJECTED)
CACHE = Path(__file__).resolve().parent / ".cache" / "debug_bugs.json"
SEED = 21
PER_TYPE = 25
PER_PROGRAM = 3
# Mutants tried for one program and type before it is given up (most mutants fail the tests).
MAX_TRIES = 8
BUILD_TIMEOUT_S = 5.0
# A program's mutants get this many times its correct version's test time on top: a mutant
# must be far slower than the program to count as not terminating, whatever the machine's load.
SLOW_FACTOR = 10


@dataclass
class Bug:
    name: str  # the program's name for QuixBugs' own bug, else program/type + number
    kind: str
    program: str
    buggy: str
    correct: str
    bug_lines: list[int]
    tests: str  # the program's test file, relative to the data set
    error: str
    change: str  # what the bug is, in a few words


@dataclass(frozen=True)
class Mutant:
    kind: str
    change: str
    source: str


# -- the correct program, edited ------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


class ProgramText:
    """A correct program's text and syntax tree, and its text with one edit."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.tree = ast.parse(text)
        self.parents = {child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)}
        self.functions = [n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]

    def scope(self, node: ast.AST) -> ast.AST | None:
        """The innermost function, lambda or comprehension around a node."""
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, _SCOPES):
            parent = self.parents.get(parent)
        return parent

    def nodes(self) -> Iterator[ast.AST]:
        """The nodes inside functions, docstrings left out."""
        for node in ast.walk(self.tree):
            if self.scope(node) is not None and not _is_docstring(node) and not _is_docstring(self.parents.get(node)):
                yield node

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""

    def _column(self, lineno: int, byte_offset: int) -> int:
        """ast's columns count UTF-8 bytes."""
        return len(self.lines[lineno - 1].encode()[:byte_offset].decode(errors="ignore"))

    def replaced(self, lineno: int, start: int, end: int, new: str) -> str:
        """The text with columns start..end (ast's byte offsets) of a 1-based line replaced."""
        line = self.lines[lineno - 1]
        start, end = self._column(lineno, start), self._column(lineno, end)
        return "".join(self.lines[: lineno - 1]) + line[:start] + new + line[end:] + "".join(self.lines[lineno:])

    def node_replaced(self, node: ast.AST, new: str) -> str | None:
        if node.lineno != node.end_lineno:
            return None
        return self.replaced(node.lineno, node.col_offset, node.end_col_offset, new)

    def gap(self, left: ast.AST, right: ast.AST) -> tuple[int, int, int] | None:
        """(line, start, end) of the text between two nodes on one line (where their operator is)."""
        if left.end_lineno != right.lineno:
            return None
        return left.end_lineno, left.end_col_offset, right.col_offset

    def lines_replaced(self, first: int, last: int, new: list[str]) -> str:
        """The text with 1-based lines first..last replaced (an insertion when last == first - 1)."""
        return "".join(self.lines[: first - 1] + new + self.lines[last:])

    def line_text(self, lineno: int) -> str:
        return self.lines[lineno - 1]


def _blocks(program: ProgramText) -> Iterator[list[ast.stmt]]:
    """The statement lists inside functions (bodies, else branches, handlers)."""
    for node in ast.walk(program.tree):
        if program.scope(node) is None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield [s for s in block if not _is_docstring(s)]


def _alone_on_line(program: ProgramText, statement: ast.stmt) -> bool:
    return statement.lineno == statement.end_lineno and program.line_text(statement.lineno).strip() == program.segment(statement)


# -- mutations, one generator per type --------------------------------------------------

_BINARY = {ast.Add: ("+", ("-",)), ast.Sub: ("-", ("+",)), ast.Mult: ("*", ("//",)), ast.FloorDiv: ("//", ("*",)),
           ast.Div: ("/", ("//",)), ast.Mod: ("%", ("//",))}
_COMPARISON = {ast.Lt: ("<", ("<=", ">")), ast.LtE: ("<=", ("<", ">=")), ast.Gt: (">", (">=", "<")), ast.GtE: (">=", (">", "<=")),
               ast.Eq: ("==", ("!=",)), ast.NotEq: ("!=", ("==",)), ast.In: ("in", ("not in",)), ast.NotIn: ("not in", ("in",)),
               ast.Is: ("is", ("is not",)), ast.IsNot: ("is not", ("is",))}
_BOOLEAN = {ast.And: ("and", ("or",)), ast.Or: ("or", ("and",))}


def _operator_sites(node: ast.AST) -> Iterator[tuple[ast.AST, ast.AST, str, tuple[str, ...]]]:
    """(left operand, right operand, operator, what it may become) of each operator in a node."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        yield node.left, node.right, *_BINARY[type(node.op)]
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BINARY:
        text, others = _BINARY[type(node.op)]
        yield node.target, node.value, text + "=", tuple(o + "=" for o in others)
    elif isinstance(node, ast.Compare):
        for left, op, right in zip([node.left, *node.comparators], node.ops, node.comparators):
            if type(op) in _COMPARISON:
                yield left, right, *_COMPARISON[type(op)]
    elif isinstance(node, ast.BoolOp):
        for left, right in zip(node.values, node.values[1:]):
            yield left, right, *_BOOLEAN[type(node.op)]


def _operator_pattern(text: str) -> str:
    if text[0].isalpha():
        return r"\b" + r"\s+".join(text.split()) + r"\b"
    # "<" must not match inside "<=" or "<<".
    return r"(?<![<>=!*/%+-])" + re.escape(text) + r"(?![<>=*/])"


def operator_mutants(program: ProgramText) -> Iterator[Mutant]:
    for node in program.nodes():
        for left, right, text, others in _operator_sites(node):
            where = program.gap(left, right)
            if where is None:
                continue
            line, start, end = where
            between = program.line_text(line).encode()[start:end].decode(errors="ignore")
            found = list(re.finditer(_operator_pattern(text), between))
            if len(found) != 1:
                continue
            for other in others:
                new_between = between[: found[0].start()] + other + between[found[0].end() :]
                yield Mutant("operator", f"line {line}: {text!r} -> {other!r}", program.replaced(line, start, end, new_between))


def _is_range_call(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"


def _in_arithmetic(program: ProgramText, node: ast.AST) -> bool:
    """Whether a number is an index, a bound, an operand or a comparison's side (where +-1 is off by one)."""
    parent = program.parents.get(node)
    if isinstance(parent, ast.UnaryOp):
        node, parent = parent, program.parents.get(parent)
    if isinstance(parent, (ast.BinOp, ast.Compare, ast.Slice, ast.AugAssign)) or _is_range_call(parent):
        return True
    return isinstance(parent, ast.Subscript) and parent.slice is node


def _is_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _bounds(program: ProgramText) -> Iterator[ast.AST]:
    """The bounds of ranges and slices."""
    for node in program.nodes():
        if _is_range_call(node):
            yield from node.args[:2]
        elif isinstance(node, ast.Slice):
            yield from (bound for bound in (node.lower, node.upper) if bound is not None)


def off_by_one_mutants(program: ProgramText) -> Iterator[Mutant]:
    for node in program.nodes():
        if _is_int(node) and _in_arithmetic(program, node):
            for delta in (1, -1):
                new = program.node_replaced(node, str(node.value + delta))
                if new is not None:
                    yield Mutant("off_by_one", f"line {node.lineno}: {node.value} -> {node.value + delta}", new)
    for bound in _bounds(program):
        if isinstance(bound, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
            text = program.segment(bound)
            for delta in (" + 1", " - 1"):
                new = program.node_replaced(bound, text + delta)
                if new is not None:
                    yield Mutant("off_by_one", f"line {bound.lineno}: {text} -> {text}{delta}", new)


def _locals(program: ProgramText, function: ast.AST) -> list[str]:
    """The function's parameters and the names it assigns, in order of appearance."""
    arguments = function.args
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg) if a]
    names += [n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and program.scope(n) is function]
    return list(dict.fromkeys(names))


def wrong_variable_mutants(program: ProgramText) -> Iterator[Mutant]:
    for function in program.functions:
        names = _locals(program, function)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names and program.scope(node) is function):
                continue
            for other in names:
                if other != node.id:
                    yield Mutant("wrong_variable", f"line {node.lineno}: {node.id} -> {other}", program.node_replaced(node, other))


_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Break, ast.Continue, ast.Raise)


def missing_statement_mutants(program: ProgramText) -> Iterator[Mutant]:
    for block in _blocks(program):
        if len(block) < 2:
            continue
        for statement in block:
            if isinstance(statement, _SIMPLE) and _alone_on_line(program, statement):
                text = program.segment(statement)
                yield Mutant("missing_statement", f"line {statement.lineno}: `{text}` deleted",
                             program.lines_replaced(statement.lineno, statement.lineno, []))


def _inserted_after(program: ProgramText, line: int, like: ast.stmt, statement: str) -> str:
    """The text with a statement added after a 1-based line, indented like another statement."""
    return program.lines_replaced(line + 1, line, [_indent(program.line_text(like.lineno)) + statement + "\n"])


def _counters(program: ProgramText, function: ast.AST) -> list[str]:
    """Locals that count: set to an integer or incremented by one."""
    names = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and _is_int(node.value):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and _is_int(node.value):
            names.append(node.target.id)
    return list(dict.fromkeys(names))


def extra_statement_mutants(program: ProgramText) -> Iterator[Mutant]:
    for block in _blocks(program):
        for statement in block:
            repeatable = isinstance(statement, (ast.Assign, ast.AugAssign)) or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call))
            if repeatable and _alone_on_line(program, statement):
                text = program.segment(statement)
                yield Mutant("extra_statement", f"line {statement.lineno}: `{text}` repeated", _inserted_after(program, statement.lineno, statement, text))
    for function in program.functions:
        loops = [n for n in ast.walk(function) if isinstance(n, (ast.For, ast.While)) and program.scope(n) is function]
        returns = [n for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None and program.scope(n) is function]
        last_return = max(returns, key=lambda r: r.lineno, default=None)
        extras = [program.segment(last_return)] if last_return and _alone_on_line(program, last_return) else []
        extras += [f"{name} += 1" for name in _counters(program, function)]
        for loop in loops:
            end = loop.body[-1].end_lineno
            for extra in extras:
                yield Mutant("extra_statement", f"line {end + 1}: `{extra}` added at the end of the loop", _inserted_after(program, end, loop.body[0], extra))


def _other_literal(program: ProgramText, node: ast.Constant, characters: list[str]) -> list[str]:
    """What a literal may wrongly be: 0 and 1 swapped, the other boolean, another one-character string of the file."""
    value = node.value
    if isinstance(value, bool):
        return [str(not value)]
    if isinstance(value, int):
        return [str({0: 1, 1: 0}.get(value, 0))]
    if isinstance(value, float):
        return ["1.0" if value == 0 else "0.0"]
    if isinstance(value, str) and len(value) == 1:
        quote = program.segment(node)[0]
        if quote not in "'\"":  # a prefixed literal (r'x', b'x')
            return []
        return [quote + c + quote for c in characters if c != value and c.isprintable() and c not in "\\'\""]
    return []


def wrong_constant_mutants(program: ProgramText) -> Iterator[Mutant]:
    characters = sorted({n.value for n in ast.walk(program.tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) == 1})
    for node in program.nodes():
        if not isinstance(node, ast.Constant) or isinstance(program.parents.get(node), (ast.JoinedStr, ast.FormattedValue)):
            continue
        if _is_int(node) and _in_arithmetic(program, node):
            continue  # that is off_by_one's
        parent = program.parents.get(node)
        target = parent if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub) else node
        old = program.segment(target)
        for new in _other_literal(program, node, characters):
            replaced = program.node_replaced(target, new)
            if replaced is not None:
                yield Mutant("wrong_constant", f"line {node.lineno}: {old} -> {new}", replaced)


# Leaving a clause out can expose an expression that needs its parentheses.
_LOW_PRECEDENCE = (ast.IfExp, ast.Lambda, ast.NamedExpr)
# A guard or branch longer than this is no slip of one line.
MAX_REMOVED_LINES = 5


def _clause_dropped(program: ProgramText) -> Iterator[Mutant]:
    for node in program.nodes():
        if not isinstance(node, ast.BoolOp) or node.lineno != node.end_lineno:
            continue
        word = _BOOLEAN[type(node.op)][0]
        for dropped in range(len(node.values)):
            kept = [v for i, v in enumerate(node.values) if i != dropped]
            parts = [f"({program.segment(v)})" if isinstance(v, _LOW_PRECEDENCE) else program.segment(v) for v in kept]
            yield Mutant("missing_logic", f"line {node.lineno}: `{program.segment(node.values[dropped])}` dropped from the {word}",
                         program.node_replaced(node, f" {word} ".join(parts)))


def _guard_removed(program: ProgramText) -> Iterator[Mutant]:
    for node in program.nodes():
        if not isinstance(node, ast.If) or node.orelse or not program.line_text(node.lineno).lstrip().startswith("if "):
            continue
        first, last = node.lineno + 1, node.body[-1].end_lineno
        if node.body[0].lineno != first or last - first + 1 > MAX_REMOVED_LINES:
            continue
        shift = len(_indent(program.line_text(first))) - len(_indent(program.line_text(node.lineno)))
        body = [line[shift:] if line[:shift].isspace() else line for line in program.lines[first - 1 : last]]
        yield Mutant("missing_logic", f"line {node.lineno}: guard `{program.line_text(node.lineno).strip()}` removed",
                     program.lines_replaced(node.lineno, last, body))


def _branch_dropped(program: ProgramText) -> Iterator[Mutant]:
    for node in program.nodes():
        if not isinstance(node, ast.If) or not node.orelse:
            continue
        branch = node.orelse[0]
        if isinstance(branch, ast.If) and program.line_text(branch.lineno).lstrip().startswith("elif "):
            first, last = branch.lineno, branch.body[-1].end_lineno
        else:
            headers = [n for n in range(node.body[-1].end_lineno + 1, branch.lineno) if program.line_text(n).strip().startswith("else")]
            if not headers:
                continue
            first, last = headers[0], node.orelse[-1].end_lineno
        if last - first + 1 <= MAX_REMOVED_LINES:
            header = program.line_text(first).strip()
            yield Mutant("missing_logic", f"line {first}: branch `{header}` dropped", program.lines_replaced(first, last, []))


def missing_logic_mutants(program: ProgramText) -> Iterator[Mutant]:
    yield from _clause_dropped(program)
    yield from _guard_removed(program)
    yield from _branch_dropped(program)


MUTATIONS = {
    "operator": operator_mutants,
    "off_by_one": off_by_one_mutants,
    "wrong_variable": wrong_variable_mutants,
    "missing_statement": missing_statement_mutants,
    "extra_statement": extra_statement_mutants,
    "wrong_constant": wrong_constant_mutants,
    "missing_logic": missing_logic_mutants,
}


def mutants(correct: str, kind: str) -> list[Mutant]:
    """The distinct mutants of one type that parse and change the code."""
    program = ProgramText(correct)
    kept: dict[str, Mutant] = {}
    for mutant in MUTATIONS[kind](program):
        if mutant.source in kept or not bug_lines(mutant.source, correct):
            continue
        try:
            ast.parse(mutant.source)
        except SyntaxError:
            continue
        kept[mutant.source] = mutant
    return list(kept.values())


# -- building the set ------------------------------------------------------------------


def _injected(runner: TestRunner, programs: dict[str, str], seed: int, per_type: int) -> list[Bug]:
    """Failing mutants, tried in a seeded order, each type spread over the programs."""
    untried = {}
    for kind in INJECTED:
        for name, correct in programs.items():
            candidates = mutants(correct, kind)
            random.Random(f"{seed}:{kind}:{name}").shuffle(candidates)
            untried[(kind, name)] = candidates
    found: dict[tuple[str, str], list[Bug]] = {pair: [] for pair in untried}
    chosen: dict[str, list[Bug]] = {kind: [] for kind in INJECTED}
    order = {kind: random.Random(f"{seed}:{kind}").sample(sorted(programs), len(programs)) for kind in INJECTED}
    for round_ in range(PER_PROGRAM):
        # Each open (type, program) tries its next mutant, all in one parallel batch, until one fails its tests.
        open_pairs = [pair for pair in untried if len(chosen[pair[0]]) < per_type and len(found[pair]) == round_]
        for _ in range(MAX_TRIES):
            batch = [(pair, untried[pair].pop(0)) for pair in open_pairs if untried[pair]]
            if not batch:
                break
            runs = runner.run_all([(pair[1], mutant.source) for pair, mutant in batch])
            for (pair, mutant), run in zip(batch, runs):
                if not run.passed:
                    kind, name = pair
                    found[pair].append(Bug(
                        f"{name}/{kind}{round_ + 1}", kind, name, mutant.source, programs[name],
                        bug_lines(mutant.source, programs[name]), tests_path(name), error_report(run), mutant.change,
                    ))
                    open_pairs.remove(pair)
        for kind in INJECTED:
            for name in order[kind]:
                if len(chosen[kind]) < per_type and len(found[(kind, name)]) > round_:
                    chosen[kind].append(found[(kind, name)][round_])
    return [bug for kind in INJECTED for bug in chosen[kind]]


def build(data: Path, seed: int, per_type: int, workers: int, timeout: float) -> list[Bug]:
    programs = load_programs(data, None)
    with TestRunner(data, workers, timeout) as runner:
        bugs = [
            Bug(p.name, "quixbugs", p.name, p.buggy, p.correct, p.bug_lines, tests_path(p.name), error_report(run), "QuixBugs' own bug")
            for p, run in zip(programs, runner.run_all([(p.name, p.buggy) for p in programs]))
            if not run.passed
        ]
        # Only programs whose correct version passes in time can tell a bug by its tests.
        healthy = {}
        for p, run in zip(programs, runner.run_all([(p.name, p.correct) for p in programs])):
            if run.passed:
                healthy[p.name] = p.correct
                runner.timeouts[p.name] = timeout + SLOW_FACTOR * run.seconds
        bugs += _injected(runner, healthy, seed, per_type)
    return sorted(bugs, key=lambda b: (BUG_TYPES.index(b.kind), b.program, b.name))


def _inputs_key(data: Path, parameters: dict) -> str:
    """A hash of what the set is built from: the data set, the code that builds it, the parameters."""
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode())
    here = Path(__file__).resolve().parent
    files = {name: here / name for name in ("debug_bugs.py", "quixbugs_programs.py")}
    for path in sorted(data.rglob("*")):
        relative = path.relative_to(data)
        if path.is_file() and not any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            files[f"data/{relative}"] = path
    for name, path in files.items():
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load_bugs(data: Path = DEFAULT_DATA, rebuild: bool = False, seed: int = SEED, per_type: int = PER_TYPE,
              workers: int = 2, timeout: float = BUILD_TIMEOUT_S) -> list[Bug]:
    """The dev set, from the cache when it was built from the same inputs."""
    key = _inputs_key(data, {"seed": seed, "per_type": per_type, "per_program": PER_PROGRAM, "tries": MAX_TRIES, "timeout": timeout})
    if not rebuild and CACHE.is_file():
        cached = json.loads(CACHE.read_text())
        if cached.get("key") == key:
            return [Bug(**bug) for bug in cached["bugs"]]
    started = time.perf_counter()
    print(f"building the debugging set (test runs on {workers} cores) ...", file=sys.stderr, flush=True)
    bugs = build(data, seed, per_type, workers, timeout)
    print(f"built {len(bugs)} bugs in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps({"key": key, "bugs": [asdict(bug) for bug in bugs]}, indent=1))
    return bugs


def select(bugs: list[Bug], kinds: list[str] | None = None, limit: int = 0) -> list[Bug]:
    """Bugs of the given types; with a limit, that many spread evenly over the types and, within a type, over its programs."""
    by_kind = {kind: [b for b in bugs if b.kind == kind] for kind in BUG_TYPES if not kinds or kind in kinds}
    by_kind = {kind: group for kind, group in by_kind.items() if group}
    if not limit or limit >= sum(map(len, by_kind.values())):
        return [bug for group in by_kind.values() for bug in group]
    quotas = {kind: 0 for kind in by_kind}
    while sum(quotas.values()) < limit:  # one more for each type that has more, in turn
        for kind in by_kind:
            if sum(quotas.values()) < limit and quotas[kind] < len(by_kind[kind]):
                quotas[kind] += 1
    # Each type starts at another point of its (alphabetical) list, so that a small limit does not take one program of each.
    return [
        group[int((i + (place + 0.5) / len(by_kind)) * len(group) / quotas[kind])]
        for place, (kind, group) in enumerate(by_kind.items())
        for i in range(quotas[kind])
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="QuixBugs folder")
    parser.add_argument("--rebuild", action="store_true", help="build even when the cache is up to date")
    parser.add_argument("--per-type", type=int, default=PER_TYPE, help="injected bugs of each type")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--show", metavar="NAME", help="print one bug")
    args = parser.parse_args(argv)
    bugs = load_bugs(args.data, args.rebuild, args.seed, args.per_type)
    if args.show:
        for bug in (b for b in bugs if b.name == args.show):
            print(f"{bug.name} ({bug.kind}): {bug.change}; bug lines {bug.bug_lines}; tests {bug.tests}")
            print("".join(difflib.unified_diff(bug.correct.splitlines(True), bug.buggy.splitlines(True), "correct", "buggy")))
            print(bug.error)
        return 0
    for kind in BUG_TYPES:
        group = [b for b in bugs if b.kind == kind]
        timeouts = sum("does not terminate" in b.error for b in group)
        print(f"{kind:18} {len(group):4} bugs in {len({b.program for b in group}):2} programs ({timeouts} that do not terminate)")
    print(f"{'all':18} {len(bugs):4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
