"""textDocument/inlineCompletion (LSP 3.18) and textDocument/completion as fallback."""

from __future__ import annotations

from lsprotocol import types

from tandem_lsp.completion.engine import Suggestion
from tandem_lsp.lsp.convert import completion_request, replaced_range
from tandem_lsp.lsp.server import TandemServer

ACCEPTED_COMMAND = "tandem.accepted"


async def _suggest(server: TandemServer, uri: str, position: types.Position) -> tuple[Suggestion, types.Range] | None:
    """The suggestion at a position and the range it replaces (from the cursor: an insertion, or over auto-closed brackets)."""
    document = server.open_document(uri)
    if document is None:
        return None
    request = completion_request(document, position)
    if request is None:
        return None
    suggestion = await server.engine.complete(request)
    if suggestion is None:
        return None
    return suggestion, replaced_range(document, position, suggestion.replaces)


def _accept_command(suggestion: Suggestion) -> types.Command:
    return types.Command(title="tandem: accepted", command=ACCEPTED_COMMAND, arguments=[{"id": suggestion.id}])


def register(server: TandemServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: TandemServer, params: types.InlineCompletionParams) -> types.InlineCompletionList:
        suggested = await _suggest(ls, params.text_document.uri, params.position)
        if suggested is None:
            return types.InlineCompletionList(items=[])
        suggestion, replaced = suggested
        item = types.InlineCompletionItem(
            insert_text=suggestion.text,
            range=replaced,
            command=_accept_command(suggestion),
        )
        return types.InlineCompletionList(items=[item])

    def offer_classic_completion(params: types.InitializeParams) -> None:
        # A client with inline completion would show the same suggestion twice.
        text_document = params.capabilities.text_document
        if text_document is None or text_document.inline_completion is None:
            server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "]))(completion)

    server.initialize_hooks.append(offer_classic_completion)

    async def completion(ls: TandemServer, params: types.CompletionParams) -> types.CompletionList:
        suggested = await _suggest(ls, params.text_document.uri, params.position)
        if suggested is None:
            return types.CompletionList(is_incomplete=True, items=[])
        suggestion, replaced = suggested
        first_line = suggestion.text.strip().splitlines()[0]
        item = types.CompletionItem(
            label=first_line[:60] or suggestion.text[:60],
            kind=types.CompletionItemKind.Text,
            detail="tandem",
            documentation=suggestion.text,
            # An edit range from the cursor: the client filters on nothing, so it keeps the item.
            text_edit=types.TextEdit(range=replaced, new_text=suggestion.text),
            filter_text="",
            sort_text="0",
            preselect=True,
            command=_accept_command(suggestion),
        )
        # Incomplete: the client asks again on the next keystroke instead of filtering this item.
        return types.CompletionList(is_incomplete=True, items=[item])
