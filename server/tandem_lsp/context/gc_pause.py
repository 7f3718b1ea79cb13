"""Pause Python's cyclic garbage collector while the index is bulk-built.

A build allocates a hundred thousand long-lived containers (definition
lists, chunk tables, per-file records) and, per file, thousands of
short-lived tree-sitter nodes. Each allocation burst triggers collections,
and every full collection walks everything the index already holds: that
costs more than parsing some of the files. The build makes no reference
cycles (reference counting frees all it drops), so the collector has
nothing to find until it ends; it is switched back on afterwards, when
builds from several threads have all finished.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
