"""`tandem-lsp serve --tcp` serves the same protocol on a loopback socket (on the scripted model)."""

from __future__ import annotations

import asyncio
import socket

from fakes import Reply, Script
from lsprotocol import types
from lsp_session import SCRIPTED_SERVER_COMMAND, ScriptedServer, client_capabilities, inline, open_document
from pytest_lsp import make_test_lsp_client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _connect(port: int, attempts: int = 200):
    for _ in range(attempts):
        try:
            client = make_test_lsp_client()
            await client.start_tcp("127.0.0.1", port)
            return client
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError("server did not start listening")


async def test_tcp_transport_on_loopback(tmp_path):
    port = _free_port()
    script = ScriptedServer(tmp_path / "server", Script(replies=[Reply(["x * x"])]))
    process = await asyncio.create_subprocess_exec(*SCRIPTED_SERVER_COMMAND, str(script.path), "--tcp", f"127.0.0.1:{port}")
    try:
        client = await _connect(port)
        result = await asyncio.wait_for(
            client.initialize_session(types.InitializeParams(capabilities=client_capabilities())), timeout=60
        )
        assert result.capabilities.inline_completion_provider is not None
        uri = open_document(client, tmp_path / "t.py", "def square(x):\n    return ")
        items = await inline(client, uri, 1, 11)
        assert [item.insert_text for item in items] == ["x * x"]
        await asyncio.wait_for(client.shutdown_session(), timeout=20)
        await client.stop()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
