"""Infilling beyond Python, judged by exact match: suggestions as shown by the server vs the bare model.

    python benchmarks/infill_languages.py [--model PATH] [--per-situation 30] [--languages javascript,java]
        [--situations a,b,c,d,e,f,g,h,k] [--source javascript=DIR] [--source java=ZIP_OR_DIR] [--set NAME=VALUE ...]

infill.py runs programs' tests, and its programs are Python; held-out sets need
not be. Here the holes are the same editor situations (infill_holes.py: a-h, k) cut
with tree-sitter from real code not written here - by default npm's own
JavaScript and the JDK's Java sources found on this machine - and a suggestion
counts when accepting it gives back the original code (non-blank lines compared
with their runs of white space collapsed; in e the statement's `;` may still be
missing, as the user types it after the auto-closed bracket).
A document is a window of the file made of whole declarations (the method or
function holding the hole, and the ones before it while the window stays within
MAX_WINDOW_LINES), so prompts stay the size of a small file on two CPU threads
and, as in an editor, the code around the hole parses (a window cut mid-method
would make the server's syntax check reject right answers).
Both arms see the same document, as infill.py's: the bare model (plain PSM prompt,
greedy, answer cut to the hole's lines) and the server over stdio LSP (default
settings, confidence gate off), in one run.
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import re
import zipfile
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from pathlib import Path

from bench_common import QWEN_05B, add_settings_option, completion_settings, median, require_model, result_line
from infill import Record, answer_both, rate
from infill_holes import SITUATIONS, Hole, auto_closed_cut, sample

MAX_WINDOW_LINES = 48
# Node types that are a whole function's or method's body when they are its `body` (h).
_FUNCTION_TYPES = frozenset({"function_declaration", "generator_function_declaration", "function_expression", "arrow_function", "method_definition", "method_declaration", "constructor_declaration"})
# Expression node types an inner-expression hole (g) may take out: by suffix, less these.
_EXPRESSION_ENDS = ("expression", "invocation", "access", "identifier", "literal")
_NOT_EXPRESSIONS = frozenset({"parenthesized_expression", "type_identifier", "statement_identifier", "property_identifier"})
# Fields that bind or declare a name rather than compute a value.
_BINDING_FIELDS = ("name", "left", "declarator", "type", "key")
_CLOSING = set(")]}\"'`; \t")
# Nodes whose children are the declarations a window is made of.
_DECLARATION_LISTS = frozenset({"program", "class_body", "interface_body", "enum_body_declarations"})
# Files longer than this are skipped (generated tables, bundles); so are minified ones.
MAX_FILE_LINES = 4000
MAX_LINE_CHARS = 160


@dataclass(frozen=True)
class Language:
    name: str
    extension: str
    grammar: str  # the module of its tree-sitter grammar wheel
    blocks: frozenset[str]  # node types whose named children are statements of a function body
    default_sources: tuple[str, ...]  # globs of a zip or a folder holding such files


LANGUAGES = {
    "javascript": Language("javascript", "js", "tree_sitter_javascript", frozenset({"statement_block"}), ("/usr/lib/node_modules/npm", "/usr/local/lib/node_modules/npm")),
    "java": Language("java", "java", "tree_sitter_java", frozenset({"block", "constructor_body"}), ("/usr/lib/jvm/*/lib/src.zip",)),
}

_TOKEN = re.compile(r"[A-Za-z_$][\w$]*|\d+|\S")
_OPERATOR_CHARS = set("=+-*/%<>!&|")


def source_files(language: Language, source: str | None, count: int, seed: int) -> list[tuple[str, str]]:
    """(name, text) of `count` files of the language, picked at random from a folder or a zip."""
    places = [source] if source else [p for pattern in language.default_sources for p in sorted(glob.glob(pattern))]
    suffix = "." + language.extension
    for place in places:
        if place.endswith(".zip") and Path(place).is_file():
            archive = zipfile.ZipFile(place)
            names = sorted(n for n in archive.namelist() if n.endswith(suffix) and "/java/" in n)

            def read(n: str, archive: zipfile.ZipFile = archive) -> str:
                return archive.read(n).decode("utf-8", "replace")
        elif Path(place).is_dir():
            names = sorted(str(p) for p in Path(place).rglob("*" + suffix) if p.is_file())

            def read(n: str) -> str:
                return Path(n).read_text("utf-8", "replace")
        else:
            continue
        random.Random(f"{seed}-{language.name}").shuffle(names)
        files = []
        for name in names:
            text = read(name)
            lines = text.split("\n")
            if len(lines) > MAX_FILE_LINES or max(map(len, lines)) > MAX_LINE_CHARS or not text.isascii():
                continue
            files.append((re.sub(r"[^\w.-]+", "-", name.strip("/"))[-80:], text))
            if len(files) == count:
                break
        return files
    raise SystemExit(f"no {language.name} sources found (give --source {language.name}=PATH)")


def _statement_lines(root, blocks: frozenset[str], lines: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
    """0-based lines holding one whole statement (or a compound statement's header) in a function body; block bodies of 2-6 lines."""
    singles: set[int] = set()
    bodies: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type not in blocks:
            continue
        first, last = node.start_point.row, node.end_point.row
        if last - first - 1 in range(2, 7) and lines[first].rstrip().endswith("{") and lines[last].strip() == "}":
            if all(lines[row].strip() for row in range(first + 1, last)):
                bodies.add((first + 1, last - 1))
        for statement in node.named_children:
            if statement.type == "comment":
                continue
            row = statement.start_point.row
            line = lines[row].strip()
            if statement.start_point.row == statement.end_point.row:
                if line == statement.text.decode("utf-8", "replace").strip():
                    singles.add(row)
            elif line.endswith("{") and line.startswith(statement.text.decode("utf-8", "replace").split("\n", 1)[0].strip()):
                singles.add(row)  # a compound statement's header
    return sorted(singles), sorted(bodies)


def _function_bodies(root, lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) 0-based inner lines of function and method bodies of 2-20 lines, braces on lines of their own rows."""
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        body = node.child_by_field_name("body") if node.type in _FUNCTION_TYPES else None
        if body is None or body.type not in ("statement_block", "block", "constructor_body"):
            continue
        first, last = body.start_point.row, body.end_point.row
        if 2 <= last - first - 1 <= 20 and lines[first].rstrip().endswith("{") and lines[last].strip() == "}":
            found.append((first + 1, last - 1))
    return sorted(found)


def _inner_expression(statement, row: int, line: str) -> tuple[str, int, int] | None:
    """(kind, start, end column) of the longest expression on `row` with more than closers and `;` after it there (g)."""
    found = []
    stack = [statement]
    while stack:
        node = stack.pop()
        for index, child in enumerate(node.named_children):
            stack.append(child)
            if child.start_point.row != row or child.end_point.row != row:
                continue
            if not child.type.endswith(_EXPRESSION_ENDS) or child.type in _NOT_EXPRESSIONS:
                continue
            if node.field_name_for_named_child(index) in _BINDING_FIELDS and node.type != "binary_expression":
                continue
            start, end = child.start_point.column, child.end_point.column
            after = line[end:].rstrip()
            if end - start < 3 or set(after) <= _CLOSING:
                continue
            if node.type == "parenthesized_expression" and node.parent is not None and node.parent.type in ("if_statement", "while_statement"):
                kind = "cond"
            elif node.type in ("arguments", "argument_list"):
                kind = "arg"
            else:
                kind = "operand"
            found.append((end - start, -start, kind, start, end))
    if not found:
        return None
    _, _, kind, start, end = max(found)
    return kind, start, end


def _statements_by_row(root, blocks: frozenset[str]) -> dict[int, object]:
    """The statement of a function body that starts on each row."""
    found = {}
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type in blocks:
            for statement in node.named_children:
                found.setdefault(statement.start_point.row, statement)
    return found


def _partial_cuts(line: str) -> dict[str, int]:
    """Cursor columns for each kind of partly typed line (d), with a tokenizer good enough for C-like languages."""
    indent = len(line) - len(line.lstrip())
    last = len(line.rstrip())
    cuts: dict[str, int] = {}
    tokens = list(_TOKEN.finditer(line))
    for i, token in enumerate(tokens):
        start, end = token.start(), token.end()
        if end >= last:
            break
        text = token.group()
        if text[0].isalpha() and len(text) >= 4 and i > 0 and "ident" not in cuts:
            cuts["ident"] = start + len(text) // 2
        elif text == "." and "dot" not in cuts:
            cuts["dot"] = end
        elif (text in _OPERATOR_CHARS or text == "return") and "op" not in cuts and line[end : end + 1] not in _OPERATOR_CHARS:
            cuts["op"] = end + 1 if line[end : end + 1] == " " else end
    return {kind: col for kind, col in cuts.items() if indent < col < last}


def _windows(root, line_count: int) -> list[tuple[int, int] | None]:
    """Per line, the window (first, last line) of whole declarations that holds it; None where none fits."""
    windows: list[tuple[int, int] | None] = [None] * line_count
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type not in _DECLARATION_LISTS:
            stack.extend(node.named_children)
            continue
        members = [child for child in node.named_children if child.type != "comment"]
        for number, member in enumerate(members):
            first, last = member.start_point.row, member.end_point.row
            if last - first + 1 > MAX_WINDOW_LINES:
                stack.append(member)  # too big: its own declarations may fit
                continue
            for earlier in reversed(members[:number]):
                if last - earlier.start_point.row + 1 > MAX_WINDOW_LINES:
                    break
                first = earlier.start_point.row
            for row in range(member.start_point.row, last + 1):
                windows[row] = (first, last)
    return windows


def cut_holes(name: str, text: str, language: Language, parser) -> list[tuple[Hole, str]]:
    """Every hole this file offers, each with the original window it must give back."""
    lines = text.split("\n")
    root = parser.parse(text.encode()).root_node
    singles, bodies = _statement_lines(root, language.blocks, lines)
    statements = _statements_by_row(root, language.blocks)
    windows = _windows(root, len(lines))
    found: list[tuple[Hole, str]] = []

    def hole(situation: str, kind: str, first: int, count: int, replacement: list[str], col: int) -> None:
        window = windows[first]
        if window is None or window[1] < first + count - 1:
            return
        top, bottom = window[0], window[1] + 1
        original = "\n".join(lines[top:bottom])
        if parser.parse(original.encode()).root_node.has_error:
            return
        kept = lines[top:first] + replacement + lines[first + count : bottom]
        cursor_line = first - top
        offset = sum(len(x) + 1 for x in kept[:cursor_line]) + col
        document = "\n".join(kept)
        found.append((Hole(name, situation, kind, first, count, document, offset, cursor_line, col, language.extension), original))

    for k in singles:
        line = lines[k]
        indent = line[: len(line) - len(line.lstrip())]
        hole("a", "", k, 1, [indent], len(indent))
        hole("b", "", k, 1, [""], 0)
        if k + 1 < len(lines) and lines[k + 1].strip():
            hole("c", "", k, 1, [], 0)
        for kind, col in _partial_cuts(line).items():
            hole("d", kind, k, 1, [line[:col]], col)
        code = line.rstrip()
        statement = code[:-1] if code.endswith(";") else code
        closed = auto_closed_cut(statement)
        if closed is not None:
            col, partner = closed
            hole("e", "", k, 1, [statement[:col] + partner], col)
        inner = _inner_expression(statements[k], k, line) if k in statements else None
        if inner is not None:
            kind, start, end = inner
            hole("g", kind, k, 1, [line[:start] + line[end:]], start)
    for first, last in bodies:
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        hole("f", "", first, last - first + 1, [indent], len(indent))
        for k in range(first, last + 1):
            for count in range(2, 5):
                if k + count - 1 <= last and lines[k].strip() and k + count < len(lines) and lines[k + count].strip():
                    hole("k", "", k, count, [], 0)
    for first, last in _function_bodies(root, lines):
        code = next((line for line in lines[first : last + 1] if line.strip()), "")
        indent = code[: len(code) - len(code.lstrip())]
        hole("h", "", first, last - first + 1, [indent], len(indent))
    return found


def _normalised(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def gives_back(accepted: str, original: str, hole: Hole) -> bool:
    """Whether the document after accepting is the original code (e: the statement's `;` may be typed later)."""
    got, want = _normalised(accepted), _normalised(original)
    if got == want:
        return True
    if hole.situation != "e":
        return False
    # The hole's line is the first differing one; without its final `;` it may match.
    return len(got) == len(want) and all(g == w or (w.endswith(";") and g == w[:-1]) for g, w in zip(got, want))


def edit_similarity(accepted: str, original: str) -> float:
    """How close the code around the hole came to the original: difflib's ratio over the lines that differ."""
    got, want = _normalised(accepted), _normalised(original)
    start = 0
    while start < min(len(got), len(want)) and got[start] == want[start]:
        start += 1
    end = 0
    while end < min(len(got), len(want)) - start and got[-1 - end] == want[-1 - end]:
        end += 1
    return SequenceMatcher(None, "\n".join(got[start : len(got) - end]), "\n".join(want[start : len(want) - end]), autojunk=False).ratio()


def report(records: list[Record], similarity: dict[tuple[int, str], float], model: Path) -> None:
    figures: dict[str, object] = {"model": model.stem}
    print(f"\n{'language':<12}{'situation':<10}{'n':>5}{'shown':>8}{'raw':>8}{'won':>5}{'lost':>5}{'ES shown':>10}{'ES raw':>8}{'empty shown':>13}{'empty raw':>11}{'p50 shown':>11}{'p50 raw':>9}")
    gaps = []
    for language in sorted({r.hole.extension for r in records}):
        mine = [r for r in records if r.hole.extension == language]
        groups = [(s, [r for r in mine if r.hole.situation == s]) for s in SITUATIONS] + [("all", mine)]
        for situation, group in groups:
            if not group:
                continue
            shown = [r.shown.passed for r in group]
            raw = [r.raw.passed for r in group if r.raw]
            won = sum(r.shown.passed and not r.raw.passed for r in group if r.raw)
            lost = sum(r.raw.passed and not r.shown.passed for r in group if r.raw)
            print(
                f"{language:<12}{situation:<10}{len(group):>5}{rate(shown):>8.3f}{rate(raw):>8.3f}{won:>5}{lost:>5}"
                f"{rate([similarity[id(r), 'shown'] for r in group]):>10.3f}{rate([similarity[id(r), 'raw'] for r in group if r.raw]):>8.3f}"
                f"{rate([not r.shown.inserted for r in group]):>13.3f}{rate([not r.raw.inserted for r in group if r.raw]):>11.3f}"
                f"{median([r.shown.latency_ms for r in group]):>11.0f}{median([r.raw.latency_ms for r in group if r.raw]):>9.0f}"
            )
            if situation == "all":
                figures[f"shown_{language}"] = round(rate(shown), 3)
                figures[f"raw_{language}"] = round(rate(raw), 3)
                figures[f"es_shown_{language}"] = round(rate([similarity[id(r), "shown"] for r in group]), 3)
                figures[f"es_raw_{language}"] = round(rate([similarity[id(r), "raw"] for r in group if r.raw]), 3)
            elif raw:
                gaps.append(rate(shown) - rate(raw))
    if gaps:
        figures["worst_gap"] = round(min(gaps), 3)
    print(result_line(**figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--situations", default=",".join(SITUATIONS))
    parser.add_argument("--per-situation", type=int, default=30, help="holes per language and situation")
    parser.add_argument("--files", type=int, default=60, help="files sampled per language")
    parser.add_argument("--source", action="append", default=[], metavar="LANGUAGE=PATH", help="a folder or zip of that language's files")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument("--json-out", type=Path)
    add_settings_option(parser)
    args = parser.parse_args()
    model = require_model(args.model)
    sources = dict(item.split("=", 1) for item in args.source)
    wanted = set(args.situations.split(","))

    import importlib

    import tree_sitter

    originals: dict[Hole, str] = {}
    holes: list[Hole] = []
    for name in args.languages.split(","):
        language = LANGUAGES[name]
        ts_parser = tree_sitter.Parser(tree_sitter.Language(importlib.import_module(language.grammar).language()))
        cut = [pair for file, text in source_files(language, sources.get(name), args.files, args.seed) for pair in cut_holes(file, text, language, ts_parser)]
        originals.update((hole, original) for hole, original in cut if hole.situation in wanted)
        picked = sample([hole for hole, _ in cut if hole.situation in wanted], args.per_situation, args.seed)
        print(f"{name}: {len(picked)} holes: " + ", ".join(f"{s}={sum(h.situation == s for h in picked)}" for s in SITUATIONS))
        holes += picked
    records = answer_both(model, holes, args, completion_settings(args.set))
    similarity: dict[tuple[int, str], float] = {}
    for record in records:
        for which in ("raw", "shown"):
            answer = getattr(record, which)
            if answer is not None:
                accepted, original = answer.program(record.hole), originals[record.hole]
                answer.passed = gives_back(accepted, original, record.hole)
                similarity[id(record), which] = edit_similarity(accepted, original)
    if args.json_out:
        args.json_out.write_text(json.dumps([asdict(r) for r in records], indent=1))
    report(records, similarity, model)


if __name__ == "__main__":
    main()
