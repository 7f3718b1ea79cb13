"""Brackets and quotes the editor closed for the user are its guess, not the user's text.

Typing `f(` in most editors gives `f(█)`. When all the cursor's line has after
it is such closers, the model is asked as if they were not there: it writes the
rest of the line itself (`a, b);`, and in C-like code the statement's `;` with
it) and the suggestion replaces them. Kept in the prompt, a model closes them
again and ends the statement after them, which no insertion before them can
show right (`f(a, b););`). An answer that leaves them to the editor
(`a, b`) is inserted before them, as before.
"""

from __future__ import annotations

from dataclasses import replace

from tandem_lsp.completion.request import CompletionRequest

CLOSERS = ")]}\"'`"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_QUOTES = "\"'`"


def without_auto_closed(request: CompletionRequest) -> tuple[CompletionRequest, str]:
    """The request without the closers that are all its line has after the cursor, and those closers ("" when none)."""
    after = request.line_suffix
    closers = after.rstrip()
    if not closers or any(ch not in CLOSERS for ch in closers):
        return request, ""
    text = request.text[: request.offset] + request.text[request.offset + len(after) :]
    return replace(request, text=text), after


def replaces_closers(request: CompletionRequest, suggestion: str, closers: str) -> bool:
    """Whether a suggestion for the request without `closers` closes them itself (else it goes before them)."""
    if not closers or not suggestion:
        return False
    line = request.line_prefix + suggestion
    return unmatched(line) <= unmatched(line + closers.rstrip())


def unmatched(text: str) -> int:
    """Brackets and quotes left without their partner (string contents skipped)."""
    open_brackets: list[str] = []
    count = 0
    quote = ""
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            elif ch == "\n" and quote != "`":  # only template strings go on past a line's end
                count += 1
                quote = ""
        elif ch in _QUOTES:
            quote = ch
        elif ch in "([{":
            open_brackets.append(ch)
        elif ch in _PAIRS:
            if open_brackets and open_brackets[-1] == _PAIRS[ch]:
                open_brackets.pop()
            else:
                count += 1
    return count + len(open_brackets) + bool(quote)
