"""Inline and classic completion from the real embedded model, over real LSP."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from lsp_session import inline, lsp_session, open_document

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n    return "


async def test_capabilities_are_advertised():
    async with lsp_session() as (client, result):
        caps = result.capabilities
        assert caps.inline_completion_provider is not None
        # This client shows inline completions: the same text as a completion item would show twice.
        assert caps.completion_provider is None
        assert caps.text_document_sync is not None
        assert "tandem.stats" in caps.execute_command_provider.commands
        assert "tandem.accepted" in caps.execute_command_provider.commands


async def test_inline_completion_from_real_model(tmp_path, small_model):
    async with lsp_session({"completionModel": {"path": str(small_model)}}) as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        items = await inline(client, uri, 5, len("    return "))
        assert len(items) == 1
        item = items[0]
        assert isinstance(item.insert_text, str) and item.insert_text.strip()
        # Cursor is at the end of a statement line: the suggestion completes that line only.
        assert "\n" not in item.insert_text
        assert item.range.start == types.Position(line=5, character=11)
        assert item.command.command == "tandem.accepted"
        # The prompt really was the document up to the cursor (prefix-only model),
        # less the space before the cursor, which the model writes itself.
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert last.prompt.endswith("def multiply(a, b):\n    return")
        assert not item.insert_text.startswith(" ")
        assert last.promptTokens > 0


async def test_classic_completion_fallback(tmp_path, small_model):
    async with lsp_session(inline_completion=False) as (client, result):
        assert result.capabilities.completion_provider is not None
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
        assert item.text_edit.new_text.strip()
        # An empty filter word: clients must not filter the item away.
        assert item.text_edit.range.start == item.text_edit.range.end == types.Position(line=5, character=11)
        assert item.filter_text == ""


async def test_stats_count_requests_and_cache_hits(tmp_path, small_model):
    async with lsp_session() as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        first = await inline(client, uri, 5, 11)
        second = await inline(client, uri, 5, 11)
        assert [i.insert_text for i in first] == [i.insert_text for i in second]
        stats = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="tandem.stats"))
        completion = stats["completion"]
        assert completion["requests"] == 2
        assert completion["sources"].get("cache") == 1
        assert completion["modelCalls"] >= 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_non_ascii_line_completes_at_the_right_column(tmp_path, small_model, encoding):
    # "héllo 😀 " is 8 code points, 10 UTF-16 units and 13 UTF-8 bytes before the cursor.
    line = 'print("héllo 😀 ", '
    text = f"{line}\n"
    units = {"utf-8": len(line.encode("utf-8")), "utf-16": len(line.encode("utf-16-le")) // 2}[encoding]
    async with lsp_session(encodings=[encoding]) as (client, result):
        assert result.capabilities.position_encoding == encoding
        uri = open_document(client, tmp_path / "greet.py", text)
        await inline(client, uri, 0, units)
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        # The model saw the whole line up to the cursor (less the trailing space it
        # writes itself), and nothing cut in the middle of a character.
        assert last.prompt.endswith(line.rstrip())
