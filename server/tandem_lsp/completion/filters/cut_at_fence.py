"""End a suggestion where the model leaves the code for a Markdown fence.

Chat-tuned models (the prefix-only fallback) like to close or open a ```
block; in a source file such a line is never code the user wants.
"""

from __future__ import annotations

import re

from tandem_lsp.completion.request import CompletionRequest

_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
# Documents where a fence is text the user may well want.
_PROSE_LANGUAGES = {"markdown", "mdx", "plaintext", "restructuredtext", "rst", "text", ""}


def cut_index(request: CompletionRequest, text: str) -> int | None:
    """Where the first fence line starts, or None (also in prose documents)."""
    if request.language.lower() in _PROSE_LANGUAGES:
        return None
    match = _FENCE_LINE.search(text)
    return None if match is None else match.start()


def apply(request: CompletionRequest, text: str) -> str:
    cut = cut_index(request, text)
    return text if cut is None else text[:cut]
