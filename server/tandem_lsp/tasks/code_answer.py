"""A model's code answer folded back into the file it was asked about.

Small chat models fix code best the way they were trained to: by writing the
corrected code out in a fenced block. They rarely give reliable line numbers.
So the answer is matched to the file by what it defines: each function or
class in the block replaces the file's definition of the same name, and a
function or class the file does not have yet (a helper the fix needs) goes in
beside the definition it came with in the answer; a block
that is the whole file replaces the file; a fragment without definitions
replaces the stretch of the file it most resembles. Anything that cannot be
placed is no fix at all (None), never a guess at a position.
"""

from __future__ import annotations

import difflib
import re

from tandem_lsp.context.symbols import Definition, parse_source
from tandem_lsp.indentation import leading_whitespace

_FENCED = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.DOTALL)
# A fragment must resemble the stretch it replaces this much (difflib ratio over lines).
MIN_FRAGMENT_SIMILARITY = 0.6
# A block without matching definitions but this much of the file's length is taken as the whole file.
WHOLE_FILE_SHARE = 0.6


def code_block(answer: str) -> str | None:
    """The answer's code: its longest fenced block (an unclosed last block counts), else None."""
    blocks = [b for b in _FENCED.findall(answer) if b.strip()]
    if not blocks:
        return None
    return max(blocks, key=len)


def prose(answer: str) -> str:
    """The answer without its code blocks: the model's explanation."""
    return re.sub(r"\s*\n{3,}", "\n\n", _FENCED.sub("", answer)).strip()


def _outermost(definitions: list[Definition]) -> list[Definition]:
    spans = sorted(definitions, key=lambda d: (d.start_line, -d.end_line))
    kept: list[Definition] = []
    for definition in spans:
        if definition.kind in ("variable", "constant", "field"):
            continue
        if kept and definition.start_line <= kept[-1].end_line:
            continue
        kept.append(definition)
    return kept


def _reindented(lines: list[str], indent: str) -> list[str]:
    """`lines` moved so that the first one starts at `indent` (a method answered at column 0, say)."""
    current = leading_whitespace(lines[0]) if lines else ""
    if current == indent:
        return lines
    moved = []
    for line in lines:
        if not line.strip():
            moved.append("")
        elif line.startswith(current):
            moved.append(indent + line[len(current) :])
        else:
            moved.append(indent + line.lstrip())
    return moved


def _definitions(text: str, grammar: str) -> list[Definition]:
    return list(parse_source("<answer>", text.encode("utf-8", errors="replace"), grammar).definitions)


def _by_definitions(lines: list[str], text: str, block: str, grammar: str) -> list[str] | None:
    block_lines = block.splitlines()
    ours = _definitions(text, grammar)
    # Each answered definition with the file's definition of the same name, or None when the file lacks it.
    matched: list[tuple[Definition, Definition | None]] = []
    for answered in _outermost(_definitions(block, grammar)):
        same = [d for d in ours if d.name == answered.name and (d.kind == answered.kind or {d.kind, answered.kind} <= {"function", "method"})]
        # Of several same-named definitions, the one of the most similar length is the one meant.
        size = answered.end_line - answered.start_line
        matched.append((answered, min(same, key=lambda d: abs((d.end_line - d.start_line) - size)) if same else None))
    if not any(target for _, target in matched):
        return None
    needed = _helpers_needed(block_lines, matched)
    # (the file's definition, the answer's, the helpers before it in the answer, and after it)
    placed: list[tuple[Definition, Definition, list[Definition], list[Definition]]] = []
    helpers: list[Definition] = []
    for answered, target in matched:
        if target is None:
            if answered.name in needed:
                helpers.append(answered)
            continue
        placed.append((target, answered, helpers, []))
        helpers = []
    placed[-1][3].extend(helpers)  # helpers after the last placed definition follow it
    replacements: list[tuple[int, int, list[str]]] = []
    for target, answered, before, after in placed:
        indent = leading_whitespace(lines[target.start_line])
        new = _spaced([_lines_of(block_lines, d) for d in (*before, answered, *after)], nested=bool(indent))
        replacements.append((target.start_line, target.end_line, _reindented(new, indent)))
    replacements.sort()
    if any(a[1] >= b[0] for a, b in zip(replacements, replacements[1:])):
        return None  # two answered definitions claim overlapping lines: no sure placement
    result = list(lines)
    for start, end, new in reversed(replacements):
        result[start : end + 1] = new
    return _with_new_imports(result, block_lines, grammar)


