"""Following the disk: file events from a watcher thread become index updates.

Saves, new files and folders, deletes, renames and .gitignore edits reach
the index through its store methods; open buffers keep overriding the disk.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tandem_lsp.context.files import RootFilter, walk
from tandem_lsp.languages import grammar_for_path

if TYPE_CHECKING:
    from tandem_lsp.context.index import WorkspaceIndex

# How long a burst of events may gather, and how quiet it must go.
WATCH_DEBOUNCE_MS = 200
WATCH_STEP_MS = 15


class DiskWatcher:
    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Follow changes on disk in a background thread until stop()."""
        if self.alive:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="tandem-index-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self) -> None:
        import watchfiles

        roots = [flt.root for flt in self.index.roots if os.path.isdir(flt.root)]
        if not roots:
            return
        try:
            for changes in watchfiles.watch(
                *roots,
                watch_filter=None,
                debounce=WATCH_DEBOUNCE_MS,
                step=WATCH_STEP_MS,
                stop_event=self._stop,
                rust_timeout=500,
                yield_on_timeout=False,
                raise_interrupt=False,
                ignore_permission_denied=True,
            ):
                try:
                    self.apply_changes((change.name, path) for change, path in changes)
                except Exception as exc:  # keep watching whatever one batch did
                    self.index.record_error(f"applying file changes failed: {exc}")
        except Exception as exc:
            self.index.record_error(f"file watching stopped: {exc}")

    def apply_changes(self, changes: Iterable[tuple[str, str]]) -> None:
        """Apply ("added" | "modified" | "deleted", path) events from a watcher."""
        index = self.index
        gitignores: set[tuple[RootFilter, str]] = set()
        for change, raw in changes:
            path = os.path.abspath(raw)
            flt = index.root_of(path)
            if flt is None:
                continue
            rel_parts = os.path.relpath(path, flt.root).split(os.sep)
            if any(flt.excluded_name(part) for part in rel_parts):
                continue
            if rel_parts[-1] == ".gitignore":
                gitignores.add((flt, os.path.dirname(path)))
            elif change == "deleted":
                index.forget(path)
                if grammar_for_path(path) is None:
                    index.forget_under(path)  # maybe a folder
            elif os.path.isdir(path):
                self._sync_directory(flt, path)
            elif grammar_for_path(path) is not None:
                if flt.ignored(path):
                    index.forget(path)
                else:
                    index.index_disk_file(path, flt)
        for flt, directory in gitignores:
            flt.forget_gitignores()
            self._sync_directory(flt, directory)
        index.version += 1

    def _sync_directory(self, flt: RootFilter, directory: str) -> None:
        """Make the index agree with the disk under `directory` (a folder appeared, a .gitignore changed)."""
        present = set(walk(flt, directory, on_error=self.index.record_error))
        self.index.forget_under(directory, keep=present)
        for path in sorted(present):
            self.index.index_disk_file(path, flt)
