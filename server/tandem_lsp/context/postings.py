"""Which file versions use which identifiers: the inverted index behind the similarity search.

Two tiers. A build hands over each file's terms in batches that are sealed
into sorted numpy arrays (term hash -> file ids, grouped by hash): one
vectorised sort per batch instead of a dictionary update per term and file,
which made up a sixth of the build's time, and a dozen bytes per posting
with no Python object behind it. Files re-indexed one at a time (saves,
open buffers) go to a small dictionary that lookups read too, so a change
is searchable at once.

Terms are keyed by Python's hash of their bytes: two identifiers sharing a
64-bit hash would share postings, which at worst nudges a similarity score.
"""

from __future__ import annotations

from array import array
from collections.abc import Set as AbstractSet

import numpy as np

# Batched postings sealed at once: bigger batches sort fewer times; the
# sealed arrays grow geometrically, so merging stays linear overall.
MIN_SEAL_POSTINGS = 200_000


class Postings:
    def __init__(self) -> None:
        self._keys = np.empty(0, np.int64)  # sorted term hashes, one per posting
        self._ids = np.empty(0, np.uint32)  # the file id of each posting
        self._batch_keys: list[np.ndarray] = []
        self._batch_ids: list[int] = []
        self._batch_postings = 0
        self._recent: dict[int, array] = {}  # 4 bytes a posting: open buffers add a version per edit

    def add(self, file_id: int, terms: AbstractSet[bytes], batch: bool = False) -> None:
        """Record that `file_id` uses `terms`; a batched file is searchable once the batch is sealed."""
        if batch:
            self._batch_keys.append(np.fromiter(map(hash, terms), np.int64, len(terms)))
            self._batch_ids.append(file_id)
            self._batch_postings += len(terms)
            if self._batch_postings >= max(MIN_SEAL_POSTINGS, len(self._keys) // 2):
                self.seal()
            return
        recent = self._recent
        for term in terms:
            ids = recent.get(key := hash(term))
            if ids is None:
                recent[key] = array("I", (file_id,))
            else:
                ids.append(file_id)

    def seal(self) -> None:
        """Make every batched file searchable."""
        if not self._batch_keys:
            return
        keys = np.concatenate(self._batch_keys)
        ids = np.repeat(np.array(self._batch_ids, np.uint32), [len(k) for k in self._batch_keys])
        self._batch_keys, self._batch_ids, self._batch_postings = [], [], 0
        self._merge(keys, ids)

    def _merge(self, keys: np.ndarray, ids: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        if len(self._keys):
            at = np.searchsorted(self._keys, keys, side="right")
            keys, ids = np.insert(self._keys, at, keys), np.insert(self._ids, at, ids)
        self._keys, self._ids = keys, ids

    def files_with(self, term: bytes) -> list[int]:
        """Ids of the file versions that use `term` (forgotten versions included until `compact`)."""
        key = hash(term)
        lo, hi = np.searchsorted(self._keys, key, side="left"), np.searchsorted(self._keys, key, side="right")
        found = self._ids[lo:hi].tolist() if hi > lo else []
        recent = self._recent.get(key)
        return found + recent.tolist() if recent else found

    def compact(self, alive: np.ndarray) -> None:
        """Keep only postings of file ids where the mask `alive` is true; the recent ones are folded in."""
        self.seal()
        if self._recent:
            keys = np.fromiter((k for k, found in self._recent.items() for _ in found), np.int64)
            ids = np.fromiter((i for found in self._recent.values() for i in found), np.uint32)
            self._recent = {}
            self._merge(keys, ids)
        keep = alive[self._ids]
        self._keys, self._ids = self._keys[keep], self._ids[keep]
