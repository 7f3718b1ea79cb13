"""Suggestions remembered by the text around the cursor, with type-through.

Keyed on both sides of the cursor: the same prefix with a different suffix is
a different question. When the user types characters that match a suggestion
on screen, the rest of that suggestion answers the new request with no model
call. Only windows of text are kept, so memory stays small for big files.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

WINDOW = 2048


@dataclass(frozen=True)
class CursorKey:
    """The text around a cursor, as windows plus the absolute prefix length."""

    prefix_len: int
    prefix_tail: str
    suffix_head: str

    @staticmethod
    def of(text: str, offset: int) -> "CursorKey":
        return CursorKey(offset, text[max(0, offset - WINDOW) : offset], text[offset : offset + WINDOW])

    def typed_since(self, earlier: "CursorKey", text: str) -> str | None:
        """What was typed at `earlier`'s cursor to reach this one, or None if the edit was anything else."""
        grown = self.prefix_len - earlier.prefix_len
        if grown < 0 or self.suffix_head != earlier.suffix_head:
            return None
        start = earlier.prefix_len
        if text[max(0, start - WINDOW) : start] != earlier.prefix_tail:
            return None
        return text[start : self.prefix_len]


class CompletionCache:
    def __init__(self, capacity: int = 256) -> None:
        self._entries: OrderedDict[CursorKey, str] = OrderedDict()
        self._capacity = capacity

    def put(self, key: CursorKey, suggestion: str) -> None:
        self._entries[key] = suggestion
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def lookup(self, key: CursorKey, text: str) -> str | None:
        """The suggestion still valid at `key`: exact, or the rest after typed-through text."""
        exact = self._entries.get(key)
        if exact is not None:
            self._entries.move_to_end(key)
            return exact
        for earlier, suggestion in reversed(self._entries.items()):
            if not 0 < key.prefix_len - earlier.prefix_len < len(suggestion):
                continue
            typed = key.typed_since(earlier, text)
            if typed and suggestion.startswith(typed):
                return suggestion[len(typed) :]
        return None

    def clear(self) -> None:
        self._entries.clear()
