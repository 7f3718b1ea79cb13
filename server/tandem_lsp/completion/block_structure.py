"""Python's blocks as seen from a fresh line: where an answer's indentation says it is wrong.

In Python indentation is the block structure, so the server can see from the
lines around the cursor what an answer on a fresh line must look like: how
deep it may indent, whether it has to open the block whose body is already
below, whether it may leave the block it is in. rejected.py sends the engine
to the model's next choices when an answer fails one of these.
"""

from __future__ import annotations

from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.syntax_guard import grammar_to_check
from tandem_lsp.indentation import indent_width

# Line ends after which the next line continues the same statement, indented as the writer likes.
_GOES_ON = (",", "(", "[", "{", "\\", "=", "+", "-", "*", "/", "|", "&", " and", " or")
# Line ends that open what the next lines go on inside (an answer that stops after an argument has not).
_OPENS = (":", "(", "[", "{", "\\")


def indents_past_the_user(request: CompletionRequest, shown: str) -> bool:
    """Whether a Python answer on an indented fresh line adds indentation that no block above asks for.

    The editor's indentation after Enter is the block's own; it is too shallow
    only right after a line that opens a block and is no less indented. After
    a line that goes on (inside brackets, after a backslash) any indentation
    may be right. Python only: there indentation is the block structure.
    """
    typed = request.line_prefix
    if not typed or typed.strip() or request.line_suffix.strip() or shown[:1] not in (" ", "\t"):
        return False
    if grammar_to_check(request, shown) != "python":
        return False
    above = _code_line_above(request)
    if above.endswith(_GOES_ON):
        return False
    return not (above.endswith(":") and indent_width(above) >= indent_width(typed))


def leaves_body_without_header(request: CompletionRequest, shown: str) -> bool:
    """Whether a Python answer on a fresh line above a block that nothing opens fails to open it.

    The code below the cursor (at column 0 before an existing line: that line)
    is indented deeper than the code above it, which opens no block and goes on
    with no statement: that code is a body, and the line the user is writing
    is its header. Only the answer's last line can be that header, or the
    line that code goes on from (`return any(` above the generator inside it).
    """
    if request.line_prefix.strip() or grammar_to_check(request, shown) != "python":
        return False
    below = _code_line_below(request)
    above = _code_line_above(request)
    if not below or not above or above.endswith((":", *_GOES_ON)) or indent_width(below) <= indent_width(above):
        return False
    return not shown.rstrip().endswith(_OPENS)


def steps_out_to_column_0(request: CompletionRequest, shown: str) -> bool:
    """Whether a Python answer on a fresh line inside a block writes a line at column 0 above the block's indented code.

    Inside a block: the code below is indented, and the code above is indented
    too or opens a block. (Above it at column 0 with no block opened, the code
    below is a body waiting for its header, which may well be at column 0.)
    """
    if request.line_prefix.strip() or grammar_to_check(request, shown) != "python":
        return False
    below = _code_line_below(request)
    above = _code_line_above(request)
    if not below[:1].isspace() or not (above[:1].isspace() or above.endswith(":")):
        return False
    lines = shown.split("\n")
    return any(line.strip() and not line[:1].isspace() for line in (request.line_prefix + lines[0], *lines[1:]))


def _code_line_below(request: CompletionRequest) -> str:
    """The code the answer goes above: the rest of the cursor's line if any, else the nearest line below with code ("" if none)."""
    if request.line_suffix.strip():
        return request.line_suffix
    return next((line for line in request.lines_below() if line.strip() and not line.lstrip().startswith("#")), "")


def _code_line_above(request: CompletionRequest) -> str:
    """The nearest line above the cursor's with code on it, without trailing whitespace ("" if none)."""
    return next((line.rstrip() for line in request.lines_above() if line.strip() and not line.lstrip().startswith("#")), "")
