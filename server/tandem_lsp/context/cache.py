"""The index on disk, so a restart on an unchanged workspace skips parsing.

One SQLite file per set of workspace roots holds each file's parse results
(definitions, imports, chunks, words) keyed by path, mtime and size. The
text itself is not stored: a hit still reads the file, which is cheap next
to parsing it. The cache is best-effort: any error (a locked, corrupt or
read-only database) turns it off for the session, never the index.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sqlite3
import threading
from pathlib import Path

from tandem_lsp.context.symbols import Definition, FileSymbols, Import

log = logging.getLogger(__name__)

# Bump when what parse_source produces changes: older caches are then ignored.
FORMAT = 6


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tandem-lsp")) / "index"


def cache_path(roots: list[str], cache_dir: str = "") -> Path:
    key = hashlib.sha1("\n".join(sorted(roots)).encode()).hexdigest()[:16]
    return (Path(cache_dir) if cache_dir else default_cache_dir()) / f"{key}.sqlite"


class IndexCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(path), timeout=2, check_same_thread=False)
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, language TEXT, data BLOB)"
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None or row[0] != str(FORMAT):
                db.execute("DELETE FROM files")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
            db.commit()
            self._db = db
        except (sqlite3.Error, OSError) as exc:
            log.info("index cache %s unusable: %s", path, exc)

    def _off(self, exc: Exception) -> None:
        log.info("index cache %s turned off: %s", self.path, exc)
        self._db = None

    def load(self, path: str, mtime_ns: int, size: int, text: str) -> FileSymbols | None:
        """The stored parse of `path` if it was taken from this very version of the file."""
        with self._lock:
            if self._db is None:
                return None
            try:
                row = self._db.execute(
                    "SELECT language, data FROM files WHERE path = ? AND mtime_ns = ? AND size = ?", (path, mtime_ns, size)
                ).fetchone()
            except sqlite3.Error as exc:
                self._off(exc)
                return None
        if row is None:
            return None
        try:
            definitions, imports, chunks, words = pickle.loads(row[1])
        except Exception:  # a damaged row is just a miss
            return None
        return FileSymbols(
            row[0],
            [Definition(path, *d) for d in definitions],
            [Import(*i) for i in imports],
            chunks,
            frozenset(words.split(b"\n")) if words else frozenset(),
            None,
            text,
        )

    def store(self, rows: list[tuple[str, int, int, FileSymbols]]) -> None:
        """Save parse results, one transaction for the lot."""
        if not rows:
            return
        payload = [
            (
                path,
                mtime_ns,
                size,
                symbols.grammar,  # in the column named `language`: renaming it would empty every cache
                pickle.dumps(
                    (
                        [tuple(d)[1:] for d in symbols.definitions],
                        [tuple(i) for i in symbols.imports],
                        symbols.chunks,
                        b"\n".join(symbols.terms),
                    ),
                    protocol=pickle.HIGHEST_PROTOCOL,
                ),
            )
            for path, mtime_ns, size, symbols in rows
        ]
        with self._lock:
            if self._db is None:
                return
            try:
                self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", payload)
                self._db.commit()
            except sqlite3.Error as exc:
                self._off(exc)

    def forget(self, keep: set[str]) -> None:
        """Drop rows of files that are no longer in the workspace."""
        with self._lock:
            if self._db is None:
                return
            try:
                stale = [(p,) for (p,) in self._db.execute("SELECT path FROM files") if p not in keep]
                self._db.executemany("DELETE FROM files WHERE path = ?", stale)
                self._db.commit()
            except sqlite3.Error as exc:
                self._off(exc)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

