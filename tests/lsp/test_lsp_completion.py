"""Inline and classic completion over real LSP: the protocol on a scripted model, and the real embedded model end to end."""

from __future__ import annotations

import asyncio

import pytest
from fakes import Reply, Script
from lsprotocol import types
from lsp_session import completion_stats, inline, lsp_session, open_document, scripted_session, type_text

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n    return "
PRODUCT = Script(replies=[Reply(["a", " *", " b"])])
# SmolLM2's layout: no FIM tokens, the prompt is the text before the cursor.
PREFIX_ONLY = Script(replies=[Reply(["a", " *", " b"])], fim="none")


async def test_capabilities_are_advertised(tmp_path):
    async with scripted_session(tmp_path / "server", PRODUCT) as (_, server):
        caps = server.capabilities
        assert caps.inline_completion_provider is not None
        # This client shows inline completions: the same text as a completion item would show twice.
        assert caps.completion_provider is None
        assert caps.text_document_sync is not None
        assert "tandem.stats" in caps.execute_command_provider.commands
        assert "tandem.accepted" in caps.execute_command_provider.commands


async def test_inline_completion_item(tmp_path):
    async with scripted_session(tmp_path / "server", PREFIX_ONLY) as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        items = await inline(client, uri, 5, len("    return "))
        assert [i.insert_text for i in items] == ["a * b"]
        item = items[0]
        assert item.range.start == item.range.end == types.Position(line=5, character=11)
        assert item.command.command == "tandem.accepted"
        # The prompt was the document up to the cursor (prefix-only model),
        # less the space before the cursor, which the model writes itself.
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert last.prompt.endswith("def multiply(a, b):\n    return")
        assert last.promptTokens > 0 and last.generatedTokens == 3 and last.stopReason == "eos"


async def test_a_suggestion_over_an_auto_closed_bracket_replaces_it(tmp_path):
    # The editor closed the `(` the user typed; the model writes the call's end and the `;` itself.
    script = Script(replies=[Reply(["a, b", ");"])])
    async with scripted_session(tmp_path / "server", script) as (client, _):
        uri = open_document(client, tmp_path / "app.js", "function f(a, b) {\n  use()\n}\n")
        items = await inline(client, uri, 1, len("  use("))
        assert [i.insert_text for i in items] == ["a, b);"]
        assert items[0].range == types.Range(start=types.Position(line=1, character=6), end=types.Position(line=1, character=7))


async def test_a_span_across_lines_in_the_middle_of_a_line_ends_before_the_rest_of_the_line(tmp_path):
    # The lines between `count` and `- 1` are missing; the model writes them and re-types `n &= n - 1`.
    script = Script(replies=[Reply([" = 0\n", "    while n:\n", "        n &= n", " - 1\n", "        count += 1"])])
    async with scripted_session(tmp_path / "server", script, {"completion": {"prefetch": False}}) as (client, _):
        uri = open_document(client, tmp_path / "bits.py", "def bitcount(n):\n    count - 1\n        count += 1\n    return count\n")
        items = await inline(client, uri, 1, len("    count"))
        assert [i.insert_text for i in items] == [" = 0\n    while n:\n        n &= n"]
        # Typing through its start keeps the rest of the span (from the cache: one model call in all).
        type_text(client, uri, 2, 1, len("    count"), " = ")
        items = await inline(client, uri, 1, len("    count = "))
        assert [i.insert_text for i in items] == ["0\n    while n:\n        n &= n"]
        assert (await completion_stats(client))["sources"] == {"model": 1, "cache": 1}


async def test_a_span_into_a_line_whose_start_is_missing_keeps_the_models_indentation(tmp_path):
    # The cursor is at column 0 before `return a`, whose indentation went with the missing span.
    script = Script(replies=[Reply(["    if b == 0:\n", "        "])])
    async with scripted_session(tmp_path / "server", script, {"completion": {"prefetch": False}}) as (client, _):
        uri = open_document(client, tmp_path / "gcd.py", "def gcd(a, b):\nreturn a\n    return gcd(b, a % b)\n")
        items = await inline(client, uri, 1, 0)
        assert [i.insert_text for i in items] == ["    if b == 0:\n        "]


