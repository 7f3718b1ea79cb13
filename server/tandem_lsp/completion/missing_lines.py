"""Does finishing the cursor's line leave the code after it broken? Then lines are missing there too.

At the end of a partly typed statement a suggestion is the rest of that line
(limit_scope.py): most often that is all the user is writing. But when the
file, with the line finished, still cannot run as written, the hole is wider
than the line (a random span that ended at a line's end, infill.py i): a
bracket opened above is left open, a header is left without a body, or the
code below reads a name that nothing binds (`return ... first ...` under a
finished `return 0`). The model's next lines are then kept up to where the
file is whole again; a right one-line answer never waits for them, since with
it the file is whole.

Python only: its parser and symbol table say so without guessing. Errors
outside the top-level definition the cursor is in are the user's other work
and are not counted.
"""

from __future__ import annotations

import functools

from tandem_lsp.code_checks import python_syntax_error_line
from tandem_lsp.completion.needed_names import names_waited_for
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.syntax_guard import document_grammar_to_check


def leaves_code_broken(request: CompletionRequest, written: str) -> bool:
    """Whether the file with `written` inserted at the cursor is broken after it, within the definition around the cursor."""
    if document_grammar_to_check(request) != "python":
        return False
    return _broken_after(request.text, request.offset, written)


@functools.lru_cache(maxsize=64)
def _broken_after(text: str, offset: int, written: str) -> bool:
    with_written = _inserted(text, offset, written)
    end = offset + len(written)
    end_line = with_written.count("\n", 0, end)
    error_line = python_syntax_error_line(with_written)
    if error_line is not None:
        return _in_same_definition(with_written, end_line, error_line)
    line_start = with_written.rfind("\n", 0, end) + 1
    cursor_byte = len(with_written[line_start:end].encode("utf-8"))
    return bool(names_waited_for(with_written, end_line, cursor_byte))


def _inserted(text: str, offset: int, written: str) -> str:
    return text[:offset] + written + text[offset:]


def _in_same_definition(text: str, cursor_line: int, error_line: int) -> bool:
    """Whether an error line lies in the top-level statement around the cursor (from the unindented line above it to the next one)."""
    lines = text.split("\n")
    start = next((number for number in range(cursor_line, -1, -1) if _unindented(lines[number])), 0)
    end = next((number for number in range(cursor_line + 1, len(lines)) if _unindented(lines[number])), len(lines))
    return start <= error_line <= end


def _unindented(line: str) -> bool:
    return bool(line.strip()) and not line[:1].isspace()
