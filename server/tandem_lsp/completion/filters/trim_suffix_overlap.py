"""Drop text the document already has right after the cursor.

Models like to close brackets that are already there, or to re-type the next
line of the file. Both would be duplicated when the suggestion is accepted.
"""

from __future__ import annotations

from tandem_lsp.completion.request import CompletionRequest

# Shorter lines (`}`, `)`, `end`) legitimately repeat; only longer ones signal a loop.
_MIN_REPEATED_LINE = 4


def repeats_next_line(request: CompletionRequest, text: str) -> bool:
    return _next_line_start(request, text) is not None


def _next_line_start(request: CompletionRequest, text: str) -> int | None:
    next_line = request.next_nonblank_line().strip()
    if len(next_line) < _MIN_REPEATED_LINE:
        return None
    # On a blank line the first line is a whole line too: it may be the next one again.
    first = 0 if not request.line_prefix.strip() and not request.line_suffix.strip() else 1
    position = 0
    for number, line in enumerate(text.split("\n")):
        complete = "\n" in text[position:]
        if number >= first and line.strip() == next_line and (complete or len(line.strip()) >= len(next_line)):
            return position
        position += len(line) + 1
    return None


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
