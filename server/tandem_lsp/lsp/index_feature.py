"""The workspace index in the server: background build with progress, live buffers, workspace/symbol.

The index is built on a worker thread after `initialized` (with `$/progress`
begin/report/end) and then follows the disk with its watcher. Completions use
it from the start: a partial index gives partial context, never a wait.
Buffer updates go through one coalescing worker thread, so a keystroke in a
large file never re-parses on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from tandem_lsp.config import IndexSettings, Settings
from tandem_lsp.context.index import WorkspaceIndex
from tandem_lsp.lsp.progress import ThrottledProgress, work_done
from tandem_lsp.lsp.server import TandemServer

log = logging.getLogger(__name__)

# How often the progress bar may move while indexing.
PROGRESS_INTERVAL_S = 0.2

_SYMBOL_KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "struct": types.SymbolKind.Struct,
    "interface": types.SymbolKind.Interface,
    "enum": types.SymbolKind.Enum,
    "type": types.SymbolKind.TypeParameter,
    "constant": types.SymbolKind.Constant,
    "variable": types.SymbolKind.Variable,
    "field": types.SymbolKind.Field,
    "module": types.SymbolKind.Namespace,
    "macro": types.SymbolKind.Constant,
}


class _BufferUpdates:
    """Applies open-buffer changes to the index on one thread, keeping only each file's latest state."""

    def __init__(self) -> None:
        self._pending: dict[str, tuple[WorkspaceIndex, str | None]] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(self, index: WorkspaceIndex, path: str, text: str | None) -> None:
        """Queue the buffer's text (None: the buffer closed)."""
        with self._wake:
            self._pending[path] = (index, text)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tandem-index-buffers", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
                path = next(iter(self._pending))
                index, text = self._pending.pop(path)
            try:
                if text is None:
                    index.close_document(path)
                else:
                    index.update_document(path, text)
            except Exception:  # one bad buffer must not stop the others
                log.exception("index update failed for %s", path)


class IndexService:
    def __init__(self, server: TandemServer) -> None:
        self.server = server
        # The index of the current workspace folders (None: indexing is off or there is no folder).
        self.workspace_index: WorkspaceIndex | None = None
        self._settings: IndexSettings | None = None
        self._cancel = threading.Event()
        self._buffers = _BufferUpdates()
        self._building: asyncio.Task[None] | None = None

    # -- life cycle -------------------------------------------------------------

    def start(self) -> None:
        """(Re)build the index of the current workspace folders in the background."""
        self.stop()
        settings = self.server.settings.index
        self._settings = settings
        roots = workspace_roots(self.server)
        if not settings.enabled or not roots:
            return
        index = WorkspaceIndex(roots, settings, persist=True)
        self.workspace_index = index
        self.server.engine.context = index
        for document in list(self.server.workspace.text_documents.values()):
            path = _path(document.uri)
            if path:
                self._buffers.put(index, path, document.source)
        self._cancel = threading.Event()
        self._building = asyncio.get_running_loop().create_task(self._build(index, self._cancel))

    def stop(self) -> None:
        self._cancel.set()
        if self.workspace_index is not None:
            self.workspace_index.stop()
            if self.server.engine.context is self.workspace_index:
                self.server.engine.context = None
        self.workspace_index = None

    async def _build(self, index: WorkspaceIndex, cancel: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        self.server.set_status("indexing", "indexing the workspace")
        try:
            await self._build_with_progress(index, cancel, loop)
        finally:
            if self.server.status.state == "indexing":  # an error or a model status since then stays
                self.server.set_status("ready" if self.server.settings.completion.enabled else "disabled")

    async def _build_with_progress(self, index: WorkspaceIndex, cancel: threading.Event, loop: asyncio.AbstractEventLoop) -> None:
        async with work_done(self.server, "tandem: indexing workspace") as report:
            throttled = ThrottledProgress(report, PROGRESS_INTERVAL_S, loop)

            def progress(done: int, total: int) -> None:
                percentage = int(100 * done / total) if total else 100
                throttled(f"{done}/{total} files", percentage, final=done == total)

            try:
                stats = await loop.run_in_executor(None, lambda: index.build(progress, cancel))
            except Exception as exc:  # the server goes on without cross-file context
                log.exception("indexing failed")
                self.server.show_error(f"indexing failed: {exc}")
                return
            if cancel.is_set():
                return
            report(f"{stats.files} files, {stats.definitions} definitions in {stats.seconds:.1f} s", 100)
        log.info("index: %s", stats.to_dict())
        index.start_watching()

    def settings_changed(self, settings: Settings) -> None:
        # Before `initialized` there is nothing to rebuild; start() reads the settings then.
        if self._settings is not None and settings.index != self._settings and self.server.loop is not None:
            self.server.loop.call_soon_threadsafe(self.start)

    # -- documents ----------------------------------------------------------------

    def document_event(self, event: str, document: TextDocument | None, params: Any) -> None:
        index = self.workspace_index
        if index is None:
            return
        uri = document.uri if document is not None else params.text_document.uri
        path = _path(uri)
        if not path:
            return
        if event in ("open", "change") and document is not None:
            self._buffers.put(index, path, document.source)
            if event == "change":
                for change in params.content_changes:
                    if isinstance(change, types.TextDocumentContentChangePartial):
                        start = change.range.start.line
                        index.record_edit(path, start, start + change.text.count("\n"))
        elif event == "close":
            self._buffers.put(index, path, None)

    # -- workspace/symbol -----------------------------------------------------------

    def symbols(self, query: str) -> list[types.WorkspaceSymbol]:
        if self.workspace_index is None:
            return []
        out = []
        for d in self.workspace_index.workspace_symbols(query, limit=200):
            location = types.Location(
                uri=from_fs_path(d.path) or d.path,
                range=types.Range(start=types.Position(d.start_line, 0), end=types.Position(d.end_line + 1, 0)),
            )
            out.append(
                types.WorkspaceSymbol(
                    name=d.name,
                    kind=_SYMBOL_KINDS.get(d.kind, types.SymbolKind.Variable),
                    location=location,
                    container_name=self.workspace_index.relative_path(d.path),
                )
            )
        return out


def _path(uri: str) -> str | None:
    return to_fs_path(uri) if uri.startswith("file:") else None


def workspace_roots(server: TandemServer) -> list[str]:
    roots = [p for p in (_path(folder.uri) for folder in server.workspace.folders.values()) if p]
    if not roots and server.workspace.root_path:
        roots = [server.workspace.root_path]
    return roots


def register(server: TandemServer) -> None:
    service = IndexService(server)
    server.index = service
    server.document_listeners.append(service.document_event)
    server.settings_listeners.append(service.settings_changed)
    server.initialized_hooks.append(service.start)
    server.shutdown_hooks.append(service.stop)

    def workspace_symbol(ls: TandemServer, params: types.WorkspaceSymbolParams) -> list[types.WorkspaceSymbol]:
        return service.symbols(params.query)

    def offer_workspace_symbols(params: types.InitializeParams) -> None:
        # Decided at initialize (capabilities are fixed then), from initializationOptions.
        if server.settings.index.workspace_symbols:
            server.feature(types.WORKSPACE_SYMBOL)(workspace_symbol)

    server.initialize_hooks.append(offer_workspace_symbols)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: TandemServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        # pygls updates ls.workspace.folders itself; rebuild over the new set.
        service.start()

    @server.feature("tandem/indexStats")
    def index_stats(ls: TandemServer, params: Any = None) -> dict | None:
        """What the index holds (None when there is no index): for status displays and tests."""
        return service.workspace_index.stats().to_dict() if service.workspace_index is not None else None
