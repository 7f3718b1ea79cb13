"""The workspace index: every source file's definitions and chunks, kept live.

Writers (the initial build, the file watcher, open-buffer updates) parse
outside the lock and only take it to swap a file's records in; readers
(`retrieve`, called for every completion) take it for a few milliseconds at
most, and give up rather than wait past their budget. Open buffers override
the files on disk until they are closed.
"""

from __future__ import annotations

import bisect
import heapq
import logging
import math
import os
import re
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tree_sitter as ts

from tandem_lsp.config import IndexSettings
from tandem_lsp.context.cache import IndexCache, cache_path
from tandem_lsp.context.files import RootFilter, SkipFile, file_signature, read_source, walk
from tandem_lsp.context.gc_pause import gc_paused
from tandem_lsp.context.postings import Postings
from tandem_lsp.context.languages import language_for_path, line_comment
from tandem_lsp.context.resolve import PathHint, matches, module_hints, path_key
from tandem_lsp.context.symbols import (
    IDENTIFIER,
    STOPWORDS,
    Definition,
    FileSymbols,
    Import,
    doc_of,
    parse_source,
    terms_of,
)
from tandem_lsp.context.tree_edit import edit_for_change

log = logging.getLogger(__name__)

# Retrieval shape: how far around the cursor identifiers count as "used
# there", how many snippets of each kind, and how long a snippet may be.
NEAR_LINES_BEFORE = 20
NEAR_LINES_AFTER = 5
# Few whole definitions: past those, signatures tell the model more per token.
MAX_DEFINITIONS = 4
MAX_SIMILAR = 3
MAX_RECENT = 3
DEFINITION_LINES = 14
OUTLINE_LINES = 20
SIMILAR_LINES = 24
RECENT_CONTEXT_LINES = 3
# Terms found in more files than this share say little and cost much to score.
COMMON_TERM_SHARE = 0.1
# Files whose chunks are searched for similar code, and the usual chunk length.
SIMILAR_FILES = 4
CHUNK_QUERY_TERMS = 12
CHUNK_AVERAGE_LINES = 20
# The prompt's own window of the current file, for de-duplication.
WINDOW_BEFORE_CHARS = 6000
WINDOW_AFTER_CHARS = 2000
DUPLICATE_SHARE = 0.6
# Watcher: how long a burst of events may gather, and how quiet it must go.
WATCH_DEBOUNCE_MS = 200
WATCH_STEP_MS = 15
MAX_ERRORS = 200
# A buffer the index does not hold is parsed during retrieval only when this small.
LOCAL_PARSE_CHARS = 60_000
_CONTAINER_KINDS = frozenset({"class", "struct", "interface", "enum", "module"})
# Kinds a name can be guessed to refer to without an import saying so.
_API_KINDS = frozenset({"function", "class", "struct", "interface", "enum", "type", "macro"})
# Imported names (and used `module.member`s) whose signatures are offered.
MAX_STUBS = 24
# How far from the cursor (characters) uses of imported names are looked for.
USE_SCAN_CHARS = 50_000


