"""No whitespace-only suggestions, and no trailing blank space.

Except the spaces that end the answer's last line right before text that
follows the cursor at once: they separate the two (`return ` before `True`;
infill.py i, 1.5B: 6 spans that the bare model got right were glued to the
rest of the line without them).
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
    return trimmed
