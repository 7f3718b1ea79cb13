"""Server logs where editors look: `window/logMessage` at the configured `logLevel`.

VS Code shows these in the extension's output channel, Neovim in `:LspLog`. The
handler sits on the `tandem_lsp` logger for as long as a session runs (from
`initialized` until `shutdown`); before that nothing is sent, since a client
may not take notifications before the handshake ends.

It must never get in the way of the server: a record is handed to the event
loop and sent from there (a model thread that logs never waits on the
client's pipe), a record logged while a message is being sent is dropped
(no recursion through pygls or the transport), and so are records beyond a
bounded backlog and any failure to send.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from lsprotocol import types

from tandem_lsp.lsp.server import TandemServer

LOGGER = "tandem_lsp"
# Records waiting for the event loop; beyond this a burst is dropped, not queued.
MAX_PENDING = 200

_MESSAGE_TYPES = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
)


def message_type(levelno: int) -> types.MessageType:
    """Error / Warning / Info by level; debug goes out as Log (older clients know no Debug type)."""
    for floor, kind in _MESSAGE_TYPES:
        if levelno >= floor:
            return kind
    return types.MessageType.Log


class ClientLogHandler(logging.Handler):
    """Forward log records to the client as `window/logMessage`."""

    def __init__(self, server: TandemServer) -> None:
        super().__init__()
        self.server = server
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._sending = False
        self._pending = 0
        self._lock = threading.Lock()

    # -- session ---------------------------------------------------------------

    def start(self) -> None:
        """After `initialized`, on the event loop: from now on records go to the client."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        logging.getLogger(LOGGER).addHandler(self)

    def stop(self) -> None:
        logging.getLogger(LOGGER).removeHandler(self)
        self._loop = None

    # -- records ---------------------------------------------------------------

    def wanted(self, record: logging.LogRecord) -> bool:
        level = logging.getLevelName(self.server.settings.log_level.upper())
        return record.levelno >= (level if isinstance(level, int) else logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        loop = self._loop
        if loop is None or not self.wanted(record):
            return
        if self._sending and threading.get_ident() == self._loop_thread:
            return  # logged by the send itself: dropping it ends the recursion
        with self._lock:
            if self._pending >= MAX_PENDING:
                return
            self._pending += 1
        try:
            params = types.LogMessageParams(type=message_type(record.levelno), message=self.format(record))
            loop.call_soon_threadsafe(self._send, params)
        except Exception:  # the loop is closed (shutting down) or the record does not format
            with self._lock:
                self._pending -= 1

    def _send(self, params: types.LogMessageParams) -> None:
        with self._lock:
            self._pending -= 1
        if self._loop is None:
            return
        self._sending = True
        try:
            self.server.window_log_message(params)
        except Exception:  # a closed pipe must not turn logging into an error
            pass
        finally:
            self._sending = False


def attach(server: TandemServer) -> ClientLogHandler:
    """Send the server's logs to its client while a session runs."""
    handler = ClientLogHandler(server)
    server.initialized_hooks.insert(0, handler.start)  # first: the other hooks' logs go out too
    server.shutdown_hooks.append(handler.stop)
    return handler
