"""Documents written with the cursor marked (█): how the completion tests say where the user is."""

from __future__ import annotations

from tandem_lsp.completion.request import CompletionRequest

CURSOR = "█"


def request_at_mark(document: str, language: str = "python", path: str = "", document_key: str = "") -> CompletionRequest:
    """A completion request for `document` with the cursor where its one █ is."""
    assert document.count(CURSOR) == 1, "mark the cursor once"
    return CompletionRequest(
        text=document.replace(CURSOR, ""), offset=document.index(CURSOR), language=language, path=path, document_key=document_key
    )
