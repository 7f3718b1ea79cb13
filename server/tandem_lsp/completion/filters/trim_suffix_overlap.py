"""Drop text the document already has right after the cursor.

Models like to close brackets that are already there, or to re-type the next
line of the file. Both would be duplicated when the suggestion is accepted.
A fill-in-the-middle model that has written the missing code often goes on
with a near copy of the code below (`return search_from(...)` for the real
`return any(search_from(...) ...)`): a later line of a suggestion that closely
resembles one of the next lines of the file ends the suggestion too.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from tandem_lsp.completion.request import CompletionRequest

# Shorter lines (`}`, `)`, `end`) legitimately repeat; only longer ones signal a loop.
_MIN_REPEATED_LINE = 4
# How many of the file's next non-blank lines a suggestion line is compared with,
# and how alike (difflib ratio) a line must be to count as a copy of one of them.
_LOOKAHEAD_LINES = 3
_NEAR_COPY = 0.8


def repeats_next_line(request: CompletionRequest, text: str) -> bool:
    return _next_line_start(request, text) is not None


def _next_line_start(request: CompletionRequest, text: str) -> int | None:
    next_line = request.next_nonblank_line().strip()
    if len(next_line) < _MIN_REPEATED_LINE:
        return None
    # On a blank line the first line is a whole line too: it may be the next one again.
    first = 0 if not request.line_prefix.strip() and not request.line_suffix.strip() else 1
    upcoming = _upcoming_lines(request)
    position = 0
    for number, line in enumerate(text.split("\n")):
        complete = "\n" in text[position:]
        if number >= first and line.strip() == next_line and (complete or len(line.strip()) >= len(next_line)):
            return position
        if number >= 1 and complete and _near_copy(line.strip(), upcoming):
            return position
        position += len(line) + 1
    return None


def _upcoming_lines(request: CompletionRequest) -> list[str]:
    lines = []
    for line in request.after_line.splitlines():
        if line.strip():
            lines.append(line.strip())
            if len(lines) == _LOOKAHEAD_LINES:
                break
    return lines


def _near_copy(line: str, upcoming: list[str]) -> bool:
    if len(line) < _MIN_REPEATED_LINE:
        return False
    return any(SequenceMatcher(None, line, other, autojunk=False).ratio() >= _NEAR_COPY for other in upcoming if len(other) >= _MIN_REPEATED_LINE)


def _trim_line_suffix(request: CompletionRequest, text: str) -> str:
    suffix = request.line_suffix.strip()
    if not suffix or "\n" in text or not request.line_prefix:
        # At column 0 the text after the cursor is the next line, not this line's end.
        return text
    if text.rstrip().endswith(suffix):
        return text.rstrip()[: -len(suffix)]
    # A partial overlap counts only for punctuation (closing brackets, quotes).
    for size in range(len(suffix) - 1, 0, -1):
        head = suffix[:size]
        if not any(ch.isalnum() for ch in head) and text.rstrip().endswith(head):
            return text.rstrip()[:-size]
    return text


def apply(request: CompletionRequest, text: str) -> str:
    start = _next_line_start(request, text)
    if start is not None:
        text = text[: max(start - 1, 0)]
    return _trim_line_suffix(request, text)
