"""No whitespace-only suggestions, and no trailing blank space."""

from __future__ import annotations

from tandem_lsp.completion.request import CompletionRequest


def apply(request: CompletionRequest, text: str) -> str:
    if not text.strip():
        return ""
    return text.rstrip()
