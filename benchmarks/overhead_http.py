"""`overhead.py --backend http`: tandem-lsp using a model over HTTP vs. a direct request to that server.

One `python -m llama_cpp.server` serves the model on loopback. For each
completion spot, tandem-lsp (stdio LSP, HttpBackend) completes there; then the
very prompt it sent is posted straight to the server's /v1/completions,
streamed to the end as an editor plugin would, asking for as many tokens as
tandem-lsp received. The two measurements of a spot run back to back and
start from the same server prompt cache (the previous spot's prompt is
re-evaluated, untimed, before each), so load from other processes and cache
state hit both sides alike.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from overhead import SETTINGS, report, side_by_side

_STARTUP_S = 120
# No wall-clock cap on tandem's side: the direct request has none either.
_COMPLETION = {**SETTINGS["completion"], "maxTimeMs": 600_000}


def _loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_model(model: Path, threads: int, gpu_layers: int) -> tuple[subprocess.Popen, str]:
    """llama_cpp.server on a free loopback port, ready to answer; returns (process, /v1 endpoint)."""
    port = _loopback_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", "4096", "--n_batch", "128", "--n_threads", str(threads), "--n_threads_batch", str(threads),
               "--n_gpu_layers", str(gpu_layers), "--verbose", "false"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}/v1"
    give_up = time.monotonic() + _STARTUP_S
    while time.monotonic() < give_up and server.poll() is None:
        try:
            httpx.get(f"{endpoint}/models", timeout=1).raise_for_status()
            return server, endpoint
        except httpx.HTTPError:
            time.sleep(0.25)
    server.kill()
    sys.exit("llama_cpp.server did not start (needs: pip install 'llama-cpp-python[server]')")


class DirectClient:
    """Plain requests to the server, as a minimal editor plugin would send them."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.client = httpx.AsyncClient(timeout=600)
        self.model = ""

    async def prime(self, prompt: str) -> None:
        """Leave `prompt` in the server's KV cache (untimed)."""
        if not self.model:
            self.model = (await self.client.get(f"{self.endpoint}/models")).json()["data"][0]["id"]
        body = {"model": self.model, "prompt": prompt, "max_tokens": 1, "temperature": 0}
        (await self.client.post(f"{self.endpoint}/completions", json=body)).raise_for_status()

    async def timed(self, prompt: str, tokens: int) -> float:
        body = {"model": self.model, "prompt": prompt, "max_tokens": max(tokens, 1), "temperature": 0, "stream": True}
        started = time.perf_counter()
        async with self.client.stream("POST", f"{self.endpoint}/completions", json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line == "data: [DONE]":
                    break
        return (time.perf_counter() - started) * 1000


async def measure(endpoint: str, path: Path, text: str, spots):
    direct = DirectClient(endpoint)
    options = {"completionModel": {"endpoint": endpoint}, **SETTINGS, "completion": _COMPLETION}
    try:
        return await side_by_side(options, direct, path, text, spots)
    finally:
        await direct.client.aclose()


def run_http(model: Path, threads: int, gpu_layers: int, path: Path, text: str, spots) -> None:
    server, endpoint = serve_model(model, threads, gpu_layers)
    try:
        runs, direct_ms = asyncio.run(measure(endpoint, path, text, spots))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still inside a prompt evaluation
            server.kill()
            server.wait()
    print(f"model {model.name} behind llama_cpp.server, {len(runs)} completions in {path.name}, "
          f"threads={threads} gpu_layers={gpu_layers}")
    report(runs, direct_ms, backend="http")
