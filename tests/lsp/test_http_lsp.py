"""tandem-lsp with its model behind a real llama_cpp.server: completion over LSP, review over the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsp_session import inline, lsp_session, open_document

# The module-scoped fixture that starts llama_cpp.server once for this file.
from test_http_backend import free_port, llama_server  # noqa: F401

pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n    return "


async def test_inline_completion_through_http_backend(tmp_path: Path, llama_server: str) -> None:
    # A generous time cap: CI machines are small and shared.
    options = {"completionModel": {"endpoint": llama_server}, "completion": {"maxTimeMs": 20000}}
    async with lsp_session(options) as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        items = await inline(client, uri, 5, len("    return "))
        # Whatever the model writes: at most one suggestion, on the cursor's line.
        assert len(items) <= 1 and all(item.insert_text.strip() and "\n" not in item.insert_text for item in items)
        # The prompt went over HTTP: prefix-only, as SmolLM2 has no FIM tokens.
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert last.prompt.endswith("def multiply(a, b):\n    return")
        assert last.promptTokens > 0 and last.generatedTokens <= 128


async def test_endpoint_down_still_answers(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    async with lsp_session({"completionModel": {"endpoint": dead}}) as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        items = await inline(client, uri, 5, len("    return "), timeout=30)
        assert items == []  # an answer, empty, not a hang


@pytest.mark.slow
def test_review_command_over_http(tmp_path: Path, llama_server: str) -> None:
    source = tmp_path / "buggy.py"
    source.write_text("def average(values):\n    return sum(values) / len(values)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tandem_lsp", "review", str(source), "--endpoint", llama_server, "--json"],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict) and "findings" in report
