"""Describe a buffer change to tree-sitter, so re-parsing reuses the old tree.

Editors send many small edits; the changed region is found by trimming the
common prefix and suffix of the old and new text (compared in C, by halving),
which is one edit whatever the client's change list looked like.
"""

from __future__ import annotations

from typing import Any


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(text: str, index: int) -> tuple[int, int]:
    """(row, byte column) of a str index."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index), len(text[line_start:index].encode("utf-8", errors="replace"))


def edit_for_change(old: str, new: str) -> dict[str, Any]:
    """Keyword arguments for tree_sitter.Tree.edit turning `old` into `new`."""
    start = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - start)
    old_end, new_end = len(old) - suffix, len(new) - suffix
    start_byte = len(old[:start].encode("utf-8", errors="replace"))
    return {
        "start_byte": start_byte,
        "old_end_byte": start_byte + len(old[start:old_end].encode("utf-8", errors="replace")),
        "new_end_byte": start_byte + len(new[start:new_end].encode("utf-8", errors="replace")),
        "start_point": _point(old, start),
        "old_end_point": _point(old, old_end),
        "new_end_point": _point(new, new_end),
    }
