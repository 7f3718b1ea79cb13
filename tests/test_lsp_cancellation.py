"""Cancellation really stops generation, and the next request is served at once."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from lsp_session import inline, lsp_session, open_document, raw_request, send_raw
from pygls.exceptions import JsonRpcRequestCancelled

# A line the small model continues for a very long time without a newline.
SOURCE = "values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, \nname = "
LONG = {"completion": {"maxTokens": 2000, "maxTimeMs": 60000, "prefetch": False}}
SHORT = {"completion": {"maxTokens": 8, "maxTimeMs": 60000, "prefetch": False}}


def configure(client, settings: dict) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"tandem": settings}))


def _inline_params(uri: str, line: int, character: int) -> dict:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}, "context": {"triggerKind": 1}}


async def test_cancel_request_returns_promptly_and_stops_the_generation(tmp_path, small_model):
    async with lsp_session(SHORT) as (client, _):
        uri = open_document(client, tmp_path / "values.py", SOURCE)
        # Warm up the model so the timing below is about generation, not loading.
        await inline(client, uri, 1, 7)
        configure(client, LONG)

        slow = asyncio.create_task(raw_request(client, "textDocument/inlineCompletion", _inline_params(uri, 0, 41), "slow-1", timeout=90))
        await asyncio.sleep(1.5)
        assert not slow.done(), "the generation should still be running"
        cancelled_at = time.perf_counter()
        send_raw(client, {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": "slow-1"}})
        with pytest.raises(JsonRpcRequestCancelled):
            await slow
        assert time.perf_counter() - cancelled_at < 1.0

        # The generation itself stops within the grace period, freeing the model.
        configure(client, SHORT)
        started = time.perf_counter()
        items = await inline(client, uri, 1, 7)
        assert time.perf_counter() - started < 5.0
        assert isinstance(items, list)
        stats = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="tandem.stats"))
        assert stats["completion"]["cancelledGenerations"] >= 1


async def test_newer_keystroke_supersedes_running_generation(tmp_path, small_model):
    async with lsp_session(SHORT) as (client, _):
        uri = open_document(client, tmp_path / "values.py", SOURCE)
        await inline(client, uri, 1, 7)
        configure(client, LONG)
        slow = asyncio.create_task(inline(client, uri, 0, 41, timeout=90))
        await asyncio.sleep(1.0)
        # The user typed something the running suggestion cannot match.
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=types.Position(0, 41), end=types.Position(0, 41)), text="'x'")],
            )
        )
        started = time.perf_counter()
        newer = asyncio.create_task(inline(client, uri, 0, 44, timeout=90))
        # The old request ends quickly with an empty answer instead of running on.
        assert await asyncio.wait_for(slow, timeout=5) == []
        assert time.perf_counter() - started < 5
        newer.cancel()
        stats = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="tandem.stats"))
        assert stats["completion"]["cancelledGenerations"] >= 1
