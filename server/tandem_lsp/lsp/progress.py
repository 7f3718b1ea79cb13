"""Work-done progress around a piece of async work, tolerant of clients without it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import AsyncIterator, Callable

from lsprotocol import types
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


def _client_supports_progress(server: LanguageServer) -> bool:
    window = server.client_capabilities.window
    return bool(window and window.work_done_progress)


@contextlib.asynccontextmanager
async def work_done(server: LanguageServer, title: str, cancellable: bool = False) -> AsyncIterator[Callable[[str, int | None], None]]:
    """Yields report(message, percentage). Begin and end are always sent as a pair."""
    if not _client_supports_progress(server):
        yield lambda message, percentage=None: None
        return
    token = f"tandem-{uuid.uuid4().hex[:12]}"
    try:
        await server.work_done_progress.create_async(token)
    except Exception:  # the client refused: work goes on without a progress bar
        log.debug("client declined progress token", exc_info=True)
        yield lambda message, percentage=None: None
        return
    server.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=cancellable, percentage=0))

    def report(message: str, percentage: int | None = None) -> None:
        server.work_done_progress.report(token, types.WorkDoneProgressReport(message=message, percentage=percentage))

    try:
        yield report
    finally:
        server.work_done_progress.end(token, types.WorkDoneProgressEnd())


class ThrottledProgress:
    """Reports from a worker thread, handed to the event loop at most once per `interval_s`.

    Indexing and model generation call back per file or per token; the client
    needs a few reports a second at most.
    """

    def __init__(self, report: Callable[[str, int | None], None], interval_s: float, loop: asyncio.AbstractEventLoop) -> None:
        self._report = report
        self._interval_s = interval_s
        self._loop = loop
        self._last = 0.0

    def __call__(self, message: str, percentage: int | None = None, final: bool = False) -> None:
        """`final` reports even within the interval (the last state must show)."""
        now = time.monotonic()
        if final or now - self._last >= self._interval_s:
            self._last = now
            self._loop.call_soon_threadsafe(self._report, message, percentage)
