"""The latency techniques over real LSP, on a scripted model: type-through, bursts, prefetch, early stop.

Counts of model calls and answer sources are asserted, never times: how fast
they make typing is measured by benchmarks/, not here.
"""

from __future__ import annotations

import asyncio

from fakes import WAIT_S, Reply, Script, eventually
from lsp_session import cancel_request, completion_stats, inline, inline_params, open_document, raw_request, scripted_session, type_text

SOURCE = "def multiply(a, b):\n    return "
PRODUCT = Reply(["a", " *", " b"])


async def test_typing_the_shown_suggestion_needs_no_model_call(tmp_path):
    async with scripted_session(tmp_path / "server", Script(replies=[PRODUCT]), {"completion": {"prefetch": False}}) as (client, _):
        uri = open_document(client, tmp_path / "m.py", SOURCE)
        items = await inline(client, uri, 1, 11)
        shown = items[0].insert_text
        assert shown == "a * b"
        # The user types the first two characters of the ghost text, one at a time.
        for typed in range(1, 3):
            type_text(client, uri, 1 + typed, 1, 10 + typed, shown[typed - 1])
            rest = await inline(client, uri, 1, 11 + typed)
            assert [i.insert_text for i in rest] == [shown[typed:]]
        after = await completion_stats(client)
        assert after["modelCalls"] == 1
        assert after["sources"] == {"model": 1, "cache": 2}


async def test_every_request_of_a_burst_is_answered_and_no_generation_is_left_running(tmp_path):
    async with scripted_session(tmp_path / "server", Script(replies=[Reply(["ame"])]), {"completion": {"prefetch": False}}) as (client, server):
        uri = open_document(client, tmp_path / "m.py", "def greet(name):\n    message = ")
        word = '"Hello there, " + n'
        pending: list[tuple[str, asyncio.Task]] = []
        for index, char in enumerate(word):
            type_text(client, uri, 2 + index, 1, 14 + index, char)
            if pending:
                # Like an editor: the previous request is cancelled when a key is typed.
                cancel_request(client, pending[-1][0])
            msg_id = f"burst-{index}"
            request = raw_request(client, "textDocument/inlineCompletion", inline_params(uri, 1, 15 + index), msg_id, timeout=WAIT_S)
            pending.append((msg_id, asyncio.create_task(request)))
        last = await pending[-1][1]
        assert [item.insertText for item in last.items] == ["ame"]
        # Every earlier request got an answer (cancelled or not), none hangs.
        await asyncio.wait([task for _, task in pending], timeout=WAIT_S)
        assert all(task.done() for _, task in pending)
        # Each generation started has ended: cancelled ones stopped decoding.
        await eventually(lambda: len(server.events.find("end")) == len(server.events.find("start")))
        assert 1 <= (await completion_stats(client))["modelCalls"] <= len(word)


async def test_next_suggestion_is_prefetched_after_one_is_shown(tmp_path):
    script = Script(replies=[Reply([" + 1"], when="return a * b"), PRODUCT])
    async with scripted_session(tmp_path / "server", script) as (client, server):
        uri = open_document(client, tmp_path / "m.py", SOURCE)
        items = await inline(client, uri, 1, 11)
        shown = items[0].insert_text
        # The speculative generation assumed the suggestion accepted.
        await server.events.wait_for("start", prompt_contains="return a * b")
        await eventually_stats(client, lambda s: s["modelCalls"] == 2)
        # Accept: the client inserts the text, then asks at the new position.
        type_text(client, uri, 2, 1, 11, shown)
        after_accepting = await inline(client, uri, 1, 11 + len(shown))
        assert [i.insert_text for i in after_accepting] == [" + 1"]
        after = await completion_stats(client)
        assert after["modelCalls"] == 2, "the answer after accepting came from the prefetch"
        assert after["sources"] == {"model": 1, "cache": 1}


async def test_generation_stops_at_the_end_of_the_line(tmp_path):
    # A model that would go on forever, line after line.
    script = Script(replies=[Reply(["3", "\n", "a5 = 5", "\n"], endless=True)])
    document = "a1 = 1\na2 = 2\na3 = \na4 = 4\n"
    async with scripted_session(tmp_path / "server", script, {"completion": {"maxTokens": 200, "maxTimeMs": 600_000}}) as (client, _):
        uri = open_document(client, tmp_path / "m.py", document)
        items = await inline(client, uri, 2, 5)
        assert [i.insert_text for i in items] == ["3"]
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        # It stopped because the suggestion was complete, not because it ran out of tokens.
        assert last.stopReason == "stop_check" and last.generatedTokens < 200


async def eventually_stats(client, check) -> None:
    latest: dict = {}

    async def poll() -> None:
        while True:
            latest.update(await completion_stats(client))
            if check(latest):
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), WAIT_S)
