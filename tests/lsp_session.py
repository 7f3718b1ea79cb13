"""Start tandem-lsp as a real subprocess and talk LSP to it over stdio (pytest-lsp's client)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any, AsyncIterator

from fakes import EventLog, Script
from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client

SERVER_COMMAND = [sys.executable, "-m", "tandem_lsp", "serve"]
# The same server with the scripted model backend (tests/scripted_server.py SCRIPT.json).
SCRIPTED_SERVER_COMMAND = [sys.executable, str(Path(__file__).with_name("scripted_server.py"))]


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
    command: list[str] | None = None,
) -> AsyncIterator[tuple[LanguageClient, types.InitializeResult]]:
    client = make_test_lsp_client()
    await client.start_io(*(command or SERVER_COMMAND), *(args or []))
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
        await stop_client(client)


async def stop_client(client: LanguageClient, timeout: float = 20) -> None:
    """Stop the client and its server, killing a server that does not exit in `timeout` seconds.

    pytest-lsp stops reading the server's stderr before it waits for the
    server to exit: a server still writing its log then (a slow machine, a
    shutdown that timed out) blocks on the full pipe, and the wait never ends.
    """
    server = getattr(client, "_server", None)
    try:
        await asyncio.wait_for(client.stop(), timeout)
    except Exception:  # the timeout, or whatever stopping a broken session raised
        if server is not None and server.returncode is None:
            server.kill()
            await server.wait()


class ScriptedServer:
    """What a test controls of a scripted server: the model's event log and the release of held generations."""

    def __init__(self, folder: Path, script: Script) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        script.event_log = str(folder / "events.jsonl")
        script.release_file = str(folder / "release")
        self.script = script
        self.path = folder / "script.json"
        self.path.write_text(script.to_json(), encoding="utf-8")
        self.events = EventLog(Path(script.event_log))
        self.capabilities: types.ServerCapabilities | None = None  # once initialized

    def release(self) -> None:
        """Let every held generation go on (now and later)."""
        Path(self.script.release_file).touch()


@contextlib.asynccontextmanager
async def scripted_session(
    folder: Path, script: Script, init_options: dict[str, Any] | None = None, **session: Any
) -> AsyncIterator[tuple[LanguageClient, ScriptedServer]]:
    """An LSP session with the real server whose model is scripted; its files go to `folder`."""
    scripted = ScriptedServer(folder, script)
    async with lsp_session(init_options, command=[*SCRIPTED_SERVER_COMMAND, str(scripted.path)], **session) as (client, result):
        scripted.capabilities = result.capabilities
        yield client, scripted


async def completion_stats(client: LanguageClient) -> dict:
    result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(command="tandem.stats")), 30)
    return result["completion"]


def type_text(client: LanguageClient, uri: str, version: int, line: int, character: int, text: str) -> None:
    """Insert `text` at a position, as an editor reports a keystroke (or an accepted suggestion)."""
    position = types.Position(line=line, character=character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=position, end=position), text=text)],
        )
    )


def inline_params(uri: str, line: int, character: int, trigger: int = 2) -> dict:
    """textDocument/inlineCompletion params as plain JSON (for raw_request)."""
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}, "context": {"triggerKind": trigger}}


def cancel_request(client: LanguageClient, msg_id: str) -> None:
    send_raw(client, {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": msg_id}})


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
