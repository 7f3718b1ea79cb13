"""Which files of a workspace root the index reads, and reading them safely.

The walk honours `.gitignore` files at every level (a deeper file overrides a
shallower one, as git does), the configured exclude names, and never leaves
the root through a symlink; symlinked directories are visited once by their
real path, so a loop cannot hang it. Reading caps the size, skips binary
files and decodes anything else with replacement characters.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pathspec

from tandem_lsp.config import IndexSettings
from tandem_lsp.languages import grammar_for_path

# A NUL byte in the first 8 KB is how git decides a file is binary.
_BINARY_PROBE = 8192


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class RootFilter:
    """Ignore rules of one workspace root: exclude names plus nested .gitignore files."""

    def __init__(self, root: str, settings: IndexSettings) -> None:
        self.root = os.path.abspath(root)
        self.real_root = os.path.realpath(self.root)
        self._names = {p for p in settings.exclude if not any(c in p for c in "*?[")}
        self._globs = [p for p in settings.exclude if p not in self._names]
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._lock = threading.Lock()

    def excluded_name(self, name: str) -> bool:
        return name in self._names or any(fnmatch.fnmatch(name, g) for g in self._globs)

    def spec(self, directory: str) -> pathspec.GitIgnoreSpec | None:
        """The compiled .gitignore of `directory` (None when it has none); cached."""
        with self._lock:
            if directory in self._specs:
                return self._specs[directory]
        spec = None
        try:
            with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as fh:
                spec = pathspec.GitIgnoreSpec.from_lines(fh.read().splitlines())
        except (OSError, ValueError):
            spec = None
        with self._lock:
            self._specs[directory] = spec
        return spec

    def forget_gitignores(self) -> None:
        with self._lock:
            self._specs.clear()

    def gitignored(self, path: str, is_dir: bool, parents: list[str]) -> bool:
        """Whether `path` is ignored by the .gitignore files of `parents` (root first)."""
        for directory in reversed(parents):
            spec = self.spec(directory)
            if spec is None:
                continue
            rel = os.path.relpath(path, directory).replace(os.sep, "/") + ("/" if is_dir else "")
            verdict = spec.check_file(rel).include
            if verdict is not None:
                return verdict
        return False

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Full check for one path (watcher events): inside the root, not excluded, not gitignored."""
        path = os.path.abspath(path)
        if not _inside(path, self.root) or path == self.root:
            return path != self.root
        rel_parts = os.path.relpath(path, self.root).split(os.sep)
        if any(self.excluded_name(part) for part in rel_parts):
            return True
        parents = [self.root]
        for part in rel_parts[:-1]:
            parent = os.path.join(parents[-1], part)
            if self.gitignored(parent, True, parents):
                return True
            parents.append(parent)
        return self.gitignored(path, is_dir, parents)


def walk(flt: RootFilter, start: str | None = None, on_error: Callable[[str], None] | None = None) -> Iterator[str]:
    """Paths of indexable source files under `start` (default: the root), depth first."""
    start = os.path.abspath(start or flt.root)
    if start != flt.root and flt.ignored(start, is_dir=True):
        return
    parents = [flt.root]
    if start != flt.root:
        for part in os.path.relpath(start, flt.root).split(os.sep):
            parents.append(os.path.join(parents[-1], part))
    visited: set[str] = set()
    stack: list[list[str]] = [parents]
    while stack:
        chain = stack.pop()
        directory = chain[-1]
        real = os.path.realpath(directory)
        if real in visited or not _inside(real, flt.real_root):
            continue
        visited.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            if on_error:
                on_error(f"{directory}: {exc.strerror or exc}")
            continue
        subdirs: list[list[str]] = []
        for entry in entries:
            if flt.excluded_name(entry.name):
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()  # follows links; checked against the root below
                is_file = not is_dir and entry.is_file()
            except OSError:
                continue
            if is_link and not _inside(os.path.realpath(entry.path), flt.real_root):
                continue
            if is_dir:
                if not flt.gitignored(entry.path, True, chain):
                    subdirs.append(chain + [entry.path])
            elif is_file and grammar_for_path(entry.name) and not flt.gitignored(entry.path, False, chain):
                yield entry.path
        stack.extend(reversed(subdirs))


@dataclass(frozen=True)
class Source:
    data: bytes
    mtime_ns: int
    size: int


class SkipFile(Exception):
    """The file exists but is not indexed (too large, binary, not a regular file)."""


def read_source(path: str, max_bytes: int) -> Source:
    """Read a file for indexing. Raises SkipFile for files the index leaves out, OSError when unreadable."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise SkipFile("not a regular file")
        if st.st_size > max_bytes:
            raise SkipFile(f"larger than {max_bytes} bytes")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SkipFile(f"larger than {max_bytes} bytes")
    if b"\0" in data[:_BINARY_PROBE]:
        raise SkipFile("binary")
    return Source(data, st.st_mtime_ns, st.st_size)


def file_signature(path: str) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
