"""HttpBackend against a real `python -m llama_cpp.server` running SmolLM2 on loopback.

Failure paths use real sockets too: a relay that cuts the stream after some
bytes, a relay that stalls, a closed port, and a small HTTP server that
answers errors or garbage.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from tandem_lsp.config import ModelSettings
from tandem_lsp.models.backend import ChatMessage, ChatRequest, GenerationRequest, ModelError, SpecialToken, render_prompt
from tandem_lsp.models.fim import template_for_family
from tandem_lsp.models.http_backend import HttpBackend, split_endpoint

pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")

PROMPT = ["def fibonacci(n):\n"]


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_llama_server(model: Path) -> tuple[subprocess.Popen, str]:
    """Start llama_cpp.server on a free loopback port; returns (process, ".../v1" endpoint)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--verbose", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    endpoint = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{endpoint}/models", timeout=1).status_code == 200:
                # One tiny completion so later timings do not include warm-up.
                httpx.post(f"{endpoint}/completions", json={"prompt": "a", "max_tokens": 1}, timeout=60)
                return proc, endpoint
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not come up within 90 s")


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def llama_server(small_model: Path) -> Iterator[str]:
    proc, endpoint = start_llama_server(small_model)
    try:
        yield endpoint
    finally:
        stop_process(proc)


@pytest.fixture()
def backend(llama_server: str) -> Iterator[HttpBackend]:
    b = HttpBackend(ModelSettings(endpoint=llama_server))
    yield b
    b.close()


def without_early_end(backend: HttpBackend) -> HttpBackend:
    """Every request asks the server for max_tokens tokens (llama_cpp.server's `min_tokens`, like ignore_eos).

    A test that needs a long answer forces it instead of hoping a model gives one.
    """
    stream = backend.client.stream
    backend.client.stream = lambda url, payload, *rest, **named: stream(url, {**payload, "min_tokens": payload.get("max_tokens", 0)}, *rest, **named)
    return backend


@pytest.fixture()
def forced(backend: HttpBackend) -> HttpBackend:
    return without_early_end(backend)


# -- against the real server ---------------------------------------------------


def test_generate_streams_text(forced: HttpBackend) -> None:
    pieces: list[str] = []
    result = forced.generate(GenerationRequest(prompt=PROMPT, max_tokens=12, max_time_s=60, on_text=pieces.append))
    assert result.text.strip()
    assert "".join(pieces) == result.text
    assert len(pieces) > 1  # really streamed, not one blob
    assert result.stop_reason == "max_tokens"
    assert result.generated_tokens == 12
    assert result.prompt_tokens > 0


def test_generation_is_deterministic_at_temperature_zero(backend: HttpBackend) -> None:
    first = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=8, max_time_s=60))
    again = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=8, max_time_s=60))
    assert first.text == again.text


def test_stop_check_cuts_the_stream(forced: HttpBackend) -> None:
    result = forced.generate(GenerationRequest(prompt=PROMPT, max_tokens=200, max_time_s=60, stop_check=lambda text: len(text) >= 5))
    assert result.stop_reason == "stop_check"
    assert result.generated_tokens < 200


def test_cancel_stops_the_stream_and_next_request_works(forced: HttpBackend) -> None:
    cancel = threading.Event()
    pieces: list[str] = []

    def cancel_after_the_first_piece(piece: str) -> None:
        pieces.append(piece)
        cancel.set()

    request = GenerationRequest(prompt=["Once upon a time"], max_tokens=1500, max_time_s=600, on_text=cancel_after_the_first_piece, cancel=cancel)
    result = forced.generate(request)
    assert result.stop_reason == "cancelled"
    assert pieces == [result.text]  # nothing read after the cancel
    follow = forced.generate(GenerationRequest(prompt=PROMPT, max_tokens=4, max_time_s=60))
    assert follow.text and follow.stop_reason == "max_tokens"


def test_deadline_stops_generation(forced: HttpBackend) -> None:
    # 1500 tokens take SmolLM2 far longer than half a second on any machine that runs these tests.
    result = forced.generate(GenerationRequest(prompt=["Once upon a time"], max_tokens=1500, max_time_s=0.5))
    assert result.stop_reason == "time"
    assert result.generated_tokens < 1500


def test_chat_plain_answer(forced: HttpBackend) -> None:
    streamed: list[str] = []
    result = forced.chat(ChatRequest(messages=[ChatMessage("user", "What is 2+2? Answer briefly.")], max_tokens=30,
                                      on_text=streamed.append))
    assert result.content.strip()
    assert "".join(streamed).strip() == result.content
    assert result.reasoning == ""