async def test_lines_inserted_above_an_indented_line_end_where_the_model_retypes_it(tmp_path):
    # Cursor at column 0 before `    return t`: the missing lines go above it (HumanEval's multi-line holes).
    script = Script(replies=[Reply(["    t = 0\n", "    for x in xs:\n", "        t += x\n", "    return t\n"])])
    async with scripted_session(tmp_path / "server", script, {"completion": {"prefetch": False}}) as (client, _):
        uri = open_document(client, tmp_path / "total.py", "def total(xs):\n    return t\n")
        items = await inline(client, uri, 1, 0)
        assert [i.insert_text for i in items] == ["    t = 0\n    for x in xs:\n        t += x\n"]
        # Typed into, on the line it now shares with `    return t`: the rest keeps the newline that parts them.
        type_text(client, uri, 2, 1, 0, "    t")
        items = await inline(client, uri, 1, len("    t"))
        assert [i.insert_text for i in items] == [" = 0\n    for x in xs:\n        t += x\n"]
        assert (await completion_stats(client))["sources"] == {"model": 1, "cache": 1}


@pytest.mark.model
async def test_inline_completion_from_real_model(tmp_path, small_model):
    # Whatever a working model writes: an answer within the token bound, in the shape of a suggestion.
    settings = {"completionModel": {"path": str(small_model)}, "completion": {"maxTokens": 24, "prefetch": False}}
    async with lsp_session(settings) as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        items = await inline(client, uri, 5, len("    return "))
        assert len(items) <= 1
        for item in items:
            # Cursor is at the end of a statement line: a suggestion completes that line only.
            assert item.insert_text.strip() and "\n" not in item.insert_text
            assert not item.insert_text.startswith(" ")
            assert item.range.start == types.Position(line=5, character=11)
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert last.prompt.endswith("def multiply(a, b):\n    return")
        assert last.promptTokens > 0
        assert last.generatedTokens <= 24 and last.stopReason in ("eos", "max_tokens", "stop_check", "time")


async def test_classic_completion_fallback(tmp_path):
    async with scripted_session(tmp_path / "server", PRODUCT, inline_completion=False) as (client, server):
        assert server.capabilities.completion_provider is not None
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        result = await asyncio.wait_for(
            client.text_document_completion_async(
                types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=5, character=11))
            ),
            timeout=60,
        )
        assert isinstance(result, types.CompletionList)
        assert result.is_incomplete is True
        assert len(result.items) == 1
        item = result.items[0]
        assert item.text_edit.new_text == "a * b"
        # An empty filter word: clients must not filter the item away.
        assert item.text_edit.range.start == item.text_edit.range.end == types.Position(line=5, character=11)
        assert item.filter_text == ""


async def test_stats_count_requests_and_cache_hits(tmp_path):
    async with scripted_session(tmp_path / "server", PRODUCT, {"completion": {"prefetch": False}}) as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        first = await inline(client, uri, 5, 11)
        second = await inline(client, uri, 5, 11)
        assert [i.insert_text for i in first] == [i.insert_text for i in second] == ["a * b"]
        completion = await completion_stats(client)
        assert completion["requests"] == 2
        assert completion["sources"] == {"model": 1, "cache": 1}
        assert completion["modelCalls"] == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_non_ascii_line_completes_at_the_right_column(tmp_path, encoding):
    # "héllo 😀 " is 8 code points, 10 UTF-16 units and 13 UTF-8 bytes before the cursor.
    line = 'print("héllo 😀 ", '
    text = f"{line}\n"
    units = {"utf-8": len(line.encode("utf-8")), "utf-16": len(line.encode("utf-16-le")) // 2}[encoding]
    async with scripted_session(tmp_path / "server", PREFIX_ONLY, encodings=[encoding]) as (client, server):
        assert server.capabilities.position_encoding == encoding
        uri = open_document(client, tmp_path / "greet.py", text)
        await inline(client, uri, 0, units)
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        # The model saw the whole line up to the cursor (less the trailing space it
        # writes itself), and nothing cut in the middle of a character.
        assert last.prompt.endswith(line.rstrip())
