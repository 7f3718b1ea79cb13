"""Holes cut from programs that have tests, one per editor situation.

A hole is a document as the editor holds it while the user writes a piece of a
correct program, the cursor, and what the missing text was. Accepting a
suggestion means inserting it at the cursor; the program's tests then decide.

Situations (one line missing inside a function unless said otherwise):
  a  empty line after Enter with auto-indent, cursor after the indentation
  b  empty line, cursor at column 0
  c  cursor at column 0 before the existing next line (insert a line above it)
  d  part of the line typed (inside an identifier, after a dot, after an operator), nothing after the cursor
  e  part typed up to an opening bracket or quote, the editor's auto-closed partner after the cursor
  f  a block body of 2-6 lines missing, cursor on an empty line after auto-indent
  g  an expression inside a line missing, code after it on that line (a condition before its `:`,
     an argument before the next, an operand): the cursor where it began
  h  a whole function body missing (after its signature and docstring), cursor on an empty line
     after auto-indent: writing a new function, as HumanEval asks
  i  a span across lines missing, from inside one line to inside a later one (1-3 lines on), cut
     at token boundaries (HumanEval's random-span infilling): kind `mid` leaves the rest of the
     last line after the cursor, kind `eol` takes the last line to its end (nothing after the cursor)
  j  a random span of characters missing, from anywhere in a function body to anywhere up to 3 lines
     on (start and end drawn uniformly, so inside words and indentation too, as held-out random-span
     sets draw them): kind `one` within one line, `multi` across lines
  k  2-4 whole lines of a function body missing, cursor at column 0 before the existing next line
     (HumanEval's multi-line infilling as an editor holds it: the prefix ends with a newline, the
     suffix starts with the next line's indentation)
"""

from __future__ import annotations

import ast
import io
import random
import tokenize
from dataclasses import dataclass

SITUATIONS = ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_OPERATORS = {"=", "+", "-", "*", "/", "//", "%", "<", ">", "<=", ">=", "==", "!=", "+=", "-=", "*=", "and", "or", "not", "in", "return"}


@dataclass(frozen=True)
class Hole:
    program: str
    situation: str
    kind: str  # the situation's variant (d: ident/dot/op)
    line: int  # 0-based first line of the hole in the original program
    lines: int  # how many lines the hole spans in the original
    text: str  # the document as the editor holds it
    offset: int  # the cursor
    cursor_line: int
    cursor_col: int  # in code points (the benchmark's programs are ASCII)
    extension: str = "py"  # the document's file type (the server picks the language by it)

    def accept(self, inserted: str) -> str:
        """The program after inserting text at the cursor."""
        return self.text[: self.offset] + inserted + self.text[self.offset :]


def _single_line_statements(tree: ast.AST, source_lines: list[str]) -> list[int]:
    """0-based lines inside function bodies that hold one whole statement or a compound header."""
    found: set[int] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if node is function or not isinstance(node, ast.stmt):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                continue  # docstrings are prose
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            body = getattr(node, "body", None)
            if body:
                # A compound statement: its header, when the header is one line.
                if body[0].lineno > node.lineno and source_lines[node.lineno - 1].rstrip().endswith(":"):
                    found.add(node.lineno - 1)
            elif node.lineno == node.end_lineno:
                found.add(node.lineno - 1)
    return sorted(found)


def _blocks(tree: ast.AST) -> list[tuple[int, int]]:
    """(first, last) 0-based lines of block bodies of 2-6 lines inside functions."""
    found: set[tuple[int, int]] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            for field in ("body", "orelse"):
                body = getattr(node, field, None)
                if node is function or not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
                    continue
                first, last = body[0].lineno - 1, body[-1].end_lineno - 1
                if body[0].lineno > getattr(node, "lineno", 0) and 2 <= last - first + 1 <= 6:
                    found.add((first, last))
    return sorted(found)