def test_chat_follows_a_json_schema(backend: HttpBackend) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    result = backend.chat(ChatRequest(messages=[ChatMessage("user", "What is 2+2? Reply in JSON.")], max_tokens=40,
                                      json_schema=schema))
    parsed = json.loads(result.content)
    assert isinstance(parsed["answer"], int)


def test_tokenizer_and_fim_probe(backend: HttpBackend, small_model: Path) -> None:
    tokens = backend.tokenize("def add(a, b):\n    return a + b\n")
    assert tokens and all(isinstance(t, int) for t in tokens)
    # The estimate uses the ratio measured on this vocabulary: close to the real count.
    text = "import os\nfor name in os.listdir('.'):\n    print(name.upper())\n" * 4
    assert abs(backend.count_tokens(text) - len(backend.tokenize(text))) <= 0.35 * len(backend.tokenize(text))
    assert not backend.fim.has_fim  # SmolLM2 has no FIM tokens
    assert backend.model_id()  # learned from /v1/models
    assert not backend.is_llama_server()  # llama_cpp.server has no /props, so no /infill


def test_fim_family_setting_skips_probing() -> None:
    backend = HttpBackend(ModelSettings(endpoint="http://127.0.0.1:9/v1", fim_family="qwen"))
    assert backend.fim.family == "qwen2.5-coder"
    assert backend.fim.prefix is not None and backend.fim.prefix.text == "<|fim_prefix|>"
    prompt = [backend.fim.prefix, "a = ", backend.fim.suffix, "\n", backend.fim.middle]
    assert render_prompt(prompt) == "<|fim_prefix|>a = <|fim_suffix|>\n<|fim_middle|>"


# -- failures ----------------------------------------------------------------------


class Relay:
    """A TCP relay to `upstream`; `cut_after` response bytes (None: never), or `stall` (forward nothing)."""

    def __init__(self, upstream: tuple[str, int], cut_after: int | None = None, stall: bool = False) -> None:
        self.upstream, self.cut_after, self.stall = upstream, cut_after, stall
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.stall:
            time.sleep(30)
            client.close()
            return
        upstream = socket.create_connection(self.upstream)

        def pump_requests() -> None:
            try:
                while data := client.recv(65536):
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=pump_requests, daemon=True).start()
        sent = 0
        try:
            while data := upstream.recv(65536):
                if self.cut_after is not None and sent + len(data) > self.cut_after:
                    client.sendall(data[: self.cut_after - sent])
                    break
                client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            # shutdown, not just close: the request pump still blocks in recv on
            # this socket, and close alone would not send the FIN.
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self.server.close()


def upstream_of(endpoint: str) -> tuple[str, int]:
    url = httpx.URL(endpoint)
    return url.host, url.port


def test_endpoint_dying_mid_stream_keeps_partial_text(llama_server: str) -> None:
    relay = Relay(upstream_of(llama_server), cut_after=2500)  # headers and a few events, then gone
    backend = without_early_end(HttpBackend(ModelSettings(endpoint=f"http://127.0.0.1:{relay.port}/v1", remote_model="any")))
    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=60, max_time_s=60))
    assert result.stop_reason == "error"
    assert result.text  # what arrived before the cut is kept
    # Chat over the same broken relay: a partial answer, marked as such.
    chat = backend.chat(ChatRequest(messages=[ChatMessage("user", "Tell me a long story.")], max_tokens=100, max_time_s=20))
    assert chat.stop_reason == "error"
    relay.close()
    backend.close()


def test_endpoint_closing_before_answering_is_a_clear_error(llama_server: str) -> None:
    relay = Relay(upstream_of(llama_server), cut_after=0)
    backend = HttpBackend(ModelSettings(endpoint=f"http://127.0.0.1:{relay.port}/v1", remote_model="any"))
    with pytest.raises(ModelError, match="127.0.0.1"):
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=10, max_time_s=20))
    # The /props probe, then the first try and three retries, since nothing had arrived.
    assert relay.connections == 5
    relay.close()


