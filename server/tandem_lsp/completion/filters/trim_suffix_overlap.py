"""Drop text the document already has right after the cursor.

Models like to close brackets that are already there, or to re-type the next
line of the file. Both would be duplicated when the suggestion is accepted.
A fill-in-the-middle model that has written the missing code often goes on
with a near copy of the code below (`return search_from(...)` for the real
`return any(search_from(...) ...)`): a later line of a suggestion that closely
resembles one of the next lines of the file, at the same indentation, ends the
suggestion too. At another indentation it is another statement in another
block (a loop body `rpntokens.append(opstack.pop())` written above the same
call in the loop below it), and it stays. So does a twin that puts other names
in the same places (`i += 1` above the `j += 1` of the next branch; infill.py
f: the bare model passed with `i += 1` where the server stopped before it).

A closing bracket or quote the suggestion ends with is dropped when the text
after the cursor starts with it, unless the suggestion needs it for a bracket
of its own: `opstack.pop()` inside `append(…)` keeps its `)` (infill.py e,
1.5B: 2 holes lost to the bare model that way).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from tandem_lsp.completion.auto_closed import unmatched
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.indentation import indent_width, without_spacing

# Shorter lines (`}`, `)`, `end`) legitimately repeat; only longer ones signal a loop.
_MIN_REPEATED_LINE = 4
# How many of the file's next non-blank lines a suggestion line is compared with,
# and how alike (difflib ratio) a line must be to count as a copy of one of them.
_LOOKAHEAD_LINES = 3
_NEAR_COPY = 0.8


def repeats_next_line(request: CompletionRequest, text: str) -> bool:
    return _next_line_start(request, text) is not None


def _next_line_start(request: CompletionRequest, text: str) -> int | None:
    upcoming = _upcoming_lines(request)
    next_indent, next_line = upcoming[0] if upcoming else (0, "")
    if len(next_line) < _MIN_REPEATED_LINE:
        return _short_line_retyped(request, text) if request.inserting_above else None
    # On a blank line, or above the cursor's line, the first line is a whole line too: it may be the next one again.
    first = 0 if not request.line_prefix.strip() and not request.inside_line else 1
    position = 0
    for number, line in enumerate(text.split("\n")):
        complete = "\n" in text[position:]
        # The first line's indentation is the user's; a later line's is the model's own and must match to be a copy.
        same_place = number == 0 or indent_width(line) == next_indent
        # Spacing aside: `alphabet=digits` re-types `alphabet = digits` all the same.
        written = without_spacing(line)
        if number >= first and same_place and written == without_spacing(next_line) and (complete or len(written) >= len(without_spacing(next_line))):
            return position
        if number >= 1 and complete and _near_copy(line, upcoming):
            return position
        position += len(line) + 1
    return None


def _short_line_retyped(request: CompletionRequest, text: str) -> int | None:
    """Where a whole line of the suggestion is the short line it goes above (`)` closing a call) as it stands, indentation and all."""
    position = 0
    for line in text.split("\n")[:-1]:
        if line.rstrip() == request.line_suffix.rstrip():
            return position
        position += len(line) + 1
    return None


def _upcoming_lines(request: CompletionRequest) -> list[tuple[int, str]]:
    """The file's next non-blank lines as (indentation width, stripped text)."""
    lines = []
    for line in request.lines_after():
        if line.strip():
            lines.append((indent_width(line), line.strip()))
            if len(lines) == _LOOKAHEAD_LINES:
                break
    return lines


def _near_copy(line: str, upcoming: list[tuple[int, str]]) -> bool:
    stripped = line.strip()
    if len(stripped) < _MIN_REPEATED_LINE:
        return False
    indent = indent_width(line)
    return any(
        indent == other_indent and SequenceMatcher(None, stripped, other, autojunk=False).ratio() >= _NEAR_COPY and not _twin(stripped, other)
        for other_indent, other in upcoming
        if len(other) >= _MIN_REPEATED_LINE
    )


_TOKENS = re.compile(r"\w+|[^\w\s]")


def _twin(line: str, other: str) -> bool:
    """Whether two alike lines differ only by names, numbers or operators put in for others, token for token.

    Code is full of such twins (`i += 1` / `j += 1`, `digit_list[low_mid] = 0` /
    `digit_list[high_mid] = 0`, the entries of a table of operators): each is a
    statement of its own. A mangled copy
    of a line below adds or drops tokens instead (`return g(n) for n in ns` for
    `return any(g(n) for n in ns)`).
    """
    # The last entry of a table has no comma after it: that alone makes no copy or twin.
    ours, theirs = _TOKENS.findall(line.rstrip(",")), _TOKENS.findall(other.rstrip(","))
    if len(ours) != len(theirs):
        return False
    swapped = [(a, b) for a, b in zip(ours, theirs) if a != b]
    # Word for word, or operator for operator (`'-': lambda a, b: a - b` above the `'/'` entry).
    return bool(swapped) and all(_is_word(a) == _is_word(b) for a, b in swapped)


def _is_word(token: str) -> bool:
    return token[0].isalnum() or token[0] == "_"


def _trim_line_suffix(request: CompletionRequest, text: str) -> str:
    suffix = request.line_suffix.strip()
    if not suffix or not request.inside_line:
        # Before an indented line at column 0 the text after the cursor is the next line, not this line's end.
        return text
    if "\n" in text:
        # A span across lines (limit_scope) ends where its last line re-types the rest of the line.
        overlap = len(suffix) if text.rstrip().endswith(suffix) else 0
    else:
        overlap = _overlap_with_suffix(text.rstrip(), suffix)
    if not overlap:
        return text
    trimmed = text.rstrip()[:-overlap]
    if request.line_suffix[:1].isspace():
        trimmed = trimmed.rstrip(" \t")  # the document's own space comes before the rest
    # `opstack.pop()` before the `)` of `append(`: the answer's own closing bracket is no copy.
    prefix, suffix_as_typed = request.line_prefix, request.line_suffix
    if unmatched(prefix + text + suffix_as_typed) < unmatched(prefix + trimmed + suffix_as_typed):
        return text
    return trimmed


def _overlap_with_suffix(text: str, suffix: str) -> int:
    """How many characters at the end of `text` the text after the cursor starts with (0 if none)."""
    if text.endswith(suffix):
        return len(suffix)
    # A partial overlap counts only for punctuation (closing brackets, quotes).
    for size in range(len(suffix) - 1, 0, -1):
        head = suffix[:size]
        if not any(ch.isalnum() for ch in head) and text.endswith(head):
            return size
    return 0


def apply(request: CompletionRequest, text: str) -> str:
    start = _next_line_start(request, text)
    if start is not None:
        text = text[: max(start - 1, 0)]
    return _trim_line_suffix(request, text)
