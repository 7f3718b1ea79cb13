"""Bad input gets an answer (a clear error or an empty result) and the server keeps serving.

Protocol-level cases run on the scripted model; bad model files on the real loader.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from fakes import Script
from lsp_session import inline, lsp_session, open_document, raw_request, scripted_session
from pygls.exceptions import JsonRpcInvalidParams

SOURCE = "x = 1\ny = "


async def test_position_past_the_end_gives_empty_result(tmp_path):
    async with scripted_session(tmp_path / "server", Script()) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        assert await inline(client, uri, 40, 0) == []
        # A column past the end of its line is clamped to the line end (the protocol's rule).
        items = await inline(client, uri, 1, 400)
        assert all(i.range.start.line == 1 for i in items)
        # Still serving.
        assert await inline(client, uri, 1, 4) is not None


async def test_unknown_uri_gives_empty_result(tmp_path):
    async with scripted_session(tmp_path / "server", Script()) as (client, _):
        assert await inline(client, (tmp_path / "never-opened.py").as_uri(), 0, 0) == []


async def test_negative_position_is_answered_with_an_error(tmp_path):
    async with scripted_session(tmp_path / "server", Script()) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        params = {"textDocument": {"uri": uri}, "position": {"line": -1, "character": 0}, "context": {"triggerKind": 1}}
        with pytest.raises(JsonRpcInvalidParams):
            await raw_request(client, "textDocument/inlineCompletion", params, msg_id="negative-1")
        wrong_types = {"textDocument": {"uri": 42}, "position": "here"}
        with pytest.raises(JsonRpcInvalidParams):
            await raw_request(client, "textDocument/completion", wrong_types, msg_id="wrong-types-1")
        # The server is still alive and answering.
        items = await inline(client, uri, 1, 4)
        assert isinstance(items, list)


async def test_unknown_method_gets_method_not_found(tmp_path):
    async with scripted_session(tmp_path / "server", Script()) as (client, _):
        with pytest.raises(Exception) as caught:
            await raw_request(client, "tandem/doesNotExist", {}, msg_id="unknown-1")
        assert "doesNotExist" in str(caught.value) or "not found" in str(caught.value).lower()


@pytest.mark.parametrize("problem", ["missing", "not-gguf", "truncated"])
async def test_bad_model_file_shows_a_message_and_keeps_serving(tmp_path, problem):
    model = tmp_path / "model.gguf"
    if problem == "not-gguf":
        model.write_text("this is not a model\n" * 10)
    elif problem == "truncated":
        model.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 40)
    async with lsp_session({"completionModel": {"path": str(model)}}) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        assert await inline(client, uri, 1, 4) == []
        for _ in range(100):
            if client.messages:
                break
            await asyncio.sleep(0.05)
        errors = [m for m in client.messages if m.type == types.MessageType.Error]
        assert errors, "the user must be told why there are no completions"
        assert str(model) in errors[0].message or "model" in errors[0].message
        # Shown once, not on every keystroke.
        await inline(client, uri, 1, 4)
        await asyncio.sleep(0.2)
        assert len([m for m in client.messages if m.type == types.MessageType.Error]) == 1
        # Fixing the setting brings completions back without a restart.
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"tandem": {"completionModel": {"path": ""}}}))
        items = await inline(client, uri, 1, 4)
        assert isinstance(items, list)
        stats = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="tandem.stats"))
        assert stats["completion"]["modelCalls"] >= 1