def test_stalled_endpoint_hits_the_deadline(llama_server: str) -> None:
    relay = Relay(upstream_of(llama_server), stall=True)
    backend = HttpBackend(ModelSettings(endpoint=f"http://127.0.0.1:{relay.port}/v1", remote_model="any"))
    started = time.monotonic()
    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=10, max_time_s=0.8))
    assert result.stop_reason == "time" and result.text == ""
    assert time.monotonic() - started < 25, "ended by the deadline, not by the relay giving up after 30 s"
    relay.close()


def test_server_down_fails_fast_with_a_clear_message() -> None:
    backend = HttpBackend(ModelSettings(endpoint=f"http://127.0.0.1:{free_port()}/v1", remote_model="m"))
    with pytest.raises(ModelError, match="cannot reach the model endpoint .* is the server running"):
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=10))
    with pytest.raises(ModelError, match="cannot reach"):
        backend.chat(ChatRequest(messages=[ChatMessage("user", "hi")]))
    # Counting still works (estimated) so prompt assembly never fails on a down server.
    assert backend.count_tokens("x" * 35) == 10
    assert not backend.fim.has_fim


def test_bad_endpoint_urls_are_rejected() -> None:
    for bad in ("", "localhost:8080", "ftp://host/v1"):
        with pytest.raises(ModelError, match="http"):
            HttpBackend(ModelSettings(endpoint=bad))
    assert split_endpoint("http://h:8080") == ("http://h:8080/v1", "http://h:8080")
    assert split_endpoint("https://h/api/v1/") == ("https://h/api/v1", "https://h/api")


class FakeServer:
    """A small real HTTP server whose answers a test scripts: handler(path, body, headers) -> (status, headers, bytes)."""

    def __init__(self, handler: Callable[[str, dict, dict], tuple[int, dict, bytes]]) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                outer.requests.append((self.path, body, dict(self.headers)))
                status, headers, payload = handler(self.path, body, dict(self.headers))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def sse(*events: dict) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}


