"""No whitespace-only suggestions, and no trailing blank space.

Except the spaces that end the answer's last line right before text that
follows the cursor at once: they separate the two (`return ` before `True`;
infill.py i, 1.5B: 6 spans that the bare model got right were glued to the
rest of the line without them). And except a newline and an indentation that
end a span before text following the cursor inside its line (not before a
line below, where insert_line_above decides): the model put the rest of the
line on a line of its own, at that indentation (infill.py j, a random span
ending inside an indentation: `while lo < hi:`, a newline and four spaces
before `    mid = ...`). And except the newline that ends lines the model wrote
above the rest of the cursor's line: at column 0 (`    return dirs;` above a
`};` at column 0: infill_languages.py c, JavaScript), or once the user has
typed into lines inserted above an indented line, whose indentation (two
blanks or a tab, not the one space between two words) is then in front of the
rest (`    y` typed at column 0 before `    return y`, the suggestion ` = 2`
and its newline). Without it the two would be glued on one line.
"""

from __future__ import annotations

from tandem_lsp.completion.request import CompletionRequest


def apply(request: CompletionRequest, text: str) -> str:
    if not text.strip():
        return ""
    trimmed = text.rstrip()
    trailing = text[len(trimmed) :]
    rest = request.line_suffix
    if rest.strip() and not rest[:1].isspace() and "\n" not in trailing:
        return text
    if request.inside_line and "\n" in trailing and not trailing.endswith("\n"):
        return text
    if request.inside_line and trailing.endswith("\n") and (not request.line_prefix or rest.startswith(("\t", "  "))):
        return trimmed + "\n"
    return trimmed