@dataclass(frozen=True)
class ContextSnippet:
    path: str  # workspace-relative, forward slashes
    text: str
    kind: Literal["definition", "similar", "recent"]
    score: float
    start_line: int


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
    language: str
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
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
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
            for path in walk(flt, on_error=self._error):
                found.append((path, flt))
                if len(found) >= self.settings.max_files:
                    break
            if len(found) >= self.settings.max_files:
                self._error(f"stopped at maxFiles={self.settings.max_files} files")
                break
        seen = {path for path, _ in found}
        with self._lock:
            gone = [p for p, f in self._files.items() if not f.is_open and p not in seen]
        for path in gone:
            self._remove(path)
        total = len(found)
        if on_progress:
            on_progress(0, total)
        with gc_paused():
            for done, (path, flt) in enumerate(found, 1):
                if cancel is not None and cancel.is_set():
                    break
                self._index_disk_file(path, flt, batch=True)
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

    def _root_of(self, path: str) -> RootFilter | None:
        best = None
        for flt in self._roots:
            if (path == flt.root or path.startswith(flt.root.rstrip(os.sep) + os.sep)) and (
                best is None or len(flt.root) > len(best.root)
            ):
                best = flt
        return best

    def _error(self, message: str) -> None:
        log.debug("index: %s", message)
        with self._lock:
            if len(self._errors) < MAX_ERRORS:
                self._errors.append(message)

    def _index_disk_file(self, path: str, flt: RootFilter, batch: bool = False) -> None:
        """(Re)index one file from disk unless an open buffer owns it or it is unchanged.

        A build passes `batch`: the file's postings are sealed with the
        others' (searchable once sealed) and its parse results go to the disk
        cache in one transaction at the end.
        """
        language = language_for_path(path)
        with self._lock:
            entry = self._files.get(path)
            if entry is not None and entry.is_open:
                return
            if entry is not None and entry.disk is not None and entry.disk == file_signature(path):
                return
        if language is None:
            return
        try:
            source = read_source(path, self.settings.max_file_bytes)
        except SkipFile:
            with self._lock:
                self._skipped += 1
            self._remove(path)
            return
        except OSError as exc:
            self._error(f"{path}: {exc.strerror or exc}")
            self._remove(path)
            return
        symbols = None
        if self._cache is not None:
            symbols = self._cache.load(path, source.mtime_ns, source.size, source.data.decode("utf-8", errors="replace"))
            self._cached += symbols is not None
        if symbols is None:
            try:
                symbols = parse_source(path, source.data, language)
            except Exception as exc:  # a grammar bug must not stop the build
                self._error(f"{path}: parse failed: {exc}")
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
                symbols.language,
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

    def _remove(self, path: str) -> None:
        with self._lock:
            self._drop(path)

    def _remove_under(self, directory: str) -> None:
        prefix = directory.rstrip(os.sep) + os.sep
        with self._lock:
            for path in [p for p, f in self._files.items() if p.startswith(prefix) and not f.is_open]:
                self._drop(path)

    def _sync_directory(self, flt: RootFilter, directory: str) -> None:
        """Make the index agree with the disk under `directory` (a folder appeared, a .gitignore changed)."""
        present = set(walk(flt, directory, on_error=self._error))
        prefix = directory.rstrip(os.sep) + os.sep
        with self._lock:
            stale = [p for p, f in self._files.items() if p.startswith(prefix) and not f.is_open and p not in present]
            for path in stale:
                self._drop(path)
        for path in sorted(present):
            self._index_disk_file(path, flt)

    # -- open buffers and edits -----------------------------------------------

    def update_document(self, path: str, text: str) -> None:
        """An open buffer's contents, which override the file on disk."""
        path = _norm(path)
        flt = self._root_of(path)
        language = language_for_path(path)
        if flt is None or language is None or flt.ignored(path):
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
            symbols = parse_source(path, data, language, old_tree)
        except Exception as exc:
            self._error(f"{path}: parse failed: {exc}")
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
        flt = self._root_of(path)
        if flt is None or not os.path.isfile(path) or flt.ignored(path):
            self._remove(path)
        else:
            self._index_disk_file(path, flt)
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
        if not self.settings.watch or (self._watcher is not None and self._watcher.is_alive()):
            return
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="tandem-index-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """Stop watching (and release the disk cache)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
        if self._cache is not None:
            self._cache.close()

    def _watch(self) -> None:
        import watchfiles

        roots = [flt.root for flt in self._roots if os.path.isdir(flt.root)]
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
                    self._error(f"applying file changes failed: {exc}")
        except Exception as exc:
            self._error(f"file watching stopped: {exc}")

    def apply_changes(self, changes: Iterable[tuple[str, str]]) -> None:
        """Apply ("added" | "modified" | "deleted", path) events from a watcher."""
        gitignores: set[tuple[RootFilter, str]] = set()
        for change, raw in changes:
            path = _norm(raw)
            flt = self._root_of(path)
            if flt is None:
                continue
            rel_parts = os.path.relpath(path, flt.root).split(os.sep)
            if any(flt.excluded_name(part) for part in rel_parts):
                continue
            if rel_parts[-1] == ".gitignore":
                gitignores.add((flt, os.path.dirname(path)))
            elif change == "deleted":
                self._remove(path)
                if language_for_path(path) is None:
                    self._remove_under(path)  # maybe a folder
            elif os.path.isdir(path):
                self._sync_directory(flt, path)
            elif language_for_path(path) is not None:
                if flt.ignored(path):
                    self._remove(path)
                else:
                    self._index_disk_file(path, flt)
        for flt, directory in gitignores:
            flt.forget_gitignores()
            self._sync_directory(flt, directory)
        self.version += 1

    # -- reading ------------------------------------------------------------------

    def contains(self, path: str | os.PathLike[str]) -> bool:
        return _norm(path) in self._files

    def relative_path(self, path: str) -> str:
        """Workspace-relative form of a path (forward slashes); the path itself outside every root."""
        path = _norm(path) if path else path
        flt = self._root_of(path) if path else None
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

    def snippets(self, request: Any) -> list[ContextSnippet]:
        """Context for a completion request (anything with .path, .text and .offset)."""
        if not getattr(request, "path", ""):
            return []
        return self.retrieve(request.path, request.text, request.offset)

    def retrieve(self, path: str, text: str, offset: int, budget_ms: int | None = None) -> list[ContextSnippet]:
        """Cross-file context for a cursor, most useful first, within a time budget.

        Definitions of names used near the cursor come first, then signatures
        of the imported names the file uses (nearest use first) and of the
        other imported names, then chunks of other files that share rare
        identifiers with the code around the cursor, then recently edited
        ranges of other files.
        """
        budget = (budget_ms if budget_ms is not None else self.settings.retrieval_budget_ms) / 1000.0
        deadline = time.perf_counter() + budget
        path = _norm(path)
        offset = max(0, min(offset, len(text)))
        before = text[max(0, offset - WINDOW_BEFORE_CHARS) : offset].split("\n")
        after = text[offset : offset + WINDOW_AFTER_CHARS].split("\n")
        window = {line.strip() for line in before + after if line.strip()}
        near = _near_code(before, after)
        local = self._local_symbols(path, text)
        if not self._lock.acquire(timeout=budget):
            return []
        try:
            entry = self._files.get(path)
            if local is None:
                local = (entry.language, entry.definitions, entry.imports) if entry else None
            retrieval = _Retrieval(self, path, window, deadline)
            if local is not None:
                retrieval.definitions(near, text, offset, *local)
            if time.perf_counter() < deadline:
                query = terms_of("\n".join(before[-NEAR_LINES_BEFORE:] + after[:NEAR_LINES_AFTER]).encode("utf-8", errors="replace"))
                retrieval.similar(query)
            if time.perf_counter() < deadline:
                retrieval.recent()
            return retrieval.out
        finally:
            self._lock.release()

    def _local_symbols(self, path: str, text: str) -> tuple[str, list[Definition], list[Import]] | None:
        """Definitions and imports of a file the index does not hold (parsed on the spot, small files only)."""
        if path in self._files:
            return None
        language = language_for_path(path)
        if language is None or len(text) > LOCAL_PARSE_CHARS:
            return None
        try:
            symbols = parse_source(path, text.encode("utf-8", errors="replace"), language)
        except Exception:
            return None
        return language, symbols.definitions, symbols.imports


