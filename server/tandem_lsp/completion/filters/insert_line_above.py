"""At column 0 before an existing line, a suggestion is whole new lines above it.

The user put the cursor at the start of a line to insert code there. The
model's lines end where limit_scope and trim_suffix_overlap cut them (the
existing line re-typed, a dedent), without the last newline, which is given
back here: without it, accepting would glue the last new line onto the
existing one. A first line that only re-types the existing one (whatever its
spacing) is no suggestion.

Unless the text after the cursor starts without the indentation around it and
the model wrote one: it is then the rest of a line whose start is missing (a
random span cut from a function body, infill.py j: `    e` before `lse:`, or
`    if b == 0:` and the next line's indentation before `return a`; blank lines
first when the span began at the end of the line above), and the model's span
is kept as it wrote it (limit_scope).
"""

from __future__ import annotations

from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.indentation import same_but_spacing


def applies(request: CompletionRequest) -> bool:
    return request.line_prefix == "" and bool(request.line_suffix.strip())


def apply(request: CompletionRequest, text: str) -> str:
    if not applies(request):
        return text
    if request.inside_line and text.lstrip("\n")[:1] in (" ", "\t"):
        return text  # blank lines first and all (a span that began at the end of the line above)
    line = text.split("\n", 1)[0]
    if not line.strip() or same_but_spacing(line, request.line_suffix):
        return ""
    # Above an indented line every line limit_scope kept is new; at the top level it kept a span, whose first line is the line.
    return (line if request.inside_line else text).rstrip() + "\n"
