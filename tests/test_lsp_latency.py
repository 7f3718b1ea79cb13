"""The latency engine over real LSP with the real model: type-through, bursts, prefetch, early stop."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from lsp_session import inline, lsp_session, open_document, raw_request, send_raw

SOURCE = "def multiply(a, b):\n    return "


def type_text(client, uri: str, version: int, line: int, character: int, text: str) -> None:
    position = types.Position(line=line, character=character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=position, end=position), text=text)],
        )
    )


async def stats(client) -> dict:
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="tandem.stats"))
    return result["completion"]


async def test_typing_the_shown_suggestion_needs_no_model_call(tmp_path, small_model):
    async with lsp_session({"completion": {"prefetch": False}}) as (client, _):
        uri = open_document(client, tmp_path / "m.py", SOURCE)
        items = await inline(client, uri, 1, 11)
        assert items and len(items[0].insert_text) >= 2
        shown = items[0].insert_text
        calls = (await stats(client))["modelCalls"]
        # The user types the first two characters of the ghost text, one at a time.
        for typed in range(1, 3):
            type_text(client, uri, 1 + typed, 1, 10 + typed, shown[typed - 1])
            rest = await inline(client, uri, 1, 11 + typed)
            assert [i.insert_text for i in rest] == [shown[typed:]]
        after = await stats(client)
        assert after["modelCalls"] == calls
        assert after["sources"]["cache"] == 2


async def test_a_burst_of_keystrokes_costs_few_generations(tmp_path, small_model):
    async with lsp_session({"completion": {"prefetch": False}}) as (client, _):
        uri = open_document(client, tmp_path / "m.py", "def greet(name):\n    message = ")
        await inline(client, uri, 1, 14)  # model loaded and warm
        before = (await stats(client))["modelCalls"]
        word = '"Hello there, " + n'
        pending: list[tuple[str, asyncio.Task]] = []
        for index, char in enumerate(word):
            type_text(client, uri, 2 + index, 1, 14 + index, char)
            if pending:
                # Like an editor: the previous request is cancelled when a key is typed.
                send_raw(client, {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": pending[-1][0]}})
            msg_id = f"burst-{index}"
            params = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 15 + index}, "context": {"triggerKind": 2}}
            pending.append((msg_id, asyncio.create_task(raw_request(client, "textDocument/inlineCompletion", params, msg_id, timeout=60))))
            await asyncio.sleep(0.125)  # 8 keys per second
        last = await pending[-1][1]
        assert last is not None
        for _, task in pending[:-1]:
            # Every earlier request got an answer (cancelled or empty), none hangs.
            await asyncio.wait([task], timeout=10)
            assert task.done()
        calls = (await stats(client))["modelCalls"] - before
        assert 1 <= calls <= 4, f"{len(word)} keystrokes caused {calls} generations"


async def test_next_suggestion_is_prefetched_after_one_is_shown(tmp_path, small_model):
    async with lsp_session() as (client, _):
        uri = open_document(client, tmp_path / "m.py", SOURCE)
        items = await inline(client, uri, 1, 11)
        assert items
        shown = items[0].insert_text
        # Give the speculative generation time to finish while the user "reads".
        await asyncio.sleep(2.0)
        calls = (await stats(client))["modelCalls"]
        # Accept: the client inserts the text, then asks at the new position.
        type_text(client, uri, 2, 1, 11, shown)
        await inline(client, uri, 1, 11 + len(shown))
        after = await stats(client)
        assert after["modelCalls"] == calls, "the answer after accepting came from the prefetch"
        assert after["sources"].get("cache", 0) + after["sources"].get("inflight", 0) >= 1


async def test_generation_stops_at_the_end_of_the_line(tmp_path, small_model):
    document = "a1 = 1\na2 = 2\na3 = \na4 = 4\n"
    async with lsp_session({"completion": {"maxTokens": 200}}) as (client, _):
        uri = open_document(client, tmp_path / "m.py", document)
        items = await inline(client, uri, 2, 5)
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert all("\n" not in i.insert_text for i in items)
        # It stopped because the suggestion was complete, not because it ran out of tokens.
        assert last.stopReason in ("stop_check", "eos")