def _bm25(score: float, length: float, average: float, k1: float = 1.2, b: float = 0.75) -> float:
    """BM25 with binary term frequency: `score` is the sum of the shared terms' idf."""
    return score * (k1 + 1) / (1 + k1 * (1 - b + b * length / average))


@dataclass
class _NearCode:
    """Identifiers around the cursor."""

    names: list[str]  # nearest first: the cursor line, the lines above, the lines below
    qualifiers: dict[str, set[str]]  # name -> what it was reached through (`mod` in `mod.name`)
    assigned: set[str]  # names given a value there (local variables, not workspace definitions)
    bare: set[str]  # names seen at least once without a qualifier


_QUALIFIED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*(?:\.|::|->)\s*([A-Za-z_][A-Za-z0-9_]*)")
_BARE = re.compile(r"(?<![\w.:>])([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)")


def _near_code(before: list[str], after: list[str]) -> _NearCode:
    lines = [before[-1] + (after[0] if after else "")]
    lines += before[-2 : -NEAR_LINES_BEFORE - 1 : -1] + after[1 : NEAR_LINES_AFTER + 1]
    names: dict[str, None] = {}
    for line in lines:
        for name in IDENTIFIER.findall(line):
            if name not in STOPWORDS and not (name.startswith("__") and name.endswith("__")):
                names.setdefault(name)
    text = "\n".join(lines)
    qualifiers: dict[str, set[str]] = {}
    for qualifier, name in _QUALIFIED.findall(text):
        qualifiers.setdefault(name, set()).add(qualifier)
    return _NearCode(list(names), qualifiers, set(_ASSIGNED.findall(text)), set(_BARE.findall(text)))


# Import statements (Python's parenthesised ones span lines): their names are not uses.
_IMPORT_STATEMENT = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import\b(?:[ \t]*\([^)]*\)|[^\n]*)", re.MULTILINE)
_STAR_IMPORT = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]*\*", re.MULTILINE)


