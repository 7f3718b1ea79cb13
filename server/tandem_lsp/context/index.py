"""The workspace index: every source file's definitions and chunks, kept live.

Writers (the initial build, the file watcher, open-buffer updates) parse
outside the lock and only take it to swap a file's records in; readers
(`retrieve`, called for every completion) take it for a few milliseconds at
most, and give up rather than wait past their budget. Open buffers override
the files on disk until they are closed.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Collection, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tree_sitter as ts

from tandem_lsp.config import IndexSettings
from tandem_lsp.context.cache import IndexCache, cache_path
from tandem_lsp.context.files import RootFilter, SkipFile, file_signature, read_source, walk
from tandem_lsp.context.gc_pause import gc_paused
from tandem_lsp.context.postings import Postings
from tandem_lsp.context.resolve import path_key
from tandem_lsp.context.retrieve import ALL_KINDS, RECENT_CONTEXT_LINES, ContextSnippet, IndexView, cursor_at, parse_unindexed, retrieve
from tandem_lsp.context.symbols import Definition, FileSymbols, Import, parse_source
from tandem_lsp.context.tree_edit import edit_for_change
from tandem_lsp.context.watch import DiskWatcher
from tandem_lsp.languages import grammar_for_path, language_for_path

log = logging.getLogger(__name__)

# Errors kept for stats(); the rest are only logged.
MAX_ERRORS = 200


@dataclass
class IndexStats:
    files: int = 0
    files_by_language: dict[str, int] = field(default_factory=dict)
    definitions: int = 0
    chunks: int = 0
    skipped: int = 0  # too large, binary or unreadable
    cached: int = 0  # files whose parse came from the disk cache
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "filesByLanguage": dict(self.files_by_language),
            "definitions": self.definitions,
            "chunks": self.chunks,
            "skipped": self.skipped,
            "cached": self.cached,
            "errors": list(self.errors),
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class _File:
    path: str
    rel: str
    language: str  # LSP language id
    grammar: str
    key: str  # resolve.path_key of the path
    text: str
    definitions: list[Definition]
    imports: list[Import]
    chunks: list[tuple[int, int]]
    file_id: int  # this version's id in the postings
    # (mtime_ns, size) of the disk version indexed; None for an open buffer.
    disk: tuple[int, int] | None
    is_open: bool = False
    tree: ts.Tree | None = None  # kept for open buffers only (incremental re-parse)


def _norm(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(path))


class WorkspaceIndex:
    def __init__(self, roots: Iterable[str | Path], settings: IndexSettings | None = None, persist: bool = False) -> None:
        """`persist` keeps parse results in an SQLite file (settings.cache_dir) for fast restarts."""
        self.settings = settings or IndexSettings()
        unique = list(dict.fromkeys(_norm(r) for r in roots))
        self._roots = [RootFilter(r, self.settings) for r in unique]
        self._cache = IndexCache(cache_path(unique, self.settings.cache_dir)) if persist else None
        self._to_cache: list[tuple[str, int, int, FileSymbols]] = []
        self._cached = 0
        self._lock = threading.RLock()
        self._files: dict[str, _File] = {}
        self._by_name: dict[str, list[Definition]] = {}
        # Similarity search: identifier -> ids of the file versions using it.
        # A re-indexed file gets a new id; the old one's postings stay behind
        # (owner None) until compaction.
        self._postings = Postings()
        self._id_owner: list[str | None] = []
        self._id_terms = array("i")
        self._live_postings = 0
        self._dead_postings = 0
        self._recent: deque[tuple[str, int, int]] = deque(maxlen=16)
        self._errors: list[str] = []
        self._skipped = 0
        self._seconds = 0.0
        self._watcher = DiskWatcher(self)
        # Bumped when files change on disk, so a completion engine caching
        # retrieved context knows to retrieve again (open-buffer typing does not bump it).
        self.version = 0

    # -- building -------------------------------------------------------------

    def build(
        self, on_progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None
    ) -> IndexStats:
        """Index every root (blocking). Unchanged files of an earlier build are kept as they are."""
        started = time.perf_counter()
        found: list[tuple[str, RootFilter]] = []
        for flt in self._roots:
            for path in walk(flt, on_error=self.record_error):
                found.append((path, flt))
                if len(found) >= self.settings.max_files:
                    break
            if len(found) >= self.settings.max_files:
                self.record_error(f"stopped at maxFiles={self.settings.max_files} files")
                break
        seen = {path for path, _ in found}
        with self._lock:
            gone = [p for p, f in self._files.items() if not f.is_open and p not in seen]
        for path in gone:
            self.forget(path)
        total = len(found)
        if on_progress:
            on_progress(0, total)
        with gc_paused():
            for done, (path, flt) in enumerate(found, 1):
                if cancel is not None and cancel.is_set():
                    break
                self.index_disk_file(path, flt, batch=True)
                if on_progress and (done % 50 == 0 or done == total):
                    on_progress(done, total)
                if done % 500 == 0:
                    self.version += 1  # context retrieved from a partial index gets refreshed
        with self._lock:
            self._postings.seal()
        if self._cache is not None and self._to_cache:
            self._cache.store(self._to_cache)  # one transaction
            self._to_cache = []
        self.version += 1
        self._seconds = time.perf_counter() - started
        return self.stats()

    @property
    def roots(self) -> tuple[RootFilter, ...]:
        return tuple(self._roots)

    def root_of(self, path: str) -> RootFilter | None:
        best = None
        for flt in self._roots:
            if (path == flt.root or path.startswith(flt.root.rstrip(os.sep) + os.sep)) and (
                best is None or len(flt.root) > len(best.root)
            ):
                best = flt
        return best

    def record_error(self, message: str) -> None:
        log.debug("index: %s", message)
        with self._lock:
            if len(self._errors) < MAX_ERRORS:
                self._errors.append(message)

    def index_disk_file(self, path: str, flt: RootFilter, batch: bool = False) -> None:
        """(Re)index one file from disk unless an open buffer owns it or it is unchanged.

        A build passes `batch`: the file's postings are sealed with the
        others' (searchable once sealed) and its parse results go to the disk
        cache in one transaction at the end.
        """
        grammar = grammar_for_path(path)
        with self._lock:
            entry = self._files.get(path)
            if entry is not None and entry.is_open:
                return
            if entry is not None and entry.disk is not None and entry.disk == file_signature(path):
                return
        if grammar is None:
            return
        try:
            source = read_source(path, self.settings.max_file_bytes)
        except SkipFile:
            with self._lock:
                self._skipped += 1
            self.forget(path)
            return
        except OSError as exc:
            self.record_error(f"{path}: {exc.strerror or exc}")
            self.forget(path)
            return
        symbols = None
        if self._cache is not None:
            symbols = self._cache.load(path, source.mtime_ns, source.size, source.data.decode("utf-8", errors="replace"))
            self._cached += symbols is not None
        if symbols is None:
            try:
                symbols = parse_source(path, source.data, grammar)
            except Exception as exc:  # a grammar bug must not stop the build
                self.record_error(f"{path}: parse failed: {exc}")
                return
            symbols.tree = None  # trees are large; only open buffers keep theirs
            if self._cache is not None:
                row = (path, source.mtime_ns, source.size, symbols)
                if batch:
                    self._to_cache.append(row)
                else:
                    self._cache.store([row])
        self._store(path, flt, symbols, (source.mtime_ns, source.size), is_open=False, batch=batch)

    def _store(
        self, path: str, flt: RootFilter, symbols: FileSymbols, disk: tuple[int, int] | None, is_open: bool, batch: bool = False
    ) -> None:
        rel = os.path.relpath(path, flt.root).replace(os.sep, "/")
        with self._lock:
            if not is_open and path in self._files and self._files[path].is_open:
                return  # the buffer was opened while we parsed the disk copy
            self._drop(path)
            entry = _File(
                path,
                rel,
                language_for_path(path),
                symbols.grammar,
                path_key(path),
                symbols.text,
                symbols.definitions,
                symbols.imports,
                symbols.chunks,
                len(self._id_owner),
                disk,
                is_open,
                symbols.tree,
            )
            self._files[path] = entry
            for definition in symbols.definitions:
                self._by_name.setdefault(definition.name, []).append(definition)
            self._id_owner.append(path)
            self._id_terms.append(len(symbols.terms))
            self._postings.add(entry.file_id, symbols.terms, batch)
            self._live_postings += len(symbols.terms)

    def _drop(self, path: str) -> None:
        """Forget a file's records (lock held)."""
        entry = self._files.pop(path, None)
        if entry is None:
            return
        for name in {d.name for d in entry.definitions}:
            kept = [d for d in self._by_name.get(name, ()) if d.path != path]
            if kept:
                self._by_name[name] = kept
            else:
                self._by_name.pop(name, None)
        self._id_owner[entry.file_id] = None
        self._dead_postings += self._id_terms[entry.file_id]
        self._live_postings -= self._id_terms[entry.file_id]
        if self._dead_postings > 50_000 and self._dead_postings > self._live_postings:
            self._compact()

    def _compact(self) -> None:
        """Drop postings of forgotten file versions (edits leave them behind)."""
        self._postings.compact(np.fromiter((owner is not None for owner in self._id_owner), bool, len(self._id_owner)))
        self._dead_postings = 0

    def forget(self, path: str) -> None:
        with self._lock:
            self._drop(path)

    def forget_under(self, directory: str, keep: AbstractSet[str] = frozenset()) -> None:
        """Forget the files under `directory` that are not open and not in `keep`."""
        prefix = directory.rstrip(os.sep) + os.sep
        with self._lock:
            for path in [p for p, f in self._files.items() if p.startswith(prefix) and not f.is_open and p not in keep]:
                self._drop(path)

    # -- open buffers and edits -----------------------------------------------

    def update_document(self, path: str, text: str) -> None:
        """An open buffer's contents, which override the file on disk."""
        path = _norm(path)
        flt = self.root_of(path)
        grammar = grammar_for_path(path)
        if flt is None or grammar is None or flt.ignored(path):
            return
        data = text.encode("utf-8", errors="replace")
        if len(data) > self.settings.max_file_bytes:
            return
        with self._lock:
            entry = self._files.get(path)
            old_tree = entry.tree if entry is not None and entry.is_open else None
            old_text = entry.text if old_tree is not None else ""
        if old_tree is not None:
            if old_text == text:
                return
            old_tree.edit(**edit_for_change(old_text, text))
        try:
            symbols = parse_source(path, data, grammar, old_tree)
        except Exception as exc:
            self.record_error(f"{path}: parse failed: {exc}")
            return
        self._store(path, flt, symbols, None, is_open=True)

    def close_document(self, path: str) -> None:
        """The buffer closed: the file on disk is the truth again."""
        path = _norm(path)
        with self._lock:
            entry = self._files.get(path)
            if entry is None:
                return
            entry.is_open, entry.tree, entry.disk = False, None, None
        flt = self.root_of(path)
        if flt is None or not os.path.isfile(path) or flt.ignored(path):
            self.forget(path)
        else:
            self.index_disk_file(path, flt)
        self.version += 1

    def record_edit(self, path: str, start_line: int, end_line: int) -> None:
        """Lines just edited; other files' recent edits become "recent" context."""
        path = _norm(path)
        start_line, end_line = min(start_line, end_line), max(start_line, end_line)
        with self._lock:
            if self._recent and self._recent[-1][0] == path:
                _, a, b = self._recent[-1]
                if start_line <= b + RECENT_CONTEXT_LINES and end_line >= a - RECENT_CONTEXT_LINES:
                    self._recent[-1] = (path, min(a, start_line), max(b, end_line))
                    return
            self._recent = deque((r for r in self._recent if r[0] != path or not (r[1] <= end_line and start_line <= r[2])), maxlen=16)
            self._recent.append((path, start_line, end_line))

    # -- watching ---------------------------------------------------------------

    def start_watching(self) -> None:
        """Follow changes on disk in a background thread until stop()."""
        if self.settings.watch:
            self._watcher.start()

    def stop(self) -> None:
        """Stop watching (and release the disk cache)."""
        self._watcher.stop()
        if self._cache is not None:
            self._cache.close()

    # -- reading ------------------------------------------------------------------

    def contains(self, path: str | os.PathLike[str]) -> bool:
        return _norm(path) in self._files

    def relative_path(self, path: str) -> str:
        """Workspace-relative form of a path (forward slashes); the path itself outside every root."""
        path = _norm(path) if path else path
        flt = self.root_of(path) if path else None
        return os.path.relpath(path, flt.root).replace(os.sep, "/") if flt else path

    def stats(self) -> IndexStats:
        with self._lock:
            by_language: dict[str, int] = {}
            definitions = 0
            for entry in self._files.values():
                by_language[entry.language] = by_language.get(entry.language, 0) + 1
                definitions += len(entry.definitions)
            return IndexStats(
                files=len(self._files),
                files_by_language=dict(sorted(by_language.items())),
                definitions=definitions,
                chunks=sum(len(f.chunks) for f in self._files.values()),
                skipped=self._skipped,
                cached=self._cached,
                errors=list(self._errors),
                seconds=self._seconds,
            )

    def definitions_named(self, name: str) -> list[Definition]:
        """Every definition of exactly `name`."""
        with self._lock:
            return list(self._by_name.get(name, ()))

    def workspace_symbols(self, query: str, limit: int = 100) -> list[Definition]:
        """Definitions whose name matches `query`: exact, then prefix, then substring, then fuzzy."""
        needle = query.strip().lower()
        fuzzy = re.compile(".*?".join(map(re.escape, needle)), re.IGNORECASE) if needle else None
        ranked: list[tuple[int, int, str]] = []
        with self._lock:
            for name in self._by_name:
                if fuzzy is None:
                    rank = 0
                else:
                    lower = name.lower()
                    if lower == needle:
                        rank = 0
                    elif lower.startswith(needle):
                        rank = 1
                    elif needle in lower:
                        rank = 2
                    elif fuzzy.search(name):
                        rank = 3
                    else:
                        continue
                ranked.append((rank, len(name), name))
            out: list[Definition] = []
            for _, _, name in sorted(ranked):
                for definition in self._by_name[name]:
                    out.append(definition)
                    if len(out) >= limit:
                        return out
            return out

    def snippets(self, request: Any, kinds: Collection[str] = ALL_KINDS) -> list[ContextSnippet]:
        """Context of these kinds for a completion request (anything with .path, .text and .offset)."""
        if not getattr(request, "path", ""):
            return []
        return self.retrieve(request.path, request.text, request.offset, kinds=kinds)

    def retrieve(
        self, path: str, text: str, offset: int, budget_ms: int | None = None, kinds: Collection[str] = ALL_KINDS
    ) -> list[ContextSnippet]:
        """Cross-file context for a cursor (see retrieve.retrieve), within a time budget."""
        budget = (budget_ms if budget_ms is not None else self.settings.retrieval_budget_ms) / 1000.0
        deadline = time.perf_counter() + budget
        path = _norm(path)
        cursor = cursor_at(path, text, offset)
        # A buffer the index does not hold is parsed only for the definitions it needs.
        local = None if path in self._files or "definition" not in kinds else parse_unindexed(path, text)
        if not self._lock.acquire(timeout=budget):
            return []
        try:
            view = IndexView(
                self._files, self._by_name, self._postings, self._id_owner, self._id_terms, self._live_postings, self._recent
            )
            return retrieve(view, cursor, deadline, local, kinds)
        finally:
            self._lock.release()