def _function_bodies(tree: ast.AST) -> list[tuple[int, int]]:
    """(first, last) 0-based lines of function bodies (after a docstring) of 2-20 lines."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = function.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body = body[1:]
        if body and body[0].lineno > function.lineno:
            first, last = body[0].lineno - 1, body[-1].end_lineno - 1
            if 2 <= last - first + 1 <= 20:
                found.append((first, last))
    return found


def _line_tokens(line: str) -> list[tokenize.TokenInfo]:
    """The tokens of one line read on its own, columns relative to its indentation ([] when it does not tokenize alone)."""
    try:
        return list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def _token_starts(line: str) -> list[int]:
    """Columns where the line's tokens start, after its indentation."""
    indent = len(line) - len(line.lstrip())
    skipped = {tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    return [indent + t.start[1] for t in _line_tokens(line) if t.type not in skipped]


def _spans(tree: ast.AST, source_lines: list[str], name: str) -> list[tuple[str, int, int, int, int]]:
    """(kind, first line, start column, last line, end column) of spans across 2-4 lines of one function body (i)."""
    found = []
    for first, last in _function_bodies(tree):
        for k in range(first, last):
            starts = _token_starts(source_lines[k])[1:]  # at least one token typed
            for m in range(k + 1, min(k + 3, last) + 1):
                ends = _token_starts(source_lines[m])[1:]  # the span takes at least the line's first token
                if not starts or not source_lines[m].strip():
                    continue
                pick = random.Random(f"{name}-{k}-{m}")
                start = pick.choice(starts)
                if ends:
                    found.append(("mid", k, start, m, pick.choice(ends)))
                found.append(("eol", k, start, m, len(source_lines[m].rstrip())))
    return found


# Character spans drawn per function body (j).
_CHARACTER_SPANS = 6


def _character_spans(tree: ast.AST, source_lines: list[str], name: str) -> list[tuple[str, int, int, int, int]]:
    """(kind, first line, start column, last line, end column) of random character spans in function bodies (j)."""
    found = []
    for first, last in _function_bodies(tree):
        pick = random.Random(f"{name}-{first}-chars")
        for _ in range(_CHARACTER_SPANS):
            k = pick.randint(first, last)
            m = pick.randint(k, min(k + 3, last))
            start = pick.randint(0, len(source_lines[k]))
            end = pick.randint(0, len(source_lines[m]))
            missing = "\n".join([source_lines[k][start:], *source_lines[k + 1 : m], source_lines[m][:end]]) if m > k else source_lines[k][start:end]
            if missing.strip():
                found.append(("one" if m == k else "multi", k, start, m, end))
    return sorted(set(found))


def _partial_cuts(line: str) -> dict[str, int]:
    """Cursor columns in a line for each kind of partly typed line (d)."""
    indent = len(line) - len(line.lstrip())
    cuts: dict[str, int] = {}
    last = len(line.rstrip())
    for i, token in enumerate(_line_tokens(line)):
        start, end = indent + token.start[1], indent + token.end[1]
        if end >= last:
            break
        if token.type == tokenize.NAME and len(token.string) >= 4 and "ident" not in cuts and i > 0:
            cuts["ident"] = start + len(token.string) // 2
        elif token.string == "." and "dot" not in cuts:
            cuts["dot"] = end
        elif token.string in _OPERATORS and "op" not in cuts:
            # The user typed the operator and the space after it, as people do.
            cuts["op"] = end + 1 if line[end : end + 1] == " " else end
    return {kind: col for kind, col in cuts.items() if indent < col < last}


# Parts of a statement that are its own line's code, not a nested body (compound statements).
_HEADER_FIELDS = {ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"), ast.With: ("items",)}
_CLOSING = set(")]}\"' \t")


def _inner_expression(statement: ast.stmt, line: str, number: int) -> tuple[str, int, int] | None:
    """(kind, start column, end column) of the longest expression on line `number` (1-based) with code after it there (g).

    Kinds: `cond` (the test of an if or while), `arg` (an argument of a call), `operand` (any other).
    Only when something other than closing brackets and quotes follows it: that case is e's.
    """
    header = _HEADER_FIELDS.get(type(statement))
    found: list[tuple[int, str, int, int]] = []
    for parent in ast.walk(statement):
        if parent is not statement and isinstance(parent, ast.stmt):
            continue  # a nested body's statement is on lines of its own
        for name, value in ast.iter_fields(parent):
            if parent is statement and header is not None and name not in header:
                continue
            for child in value if isinstance(value, list) else [value]:
                if not isinstance(child, ast.expr) or child.lineno != number or child.end_lineno != number:
                    continue
                if isinstance(getattr(child, "ctx", None), ast.Store):
                    continue  # a name being bound is the user's choice, not the code's
                start, end = child.col_offset, child.end_col_offset
                after = line[end:].rstrip()
                if end - start < 3 or not after or set(after) <= _CLOSING:
                    continue
                if parent is statement and name == "test":
                    kind = "cond"
                elif isinstance(parent, ast.Call) and name == "args":
                    kind = "arg"
                else:
                    kind = "operand"
                found.append((end - start, kind, start, end))
    if not found:
        return None
    _, kind, start, end = max(found, key=lambda f: (f[0], -f[2]))
    return kind, start, end


def auto_closed_cut(line: str) -> tuple[int, str] | None:
    """(column after an opener, its auto-inserted partner) for the bracket or quote that closes the line (e).

    Only a partner that ends the line: the editor typed it when the user typed
    the opener, so everything the user still has to write comes before it.
    """
    code = line.rstrip()
    if not code or code[-1] not in ")]}'\"":
        return None
    depth = 0
    for col in range(len(code) - 1, -1, -1):
        ch = code[col]
        if code[-1] in "'\"":
            if ch == code[-1] and col < len(code) - 1:
                return (col + 1, ch) if col + 1 < len(code) - 1 else None
            continue
        if ch in ")]}":
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth == 0:
                return (col + 1, _CLOSERS[ch]) if col + 1 < len(code) - 1 and _CLOSERS[ch] == code[-1] else None
    return None


def cut_holes(name: str, source: str) -> list[Hole]:
    """Every hole of every situation that this program offers."""
    lines = source.split("\n")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    holes: list[Hole] = []

    def hole(situation: str, kind: str, line: int, count: int, kept: list[str], cursor_line: int, col: int) -> None:
        text = "\n".join(kept)
        offset = sum(len(x) + 1 for x in kept[:cursor_line]) + col
        holes.append(Hole(name, situation, kind, line, count, text, offset, cursor_line, col))

    statements = {node.lineno - 1: node for node in ast.walk(tree) if isinstance(node, ast.stmt)}
    for k in _single_line_statements(tree, lines):
        line = lines[k]
        indent = line[: len(line) - len(line.lstrip())]
        above, below = lines[:k], lines[k + 1 :]
        hole("a", "", k, 1, above + [indent] + below, k, len(indent))
        hole("b", "", k, 1, above + [""] + below, k, 0)
        if below and below[0].strip():
            hole("c", "", k, 1, above + below, k, 0)
        for kind, col in _partial_cuts(line).items():
            hole("d", kind, k, 1, above + [line[:col]] + below, k, col)
        closed = auto_closed_cut(line)
        if closed is not None:
            col, partner = closed
            hole("e", "", k, 1, above + [line[:col] + partner] + below, k, col)
        inner = _inner_expression(statements[k], line, k + 1) if k in statements else None
        if inner is not None:
            kind, start, end = inner
            hole("g", kind, k, 1, above + [line[:start] + line[end:]] + below, k, start)
    for first, last in _blocks(tree):
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        hole("f", "", first, last - first + 1, lines[:first] + [indent] + lines[last + 1 :], first, len(indent))
    for first, last in _function_bodies(tree):
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        hole("h", "", first, last - first + 1, lines[:first] + [indent] + lines[last + 1 :], first, len(indent))
    for first, last in _function_bodies(tree):
        for k in range(first, last + 1):
            for count in range(2, 5):
                below = lines[k + count] if k + count < len(lines) else ""
                if k + count - 1 <= last and lines[k].strip() and below.strip():
                    hole("k", "", k, count, lines[:k] + lines[k + count :], k, 0)
    for situation, spans in (("i", _spans(tree, lines, name)), ("j", _character_spans(tree, lines, name))):
        for kind, k, start, m, end in spans:
            hole(situation, kind, k, m - k + 1, lines[:k] + [lines[k][:start] + lines[m][end:]] + lines[m + 1 :], k, start)
    return holes


def sample(holes: list[Hole], per_situation: int, seed: int) -> list[Hole]:
    """Up to `per_situation` holes of each situation, spread over programs (a fixed seed)."""
    picked: list[Hole] = []
    for situation in SITUATIONS:
        pool = [h for h in holes if h.situation == situation]
        random.Random(f"{seed}-{situation}").shuffle(pool)
        # Round-robin over programs so no single long program dominates.
        by_program: dict[str, list[Hole]] = {}
        for h in pool:
            by_program.setdefault(h.program, []).append(h)
        queues = list(by_program.values())
        chosen: list[Hole] = []
        while queues and len(chosen) < per_situation:
            for queue in list(queues):
                if queue and len(chosen) < per_situation:
                    chosen.append(queue.pop())
                if not queue:
                    queues.remove(queue)
        picked += sorted(chosen, key=lambda h: (h.program, h.line))
    return picked