def _imported_uses(text: str, offset: int, names: Iterable[str], modules: Iterable[str]) -> list[tuple[str, str]]:
    """Imported names and `module.member`s the file uses, nearest use to the cursor first.

    Each is (name, "") for an imported name or (member, module alias). These
    are the names the code around the cursor most likely calls next, even
    when the prompt's window of the file shows none of their uses.
    """
    names, modules = set(names), set(modules)
    words = sorted(names | modules, key=len, reverse=True)
    if not words:
        return []
    start = max(0, offset - USE_SCAN_CHARS)
    cursor_line = text.count("\n", start, offset)
    # Blank out import statements, keeping their line breaks so line numbers hold.
    scanned = _IMPORT_STATEMENT.sub(lambda m: "\n" * m.group().count("\n"), text[start : offset + USE_SCAN_CHARS])
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, words)) + r")\b(?:[ \t]*\.[ \t]*([A-Za-z_]\w*))?")
    distance: dict[tuple[str, str], int] = {}
    line, previous = 0, 0
    for match in pattern.finditer(scanned):
        line += scanned.count("\n", previous, match.start())
        previous = match.start()
        word, member = match.groups()
        keys = [(word, "")] if word in names else []
        if member and word in modules:
            keys.append((member, word))
        for key in keys:
            distance[key] = min(distance.get(key, 1 << 30), abs(line - cursor_line))
    return sorted(distance, key=distance.__getitem__)


def _best(candidates: list[Definition]) -> Definition | None:
    """Prefer API-like kinds (classes, functions) and shallow paths."""
    if not candidates:
        return None
    return min(candidates, key=lambda d: (d.kind not in _API_KINDS, d.kind == "method", d.path.count(os.sep), d.path))


