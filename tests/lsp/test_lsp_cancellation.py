"""Cancellation over real LSP, on a scripted model: the request returns at once and decoding stops.

The "model" produces endless output and holds after its first token, so its
generation can only end because tandem cancelled it: no clock decides.
"""

from __future__ import annotations

import asyncio

import pytest
from fakes import WAIT_S, Reply, Script
from lsp_session import cancel_request, completion_stats, inline, inline_params, open_document, raw_request, scripted_session, type_text
from pygls.exceptions import JsonRpcRequestCancelled

VALUES = "values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "
ENDLESS = Reply(["11", ", "], endless=True, hold_after=1)
SETTINGS = {"completion": {"maxTokens": 2000, "maxTimeMs": 600_000, "prefetch": False}}


async def test_cancel_request_returns_at_once_and_stops_the_generation(tmp_path):
    script = Script(replies=[Reply(['"tandem"'], when="name ="), ENDLESS])
    async with scripted_session(tmp_path / "server", script, SETTINGS) as (client, server):
        uri = open_document(client, tmp_path / "values.py", VALUES)
        slow = asyncio.create_task(raw_request(client, "textDocument/inlineCompletion", inline_params(uri, 0, len(VALUES)), "slow-1", timeout=WAIT_S))
        held = await server.events.wait_for("held")
        cancel_request(client, "slow-1")
        # Answered while the generation is still held: the request did not wait for it.
        with pytest.raises(JsonRpcRequestCancelled):
            await slow
        end = await server.events.wait_for("end", held["generation"])
        assert end["stopReason"] == "cancelled" and end["tokens"] == 1
        # The model worker is free again: the next request gets its answer.
        other = open_document(client, tmp_path / "name.py", "name = ")
        assert [i.insert_text for i in await inline(client, other, 0, 7, timeout=WAIT_S)] == ['"tandem"']
        stats = await completion_stats(client)
        assert stats["cancelledGenerations"] == 1 and stats["modelCalls"] == 2


async def test_newer_keystroke_supersedes_running_generation(tmp_path):
    script = Script(replies=[Reply(["]"], when="'x'"), ENDLESS])
    async with scripted_session(tmp_path / "server", script, SETTINGS) as (client, server):
        uri = open_document(client, tmp_path / "values.py", VALUES)
        slow = asyncio.create_task(inline(client, uri, 0, len(VALUES), timeout=WAIT_S))
        held = await server.events.wait_for("held")
        # The user types something the running suggestion ("11") cannot match.
        type_text(client, uri, 2, 0, len(VALUES), "'x'")
        newer = await inline(client, uri, 0, len(VALUES) + 3, timeout=WAIT_S)
        # The old request ends with an empty answer instead of running on.
        assert await asyncio.wait_for(slow, WAIT_S) == []
        assert [i.insert_text for i in newer] == ["]"]
        assert (await server.events.wait_for("end", held["generation"]))["stopReason"] == "cancelled"
        stats = await completion_stats(client)
        assert stats["cancelledGenerations"] == 1 and stats["modelCalls"] == 2
