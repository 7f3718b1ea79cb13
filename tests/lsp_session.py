"""Start tandem-lsp as a real subprocess and talk LSP to it over stdio (pytest-lsp's client)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any, AsyncIterator

from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client

SERVER_COMMAND = [sys.executable, "-m", "tandem_lsp", "serve"]


def client_capabilities(encodings: list[str] | None = None, inline_completion: bool = True) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind(e) for e in (encodings or ["utf-16"])]
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities() if inline_completion else None,
            completion=types.CompletionClientCapabilities(),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(value_set=[k for k in types.CodeActionKind])
                ),
                resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
                data_support=True,
            ),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(),
        ),
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            workspace_folders=True,
        ),
    )


@contextlib.asynccontextmanager
async def lsp_session(
    init_options: dict[str, Any] | None = None,
    encodings: list[str] | None = None,
    root: Path | None = None,
    args: list[str] | None = None,
    inline_completion: bool = True,
) -> AsyncIterator[tuple[LanguageClient, types.InitializeResult]]:
    client = make_test_lsp_client()
    await client.start_io(*SERVER_COMMAND, *(args or []))
    folders = [types.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None
    try:
        result = await asyncio.wait_for(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=client_capabilities(encodings, inline_completion),
                    initialization_options=init_options or {},
                    root_uri=root.as_uri() if root else None,
                    workspace_folders=folders,
                )
            ),
            timeout=60,
        )
        yield client, result
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_session(), timeout=20)
        with contextlib.suppress(Exception):
            await client.stop()


def open_document(client: LanguageClient, path: Path, text: str, language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
    )
    return uri


async def inline(client: LanguageClient, uri: str, line: int, character: int, timeout: float = 60) -> list[types.InlineCompletionItem]:
    result = await asyncio.wait_for(
        client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
            )
        ),
        timeout=timeout,
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)


def send_raw(client: LanguageClient, message: dict) -> None:
    """Write a JSON-RPC message as it is, bypassing the client's typed serializer."""
    client.protocol._send_data(message)


async def raw_request(client: LanguageClient, method: str, params: Any, msg_id: str, timeout: float = 30) -> Any:
    """Send a request with plain-JSON params (to send what typed params cannot express)."""
    future = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[msg_id] = future
    send_raw(client, {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(future, timeout=timeout)