class _Retrieval:
    """One retrieve() call's state (runs under the index lock)."""

    def __init__(self, index: WorkspaceIndex, path: str, window: set[str], deadline: float) -> None:
        self.index = index
        self.path = path
        self.window = window
        self.deadline = deadline
        self.out: list[ContextSnippet] = []
        self.taken: dict[str, list[tuple[int, int]]] = {}
        self._lines: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            self._lines[path] = self.index._files[path].text.split("\n")
        return self._lines[path]

    def add(self, path: str, start: int, end: int, text: str, kind: str, score: float) -> bool:
        """Keep a snippet unless it overlaps one already kept or repeats the current window."""
        if any(start <= b and a <= end for a, b in self.taken.get(path, ())):
            return False
        body = [line.strip() for line in text.split("\n") if line.strip()]
        if not body or sum(line in self.window for line in body) >= DUPLICATE_SHARE * len(body):
            return False
        self.taken.setdefault(path, []).append((start, end))
        entry = self.index._files[path]
        self.out.append(ContextSnippet(entry.rel, text, kind, round(score, 4), start))  # type: ignore[arg-type]
        return True

    # Definitions ------------------------------------------------------------------

    def definitions(
        self, near: _NearCode, text: str, offset: int, language: str, local_defs: list[Definition], imports: list[Import]
    ) -> None:
        """Definitions of names used near the cursor, then signatures of the other imported names.

        Signatures go to the names the file uses, nearest use first, then to
        imported names the file does not use.
        """
        local = {d.name for d in local_defs}
        name_hints: dict[str, list[PathHint]] = {}  # imported name -> where it comes from
        module_hints_of: dict[str, list[PathHint]] = {}  # module alias (`os`, `fmt`) -> its files
        related: list[PathHint] = []
        for imp in imports:
            hints = module_hints(language, imp.module, self.path)
            related += hints
            # Go imports packages: its "names" are the package aliases used as qualifiers.
            if imp.names and language != "go":
                for name in imp.names:
                    name_hints.setdefault(name, []).extend(hints)
                    if language == "python":  # `from pkg import module`, then `module.name`
                        submodule = imp.module + ("" if imp.module.endswith(".") else ".") + name
                        module_hints_of.setdefault(name, []).extend(module_hints(language, submodule, self.path))
            for alias in imp.names if language == "go" else [re.split(r"[./:]+", imp.module)[-1]]:
                module_hints_of.setdefault(alias, []).extend(hints)
        # A Python name comes from another file only through an import; `import *` brings unnamed ones.
        star = [h for m in _STAR_IMPORT.findall(text) for h in module_hints(language, m, self.path)] if language == "python" else []
        found = 0
        for rank, name in enumerate(near.names):
            if found >= MAX_DEFINITIONS or time.perf_counter() > self.deadline:
                break
            if name in local:
                continue
            hints = name_hints.get(name) or [h for q in near.qualifiers.get(name, ()) for h in module_hints_of.get(q, ())]
            if not hints and language == "python":
                hints = star if name in near.bare else []
                if not hints:
                    continue  # a builtin, a local variable or an attribute the index cannot type
            if not hints and name not in near.bare:
                continue  # only seen as `obj.name` of an object the index cannot type
            best = self._resolve(name, hints, related, guess=name not in near.assigned and len(name) > 2)
            if best is not None and self.add_definition(best, 1.0 / (1.0 + 0.1 * rank)):
                found += 1
        # Names imported by name are a short list the file chose, and one imported but not
        # used yet is likely about to be; `module.member`s can be many. So: used imported
        # names, then unused imported names, then used members.
        used = _imported_uses(text, offset, name_hints, module_hints_of)
        seen = set(used)
        wanted = [u for u in used if not u[1]] + [(name, "") for name in name_hints if (name, "") not in seen]
        wanted += [u for u in used if u[1]]
        stubs: dict[str, list[Definition]] = {}
        resolved = 0
        for name, module in wanted:
            if resolved >= MAX_STUBS or time.perf_counter() > self.deadline:
                break
            hints = module_hints_of[module] if module else name_hints[name]
            if not hints or (name in local and not module):
                continue
            best = self._resolve(name, hints, [], guess=False)
            if best is not None and best not in stubs.get(best.path, ()):
                stubs.setdefault(best.path, []).append(best)
                resolved += 1
        for defs in stubs.values():
            self.add_signatures(defs, 0.5)

    def _resolve(self, name: str, hints: list[PathHint], related: list[PathHint], guess: bool) -> Definition | None:
        """The definition `name` refers to, or None when the index cannot tell.

        With `hints` (the name's own import) only a file the import names will
        do. Otherwise a definition in a file the current one imports or sits
        beside wins; failing that, a name defined exactly once in the
        workspace is taken when `guess` allows (not a local variable).
        """
        candidates = [d for d in self.index._by_name.get(name, ())[:200] if d.path != self.path]
        if not candidates:
            return None
        files = self.index._files
        if hints:
            return _best([d for d in candidates if any(matches(h, files[d.path].key) for h in hints)])
        here = os.path.dirname(self.path)
        near = [
            d
            for d in candidates
            if d.kind != "method"
            and (
                any(matches(h, files[d.path].key) for h in related)
                or (os.path.dirname(d.path) == here and d.kind in _API_KINDS)
            )
        ]
        if near:
            return _best(near)
        if guess and len(candidates) == 1 and candidates[0].kind in _API_KINDS:
            return candidates[0]
        return None

    def add_signatures(self, defs: list[Definition], score: float) -> bool:
        """One snippet with the headers (and doc lines) of several definitions of one file."""
        defs = [d for d in defs if not any(d.start_line <= b and a <= d.end_line for a, b in self.taken.get(d.path, ()))]
        if not defs:
            return False
        language = self.index._files[defs[0].path].language
        marker = line_comment(language)
        text = self.lines(defs[0].path)
        lines = []
        for d in sorted(defs, key=lambda d: d.start_line):
            if doc := doc_of(d, text, language):
                lines.append(f"{marker} {doc}")
            lines.append(d.signature)
        start = min(d.start_line for d in defs)
        if not self.add(defs[0].path, start, start, "\n".join(lines), "definition", score):
            return False
        self.taken[defs[0].path].extend((d.start_line, d.end_line) for d in defs)
        return True

    def add_definition(self, d: Definition, score: float) -> bool:
        lines = self.lines(d.path)
        end = min(d.end_line, len(lines) - 1)
        language = self.index._files[d.path].language
        if d.kind in _CONTAINER_KINDS and end - d.start_line + 1 > OUTLINE_LINES:
            text = self._outline(d, lines, language)
        else:
            body = lines[d.start_line : end + 1]
            if len(body) > DEFINITION_LINES:
                indent = body[-1][: len(body[-1]) - len(body[-1].lstrip())] if body[-1].strip() else ""
                body = body[: DEFINITION_LINES - 1] + [f"{indent}    {line_comment(language)} ..."]
            text = "\n".join(body)
        return self.add(d.path, d.start_line, end, text, "definition", score)

    def _outline(self, d: Definition, lines: list[str], language: str) -> str:
        """A long class as its header and its members' first lines."""
        members = [m for m in self.index._files[d.path].definitions if d.start_line < m.start_line <= d.end_line]
        head_end = members[0].start_line if members else d.start_line + 1
        out = lines[d.start_line : min(head_end, d.start_line + 8)]
        last = head_end
        for m in members:
            if m.start_line < last:
                continue  # nested inside a member already listed
            out.append(lines[m.start_line])
            last = m.end_line + 1
            if len(out) >= OUTLINE_LINES - 1:
                break
        indent = lines[d.start_line][: len(lines[d.start_line]) - len(lines[d.start_line].lstrip())]
        out.append(f"{indent}    {line_comment(language)} ...")
        return "\n".join(out)

    # Similar chunks -----------------------------------------------------------------

    def similar(self, query: AbstractSet[bytes]) -> None:
        """Chunks sharing rare identifiers with the cursor's surroundings.

        Two stages: BM25 (binary term frequency) over whole files picks a few
        files, then the query's terms are located in those files' text to find
        their best chunks. File-level postings keep the index small and fast
        to build; the second stage reads only a handful of files.
        """
        index = self.index
        total = len(index._id_owner) - index._id_owner.count(None) if index._dead_postings else len(index._files)
        if not query or not total:
            return
        limit = max(20, int(total * COMMON_TERM_SHARE))
        postings = sorted((len(ids), term, ids) for term in query if (ids := index._postings.files_with(term)))
        idf: dict[bytes, float] = {}
        scores: dict[int, float] = {}
        for df, term, ids in postings:
            if df > limit or time.perf_counter() > self.deadline:
                break
            weight = idf[term] = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
            for file_id in ids:
                scores[file_id] = scores.get(file_id, 0.0) + weight
        if time.perf_counter() > self.deadline:
            return
        owner = index._id_owner
        average = max(1.0, index._live_postings / total)
        files = heapq.nlargest(
            SIMILAR_FILES,
            (
                (_bm25(score, index._id_terms[fid], average), fid)
                for fid, score in scores.items()
                if owner[fid] is not None and owner[fid] != self.path
            ),
        )
        if not files:
            return
        # The rarest terms are the telling ones, and fewer terms mean fewer matches to walk.
        words = {t.decode("ascii"): w for t, w in heapq.nlargest(CHUNK_QUERY_TERMS, idf.items(), key=lambda item: item[1])}
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + r")\b")
        chunks: list[tuple[float, str, int, int]] = []
        for _, fid in files:
            path = owner[fid]
            assert path is not None
            chunks.extend(self._best_chunks(index._files[path], pattern, words))
            if time.perf_counter() > self.deadline:
                break
        kept = 0
        for score, path, start, end in sorted(chunks, reverse=True):
            text = "\n".join(self.lines(path)[start : min(end, start + SIMILAR_LINES)]).strip("\n")
            if self.add(path, start, end - 1, text, "similar", score / (score + 10.0)):
                kept += 1
                if kept >= MAX_SIMILAR or time.perf_counter() > self.deadline:
                    return

    def _best_chunks(self, entry: _File, pattern: re.Pattern[str], idf: dict[str, float]) -> list[tuple[float, str, int, int]]:
        """The two best-scoring chunks of one file for the query terms in `pattern`."""
        starts = [a for a, _ in entry.chunks]
        found: dict[int, set[str]] = {}
        text = entry.text
        line, previous = 0, 0
        for n, match in enumerate(pattern.finditer(text)):
            if n % 256 == 255 and time.perf_counter() > self.deadline:
                break
            line += text.count("\n", previous, match.start())
            previous = match.start()
            found.setdefault(bisect.bisect_right(starts, line) - 1, set()).add(match.group())
        scored = []
        for i, terms in found.items():
            start, end = entry.chunks[i]
            score = _bm25(sum(idf[t] for t in terms), end - start, CHUNK_AVERAGE_LINES)
            scored.append((score, entry.path, start, end))
        return heapq.nlargest(2, scored)

    # Recent edits ---------------------------------------------------------------------

    def recent(self) -> None:
        kept = 0
        for path, start, end in reversed(self.index._recent):
            if path == self.path or path not in self.index._files:
                continue
            lines = self.lines(path)
            a = max(0, start - RECENT_CONTEXT_LINES)
            b = min(len(lines), end + RECENT_CONTEXT_LINES + 1, a + DEFINITION_LINES)
            text = "\n".join(lines[a:b]).strip("\n")
            if text and self.add(path, a, b - 1, text, "recent", 0.2):
                kept += 1
                if kept >= MAX_RECENT:
                    return
