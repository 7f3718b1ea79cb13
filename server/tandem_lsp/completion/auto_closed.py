"""Brackets and quotes the editor closed for the user are its guess, not the user's text.

Typing `f(` in most editors gives `f(█)`. When all the cursor's line has after
it is such closers, the model is asked as if they were not there: it writes the
rest of the line itself (`a, b);`, and in C-like code the statement's `;` with
it) and the suggestion replaces them. Kept in the prompt, a model closes them
again and ends the statement after them, which no insertion before them can
show right (`f(a, b););`). An answer that leaves them to the editor
(`a, b`) is inserted before them, as before; one that closes some of them
(the string of `print("█")`) replaces those.
"""

from __future__ import annotations

from dataclasses import replace

from tandem_lsp.completion.request import CompletionRequest

CLOSERS = ")]}\"'`"
_QUOTES = "\"'`"
_PARTNER = {"(": ")", "[": "]", "{": "}", '"': '"', "'": "'", "`": "`"}
_PAIRS = {closer: opener for opener, closer in _PARTNER.items() if opener not in _QUOTES}
# How far back the brackets open at the cursor are looked for.
_LOOKBACK_LINES = 50


def without_auto_closed(request: CompletionRequest) -> tuple[CompletionRequest, str]:
    """The request without the closers that are all its line has after the cursor, and those closers ("" when none)."""
    after = request.line_suffix
    closers = after.rstrip()
    if not closers or any(ch not in CLOSERS for ch in closers):
        return request, ""
    text = request.text[: request.offset] + request.text[request.offset + len(after) :]
    return replace(request, text=text), after


def closed_by(request: CompletionRequest, suggestion: str, closers: str) -> str:
    """The part of `closers` a suggestion for the request without them closes itself: it replaces that ("" when none).

    The editor's closers close the innermost brackets (or string) open at the
    cursor, so the suggestion is read on from the code before the cursor and
    each of those it closes counts: `b);` closes the `(` of `f(` opened on the
    line above, `g.pop();` closes only its own.
    """
    wanted = closers.rstrip()
    if not wanted or not suggestion:
        return ""
    start = request.offset
    for _ in range(_LOOKBACK_LINES):
        start = request.text.rfind("\n", 0, start)
        if start < 0:
            break
    still_open: list[str] = []
    _read(request.text[max(start, 0) : request.offset], still_open)
    innermost = still_open[::-1][: len(wanted)]
    if len(innermost) < len(wanted) or any(_PARTNER[opener] != closer for opener, closer in zip(innermost, wanted)):
        return ""  # they do not close what is open here: leave them be
    depth = len(still_open)
    lowest, _ = _read(suggestion, still_open)
    closed = min(depth - lowest, len(wanted))
    return closers if closed == len(wanted) else wanted[:closed]


def _read(text: str, still_open: list[str]) -> tuple[int, int]:
    """Read `text` on with the brackets and quote `still_open` (innermost last, updated).

    Returns the lowest depth reached and how many partners were missing on the
    way: closing brackets that close nothing open, quotes a line's end left open.
    """
    lowest = len(still_open)
    missing = 0
    escaped = False
    for ch in text:
        inside = still_open[-1] if still_open and still_open[-1] in _QUOTES else ""
        if inside:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == inside:
                still_open.pop()
            elif ch == "\n" and inside != "`":  # only template strings go on past a line's end
                still_open.pop()
                missing += 1
        elif ch in _PARTNER:  # an opening bracket or quote
            still_open.append(ch)
        elif ch in _PAIRS:
            if still_open and still_open[-1] == _PAIRS[ch]:
                still_open.pop()
            else:
                missing += 1
        lowest = min(lowest, len(still_open))
    return lowest, missing


def unmatched(text: str) -> int:
    """Brackets and quotes left without their partner (string contents skipped)."""
    still_open: list[str] = []
    _, missing = _read(text, still_open)
    return missing + len(still_open)
