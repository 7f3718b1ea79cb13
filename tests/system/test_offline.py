"""The offline guarantee: the whole server works with outbound sockets blocked, and nothing tries to leave.

A sitecustomize.py on the server's PYTHONPATH wraps socket.connect/connect_ex/
sendto and getaddrinfo in the server process: AF_UNIX and loopback pass; any
other destination is recorded to a file and refused. The test drives
completion, review, explain, debug and indexing of a temporary workspace, then
asserts the features answered and the record is empty.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from lsprotocol import types
from lsp_session import inline, lsp_session, open_document
from test_index_lsp import request  # a request with a timeout, re-sent if no answer comes

GUARD = '''
import ipaddress, os, socket

_RECORD = os.environ["TANDEM_TEST_SOCKET_RECORD"]
with open(os.environ["TANDEM_TEST_SOCKET_LOADED"], "a") as _f:
    _f.write(f"{os.getpid()}\\n")


def _local(family, address):
    if family == getattr(socket, "AF_UNIX", None):
        return True
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what, address):
    with open(_RECORD, "a") as f:
        f.write(f"{os.getpid()} {what} {address!r}\\n")
    raise OSError(101, f"outbound network blocked by the offline test: {address!r}")


def _guard(name):
    original = getattr(socket.socket, name)

    def guarded(self, first, *rest):
        # connect(address), connect_ex(address), sendto(data[, flags], address)
        target = rest[-1] if name == "sendto" else first
        if not _local(self.family, target):
            _refuse(name, target)
        return original(self, first, *rest)

    setattr(socket.socket, name, guarded)


for _name in ("connect", "connect_ex", "sendto"):
    _guard(_name)

_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _local(socket.AF_INET, (host,)):
        _refuse("getaddrinfo", host)
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo
'''

LIBRARY = '''def mean(values):
    """Arithmetic mean of a non-empty list."""
    return sum(values) / len(values)


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self):
        self.count += 1
        return self.count
'''
MAIN = "from library import mean\n\n\ndef report(values):\n    average = mean(values)\n    return "


def install_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Put the guard on PYTHONPATH for every Python started from now on; return (record, loaded)."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(GUARD)
    record, loaded = tmp_path / "outbound.log", tmp_path / "loaded.log"
    record.write_text("")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH", "")])))
    monkeypatch.setenv("TANDEM_TEST_SOCKET_RECORD", str(record))
    monkeypatch.setenv("TANDEM_TEST_SOCKET_LOADED", str(loaded))
    # Proxies would send even loopback traffic elsewhere; an editor's environment may have them.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return record, loaded


def test_the_guard_records_and_blocks_outbound_connections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard itself works, so an empty record below means something."""
    record, loaded = install_guard(tmp_path, monkeypatch)
    probe = textwrap.dedent("""
        import socket
        for target in [("10.255.255.1", 9), ("example.com", 80)]:
            try:
                socket.create_connection(target, timeout=0.2)
            except OSError:
                pass
        listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen()
        socket.create_connection(listener.getsockname(), timeout=1).close()
    """)
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=30)
    lines = record.read_text().splitlines()
    assert any("10.255.255.1" in line for line in lines) and any("example.com" in line for line in lines)
    assert not any("127.0.0.1" in line for line in lines)
    assert loaded.read_text().strip()


async def _until(check, timeout: float, what: str):
    started = time.monotonic()
    while not (value := await check()):
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
    return value


@pytest.mark.model
async def test_every_feature_works_with_outbound_sockets_blocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_model: Path) -> None:
    record, loaded = install_guard(tmp_path, monkeypatch)
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "library.py").write_text(LIBRARY)
    main = workspace / "main.py"
    main.write_text(MAIN)
    options = {
        "completion": {"maxTokens": 8, "prefetch": False},
        "review": {"maxTokens": 48},
        "completionModel": {"threads": 2},
        "index": {"cacheDir": str(tmp_path / "index-cache"), "workspaceSymbols": True},
    }
    async with lsp_session(options, root=workspace) as (client, _):
        # Indexing: the workspace's definitions become workspace symbols.
        found = await _until(lambda: request(client, types.WORKSPACE_SYMBOL, types.WorkspaceSymbolParams(query="mean")), 60, "workspace/symbol")
        assert any(s.name == "mean" for s in found)
        # Completion, with cross-file context from the index.
        uri = open_document(client, main, MAIN)
        items = await inline(client, uri, 5, len("    return "))
        assert isinstance(items, list)
        last = await request(client, "tandem/lastPrompt", None)
        assert last.promptTokens > 0 and "def report" in last.prompt
        # Review, explain and debug through their commands.
        execute = client.workspace_execute_command_async
        review = await asyncio.wait_for(execute(types.ExecuteCommandParams(command="tandem.review", arguments=[{"uri": uri}])), 240)
        assert "findings" in review and review["findings"] == len(review["diagnostics"])
        explain = await asyncio.wait_for(execute(types.ExecuteCommandParams(command="tandem.explain", arguments=[{"uri": uri}])), 240)
        assert explain["text"].strip()
        debug = await asyncio.wait_for(
            execute(types.ExecuteCommandParams(command="tandem.debug", arguments=[
                {"uri": uri, "errorText": "ZeroDivisionError: division by zero in mean([])", "apply": False}])),
            240,
        )
        assert "explanation" in debug and "cancelled" not in debug  # ran to the end
        stats = await request(client, "tandem/stats", None)
        assert stats.completion.modelCalls >= 1
    assert loaded.read_text().strip(), "the socket guard was not loaded in the server"
    assert record.read_text() == "", f"outbound connection attempts:\n{record.read_text()}"