def test_api_key_sent_as_bearer_and_never_shown(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    server = FakeServer(lambda path, body, headers: (401, JSON, b'{"error": {"message": "Invalid API key"}}'))
    monkeypatch.setenv("MY_TEAM_KEY", "s3cret-value")
    backend = HttpBackend(ModelSettings(endpoint=server.endpoint, remote_model="m", api_key_env="MY_TEAM_KEY"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ModelError) as err:
        backend.generate(GenerationRequest(prompt=PROMPT))
    assert server.requests[0][2]["Authorization"] == "Bearer s3cret-value"
    assert "MY_TEAM_KEY" in str(err.value) and "HTTP 401" in str(err.value)
    assert "s3cret" not in str(err.value) and "s3cret" not in caplog.text
    assert "s3cret" not in repr(backend.__dict__.get("settings"))
    server.close()


def test_server_errors_and_garbage_are_model_errors() -> None:
    answers = {
        "/v1/completions": (500, JSON, b'{"error": {"message": "model exploded"}}'),
        "/v1/chat/completions": (200, SSE, b"this is not an event stream\n\n"),
    }
    server = FakeServer(lambda path, body, headers: answers.get(path, (404, JSON, b'{"detail": "Not Found"}')))
    backend = HttpBackend(ModelSettings(endpoint=server.endpoint, remote_model="m"))
    with pytest.raises(ModelError, match="HTTP 500: model exploded"):
        backend.generate(GenerationRequest(prompt=PROMPT))
    with pytest.raises(ModelError, match="not a server-sent event"):
        backend.chat(ChatRequest(messages=[ChatMessage("user", "hi")]))
    answers["/v1/completions"] = (200, SSE, b"data: {broken json\n\n")
    with pytest.raises(ModelError, match="unreadable stream data"):
        backend.generate(GenerationRequest(prompt=PROMPT))
    server.close()


def test_busy_server_is_retried_before_any_token() -> None:
    calls = {"n": 0}

    def answer(path: str, body: dict, headers: dict) -> tuple[int, dict, bytes]:
        if path != "/v1/completions":
            return 404, JSON, b"{}"
        calls["n"] += 1
        if calls["n"] < 3:
            return 503, JSON, b'{"error": {"message": "loading model"}}'
        return 200, SSE, sse({"choices": [{"text": "ok", "finish_reason": "stop"}]})

    server = FakeServer(answer)
    backend = HttpBackend(ModelSettings(endpoint=server.endpoint, remote_model="m"))
    result = backend.generate(GenerationRequest(prompt=PROMPT))
    assert (result.text, result.stop_reason, calls["n"]) == ("ok", "eos", 3)
    server.close()


def test_reasoning_content_and_think_blocks_are_kept_apart() -> None:
    stream = sse(
        {"choices": [{"delta": {"reasoning_content": "The user wants "}}]},
        {"choices": [{"delta": {"reasoning_content": "a number."}}]},
        {"choices": [{"delta": {"content": "<think>double check</think>"}}]},
        {"choices": [{"delta": {"content": "4"}, "finish_reason": "stop"}]},
    )
    server = FakeServer(lambda path, body, headers: (200, SSE, stream))
    backend = HttpBackend(ModelSettings(endpoint=server.endpoint, remote_model="m"))
    result = backend.chat(ChatRequest(messages=[ChatMessage("user", "2+2?")]))
    assert result.content == "4"
    assert result.reasoning == "The user wants a number.\n\ndouble check"
    server.close()


def test_llama_server_infill_is_used_when_offered() -> None:
    def answer(path: str, body: dict, headers: dict) -> tuple[int, dict, bytes]:
        if path == "/props":
            return 200, JSON, json.dumps({"total_slots": 1, "default_generation_settings": {}}).encode()
        if path == "/infill":
            return 200, SSE, sse({"content": "a + b", "stop": False},
                                 {"content": "", "stop": True, "stop_type": "eos",
                                  "timings": {"prompt_n": 7, "cache_n": 30, "prompt_ms": 4.5, "predicted_n": 3, "predicted_ms": 9.0}})
        if path == "/v1/completions":
            return 200, SSE, sse({"choices": [{"text": "1", "finish_reason": "length"}]})
        return 404, JSON, b"{}"

    server = FakeServer(answer)
    backend = HttpBackend(ModelSettings(endpoint=server.endpoint, remote_model="m", fim_family="qwen"))
    fim = backend.fim
    prompt = [fim.repo_name, "workspace\n", fim.file_sep, "util.py\ndef helper(): pass\n", fim.file_sep, "main.py\n",
              fim.prefix, "def add(a, b):\n", fim.suffix, "\n\nprint(add(1, 2))\n", fim.middle, "    return "]
    result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=16))
    path, body, _ = server.requests[-1]
    assert path == "/infill"
    assert body["input_prefix"] == "def add(a, b):\n"
    assert body["input_suffix"] == "\n\nprint(add(1, 2))\n"
    assert body["prompt"] == "    return "
    assert body["input_extra"] == [{"filename": "util.py", "text": "def helper(): pass\n"}]
    assert body["n_predict"] == 16 and body["stream"] is True
    assert result.text == "a + b"
    assert (result.prompt_tokens, result.prompt_tokens_evaluated, result.generated_tokens) == (37, 7, 3)
    assert result.prompt_ms == 4.5
    # A prefix-only prompt still goes to /v1/completions.
    plain = backend.generate(GenerationRequest(prompt=["x = "], max_tokens=4))
    assert (plain.text, plain.stop_reason) == ("1", "max_tokens")
    assert server.requests[-1][0] == "/v1/completions"
    assert server.requests[-1][1]["cache_prompt"] is True
    server.close()


def test_special_tokens_render_as_text() -> None:
    fim = template_for_family("starcoder")
    assert render_prompt([fim.prefix, "x", SpecialToken(5, "<fim_suffix>"), "y", fim.middle]) == "<fim_prefix>x<fim_suffix>y<fim_middle>"


@pytest.fixture(autouse=True)
def _no_api_key_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANDEM_API_KEY", raising=False)


QWEN_05B = Path.home() / ".cache/tandem/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@pytest.mark.slow
@pytest.mark.skipif(not QWEN_05B.is_file(), reason="run benchmarks/get_models.py --only 0.5b for this test")
def test_fim_tokens_found_through_the_server_tokenizer() -> None:
    proc, endpoint = start_llama_server(QWEN_05B)
    try:
        backend = without_early_end(HttpBackend(ModelSettings(endpoint=endpoint)))
        fim = backend.fim
        assert fim.family == "qwen2.5-coder" and fim.order == "psm"
        assert fim.prefix == SpecialToken(151659, "<|fim_prefix|>")
        assert fim.file_sep is not None and fim.file_sep.text == "<|file_sep|>"
        prompt = [fim.prefix, "def add(a, b):\n", fim.suffix, "\n", fim.middle, "    return "]
        result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=8, max_time_s=30))
        assert result.text.strip()
        assert "<|fim" not in result.text  # control tokens were parsed as such, not echoed as text
    finally:
        stop_process(proc)
