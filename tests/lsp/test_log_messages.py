"""Server logs where editors look: `window/logMessage` at the client's `logLevel`
(VS Code's output channel, Neovim's :LspLog), and `serve --log-file`. No model is loaded:
the model path is a missing file, so the start-up preload logs an error at once."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from lsprotocol import types

from lsp_session import lsp_session
from tandem_lsp.config import Settings
from tandem_lsp.lsp import log_handler
from tandem_lsp.lsp.server import TandemServer


def settings(tmp_path: Path, level: str) -> dict:
    return {"logLevel": level, "completionModel": {"path": str(tmp_path / "no-model.gguf")}}


def project(tmp_path: Path) -> Path:
    """A one-file workspace: indexing it logs `index: …` at info level when done."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    return root


async def until(predicate, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def messages(client, kind: types.MessageType | None = None, containing: str = "") -> list[str]:
    return [m.message for m in client.log_messages if (kind is None or m.type == kind) and containing in m.message]


def indexed(client) -> bool:
    """Whether the indexing progress has ended."""
    for reports in client.progress_reports.values():
        titles = [r.title for r in reports if isinstance(r, types.WorkDoneProgressBegin)]
        if "tandem: indexing workspace" in titles and any(isinstance(r, types.WorkDoneProgressEnd) for r in reports):
            return True
    return False


async def test_info_level_sends_errors_and_info_to_the_client(tmp_path: Path) -> None:
    async with lsp_session(settings(tmp_path, "info"), root=project(tmp_path)) as (client, _):
        await until(lambda: messages(client, types.MessageType.Error, "no-model.gguf"))
        await until(lambda: messages(client, types.MessageType.Info, "index:"))
    assert all(m.message.startswith("tandem_lsp.") for m in client.log_messages)
    assert not messages(client, types.MessageType.Log)  # debug records stay below "info"


async def test_error_level_sends_only_errors(tmp_path: Path) -> None:
    async with lsp_session(settings(tmp_path, "error"), root=project(tmp_path)) as (client, _):
        await until(lambda: messages(client, types.MessageType.Error, "no-model.gguf"))
        await until(lambda: indexed(client))
        # One round trip: the server has handled what it logged before answering.
        await asyncio.wait_for(client.protocol.send_request_async("tandem/stats", None), 30)
        assert not messages(client, containing="index:")
        assert {m.type for m in client.log_messages} == {types.MessageType.Error}


async def test_log_file_gets_the_log(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "tandem.log"
    args = ["--log-level", "info", "--log-file", str(log_file)]
    async with lsp_session(settings(tmp_path, "info"), args=args) as (client, _):
        await until(lambda: messages(client, types.MessageType.Error, "no-model.gguf"))
    text = log_file.read_text()
    assert "INFO tandem_lsp.cli.serve_command: tandem-lsp" in text
    assert "ERROR" in text and "no-model.gguf" in text


async def test_the_handler_sends_nothing_before_initialized_and_never_recurses() -> None:
    # Other in-process servers may have set the package logger's level: this test sets its own.
    package_logger = logging.getLogger("tandem_lsp")
    level = package_logger.level
    package_logger.setLevel(logging.WARNING)
    try:
        await _handler_checks()
    finally:
        package_logger.setLevel(level)


async def _handler_checks() -> None:
    server = TandemServer(Settings().merged({"logLevel": "warning"}))
    sent: list[types.LogMessageParams] = []
    log = logging.getLogger("tandem_lsp.test")

    def window_log_message(params: types.LogMessageParams) -> None:
        sent.append(params)
        log.error("logged while sending")  # dropped: it would loop forever

    server.window_log_message = window_log_message
    handler = log_handler.attach(server)
    log.error("before initialized")
    await asyncio.sleep(0.01)
    assert sent == []

    for hook in server.initialized_hooks:
        hook()
    try:
        log.info("below the level")
        log.warning("from the loop")
        worker = threading.Thread(target=lambda: log.error("from a thread"))
        worker.start()
        worker.join()
        await asyncio.sleep(0.05)
    finally:
        for hook in server.shutdown_hooks:
            hook()
    log.error("after shutdown")
    await asyncio.sleep(0.01)
    assert [(p.type, p.message) for p in sent] == [
        (types.MessageType.Warning, "tandem_lsp.test: from the loop"),
        (types.MessageType.Error, "tandem_lsp.test: from a thread"),
    ]
    assert handler not in logging.getLogger("tandem_lsp").handlers
