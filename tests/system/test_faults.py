"""Faults in the model layer: each gives the user a clear message and the server keeps serving.

Missing, non-GGUF and header-only model files are pinned in test_lsp_bad_input.py;
here: a real GGUF cut short, a GGUF with a corrupt header, a context too large for
memory, an HTTP endpoint that is down or answers garbage, a model that never stops,
a review answer that is not JSON, and requests sent while a model loads.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lsprotocol import types
from lsp_session import inline, lsp_session, open_document

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n    return "
CURSOR = (5, len("    return "))


async def error_messages(client, timeout: float = 20) -> list[str]:
    """The error messages shown so far (waiting for the first)."""
    started = time.monotonic()
    while not any(m.type == types.MessageType.Error for m in client.messages):
        if time.monotonic() - started > timeout:
            return []
        await asyncio.sleep(0.05)
    return [m.message for m in client.messages if m.type == types.MessageType.Error]


async def still_serving(client, tmp_path: Path) -> None:
    """Cheap requests are answered, and completion works again with the embedded model."""
    stats = await asyncio.wait_for(client.protocol.send_request_async("tandem/stats", None), 20)
    assert stats.completion.requests >= 1
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"tandem": {
        "completionModel": {"path": "", "endpoint": "", "contextSize": 4096}}}))
    uri = open_document(client, tmp_path / "after.py", SOURCE)
    await inline(client, uri, *CURSOR)
    last = await asyncio.wait_for(client.protocol.send_request_async("tandem/lastPrompt", None), 20)
    assert last.prompt.endswith("def multiply(a, b):\n    return")


# -- broken model files -------------------------------------------------------

@pytest.mark.model
@pytest.mark.parametrize("damage", ["cut-in-half", "corrupt-header"])
async def test_damaged_real_gguf_is_a_clear_error(tmp_path: Path, small_model: Path, damage: str) -> None:
    model = tmp_path / "damaged.gguf"
    data = small_model.read_bytes()
    if damage == "cut-in-half":
        model.write_bytes(data[: len(data) // 2])
    else:
        # Keep the magic and version, scramble the counts and the start of the metadata.
        model.write_bytes(data[:8] + bytes(range(256)) * 64 + data[8 + 256 * 64 :])
    async with lsp_session({"completionModel": {"path": str(model)}}) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        assert await inline(client, uri, *CURSOR) == []
        errors = await error_messages(client)
        print("user sees:", errors)
        assert errors and "damaged.gguf" in errors[0], errors
        await still_serving(client, tmp_path)


@pytest.mark.model
async def test_context_too_large_for_memory_is_a_clear_error(tmp_path: Path, small_model: Path) -> None:
    # About 400 GB of KV cache: no machine running these tests has it.
    options = {"completionModel": {"path": str(small_model), "contextSize": 2**24}}
    async with lsp_session(options) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        assert await inline(client, uri, *CURSOR, timeout=120) == []
        errors = await error_messages(client)
        print("user sees:", errors)
        assert errors and small_model.name in errors[0], errors
        assert "contextSize" in errors[0], "the message names the setting to change"
        await still_serving(client, tmp_path)


# -- HTTP endpoints that misbehave ----------------------------------------------

class _Misbehaving(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint with a chosen fault (the server's `mode`)."""

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.server.mode == "garbage":
            self._send(200, b"<html>\x00\xff not an API</html>", "text/html")
        elif self.path.endswith("/models"):
            self._send(200, json.dumps({"object": "list", "data": [{"id": "stub", "object": "model"}]}).encode())
        else:
            self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.mode == "garbage":
            self._send(200, b"<html>\x00\xff not an API</html>", "text/html")
            return
        chat = self.path.endswith("/chat/completions")
        if self.server.mode == "endless-everywhere":
            chat = True  # even the tokenizer probe's answer never ends
        elif not chat and not self.path.endswith("/completions"):
            self._send(404, b'{"error": "not found"}')  # no tokenizer, no /infill
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if self.server.mode.startswith("endless"):
            # Tokens forever, a few dozen a second, never a finish_reason.
            try:
                while True:
                    key = "delta" if chat else None
                    choice = {"index": 0, "delta": {"content": " x"}} if key else {"index": 0, "text": " x"}
                    self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(0.02)
            except OSError:
                return
        # "not-json": a well-formed stream whose content is not the JSON asked for.
        content = "Sure! Here is my review: the code looks fine, no problems {{{ ]]"
        choice = {"index": 0, "delta": {"content": content}, "finish_reason": None} if chat else {"index": 0, "text": content}
        self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
        end = {"index": 0, "delta": {}, "finish_reason": "stop"} if chat else {"index": 0, "text": "", "finish_reason": "stop"}
        self.wfile.write(f"data: {json.dumps({'choices': [end]})}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture
def endpoint():
    servers = []

    def start(mode: str) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
        server.mode = mode
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("fault", ["down", "garbage"])
async def test_http_endpoint_down_or_garbage_is_a_clear_error(tmp_path: Path, endpoint, fault: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1" if fault == "down" else endpoint("garbage")
    async with lsp_session({"completionModel": {"endpoint": url}}) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        assert await inline(client, uri, *CURSOR, timeout=30) == []  # answered, not left hanging
        errors = await error_messages(client)
        print("user sees:", errors)
        assert errors and "127.0.0.1" in errors[0], errors
        if fault == "garbage":
            assert "not" in errors[0].lower()  # e.g. "... answered with something that is not JSON"
        await still_serving(client, tmp_path)


async def test_endless_output_is_cut_by_max_time(tmp_path: Path, endpoint) -> None:
    options = {"completionModel": {"endpoint": endpoint("endless"), "fimFamily": "qwen"},
               "completion": {"maxTokens": 2048, "maxTimeMs": 800, "prefetch": False}}
    async with lsp_session(options) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        items = await inline(client, uri, *CURSOR, timeout=30)
        # The output never ends: only the time cap can have stopped it.
        last = await asyncio.wait_for(client.protocol.send_request_async("tandem/lastPrompt", None), 20)
        assert last.stopReason == "time"
        assert isinstance(items, list)  # whatever came before the cap, as a suggestion or nothing


async def test_endpoint_whose_tokenizer_answer_never_ends_does_not_hang_completion(tmp_path: Path, endpoint) -> None:
    options = {"completionModel": {"endpoint": endpoint("endless-everywhere"), "fimFamily": "qwen"},
               "completion": {"maxTimeMs": 800, "prefetch": False}}
    async with lsp_session(options) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE)
        assert isinstance(await inline(client, uri, *CURSOR, timeout=10), list)


async def test_review_answer_that_is_not_json_is_said_so(tmp_path: Path, endpoint) -> None:
    async with lsp_session({"completionModel": {"endpoint": endpoint("not-json")}}) as (client, _):
        uri = open_document(client, tmp_path / "a.py", SOURCE + "a * b\n")
        result = await asyncio.wait_for(client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tandem.review", arguments=[{"uri": uri}])), 60)
        assert result["findings"] == 0
        # "No findings" and "the model's answer could not be read" must not look the same.
        told = result.get("note", "") + " ".join(m.message for m in client.messages)
        assert "could not be read" in told or "not valid JSON" in told or "unreadable" in told, result
        assert isinstance(await inline(client, uri, *CURSOR, timeout=30), list)
        await still_serving(client, tmp_path)


# -- the protocol channel while a model loads ------------------------------------

@pytest.mark.model
async def test_requests_sent_while_the_model_loads_are_all_answered(tmp_path: Path, small_model: Path) -> None:
    """llama-cpp-python points fd 1 at /dev/null while it loads a model (verbose=False);
    an answer written to stdout in that window is lost and the editor waits forever."""
    async with lsp_session() as (client, _):
        # `initialized` starts loading the completion model; ask cheap questions meanwhile.
        pending = []
        started = time.monotonic()
        while time.monotonic() - started < 3:
            pending.append(asyncio.ensure_future(client.protocol.send_request_async("tandem/stats", None)))
            await asyncio.sleep(0.01)
        done, lost = await asyncio.wait(pending, timeout=20)
        assert not lost, f"{len(lost)} of {len(pending)} requests never got an answer"
        # And the ones sent after loading, too (however long loading took on this machine).
        for _ in range(600):
            stats = await asyncio.wait_for(client.protocol.send_request_async("tandem/stats", None), 20)
            if stats.models:
                break
            await asyncio.sleep(0.1)
        assert stats.models, "the model never loaded"