def _helpers_needed(block_lines: list[str], matched: list[tuple[Definition, Definition | None]]) -> set[str]:
    """Names of answered definitions the file lacks that the placed ones use (directly or through each other).

    Anything else new in the answer (a test, a `main`) is not part of the fix.
    """
    new = {answered.name: answered for answered, target in matched if target is None}
    used_text = "\n".join("\n".join(_lines_of(block_lines, answered)) for answered, target in matched if target is not None)
    needed: set[str] = set()
    while True:
        found = {name for name in new if name not in needed and re.search(rf"\b{re.escape(name)}\b", used_text)}
        if not found:
            return needed
        needed |= found
        used_text = "\n".join("\n".join(_lines_of(block_lines, new[name])) for name in found)


def _lines_of(block_lines: list[str], definition: Definition) -> list[str]:
    return block_lines[definition.start_line : definition.end_line + 1]


def _spaced(pieces: list[list[str]], nested: bool) -> list[str]:
    """Definitions one after another, apart by blank lines as top-level (two) or nested (one) ones are."""
    gap = [""] * (1 if nested else 2)
    joined: list[str] = []
    for piece in pieces:
        joined += (gap if joined else []) + piece
    return joined


_IMPORT = re.compile(r"^(import\s+\S|from\s+\S+\s+import\s)")


def _with_new_imports(lines: list[str], block_lines: list[str], grammar: str) -> list[str]:
    """Python imports the answer added at its top (a fix may need `import math`), put after the file's own."""
    if grammar != "python":
        return lines
    have = {line.strip() for line in lines}
    added = [line.strip() for line in block_lines if _IMPORT.match(line) and line.strip() not in have]
    if not added:
        return lines
    last_import = max((i for i, line in enumerate(lines) if _IMPORT.match(line)), default=-1)
    return lines[: last_import + 1] + added + lines[last_import + 1 :]


def _by_resemblance(lines: list[str], block: str) -> list[str] | None:
    """The block replaces the window of the file (same length, give or take two lines) it resembles most."""
    new = block.splitlines()
    best: tuple[float, int, int] | None = None
    stripped = [line.strip() for line in lines]
    matcher = difflib.SequenceMatcher(autojunk=False)
    # Compared as text, not line by line: a one-line fix differs from its line in a few characters.
    matcher.set_seq2("\n".join(line.strip() for line in new))
    for size in range(max(1, len(new) - 2), len(new) + 3):
        for start in range(0, len(lines) - size + 1):
            matcher.set_seq1("\n".join(stripped[start : start + size]))
            ratio = matcher.ratio()
            if best is None or ratio > best[0]:
                best = (ratio, start, start + size)
    if best is None or best[0] < MIN_FRAGMENT_SIMILARITY:
        return None
    _, start, end = best
    return lines[:start] + _reindented(new, leading_whitespace(lines[start])) + lines[end:]


def merge_answer(text: str, block: str, grammar: str | None) -> str | None:
    """The file with the answer's code in place of what it rewrites, or None when it cannot be placed."""
    lines = text.splitlines()
    block = block.rstrip("\n")
    if not block.strip():
        return None
    merged = _by_definitions(lines, text, block, grammar) if grammar else None
    if merged is None and len(block.splitlines()) >= WHOLE_FILE_SHARE * len(lines):
        merged = block.splitlines()
    if merged is None:
        merged = _by_resemblance(lines, block)
    if merged is None:
        return None
    return "\n".join(merged) + ("\n" if text.endswith("\n") else "")
