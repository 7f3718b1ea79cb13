"""The similarity search's inverted index: batched and single additions, sealing, compaction."""

import numpy as np

from tandem_lsp.context import postings as postings_module
from tandem_lsp.context.postings import Postings


def test_batched_files_are_found_once_sealed_and_single_ones_at_once():
    index = Postings()
    index.add(0, {b"parse_heading", b"level"}, batch=True)
    index.add(1, {b"level", b"render"}, batch=True)
    assert index.files_with(b"level") == []  # the batch is not sealed yet
    index.seal()
    assert sorted(index.files_with(b"level")) == [0, 1]
    index.add(2, {b"level", b"tokenize"})  # a saved file: searchable at once
    assert sorted(index.files_with(b"level")) == [0, 1, 2]
    assert index.files_with(b"tokenize") == [2]
    assert index.files_with(b"absent") == []


def test_large_batches_seal_themselves_and_merge_in_order(monkeypatch):
    monkeypatch.setattr(postings_module, "MIN_SEAL_POSTINGS", 3)
    index = Postings()
    for file_id in range(10):
        index.add(file_id, {b"common", f"only_{file_id}".encode()}, batch=True)
    index.seal()
    assert sorted(index.files_with(b"common")) == list(range(10))
    assert [index.files_with(f"only_{n}".encode()) for n in range(10)] == [[n] for n in range(10)]


def test_compaction_drops_forgotten_versions_and_keeps_the_rest():
    index = Postings()
    index.add(0, {b"alpha", b"beta"}, batch=True)
    index.seal()
    index.add(1, {b"alpha", b"gamma"})  # a new version of file 0
    alive = np.array([False, True])
    index.compact(alive)
    assert index.files_with(b"alpha") == [1]
    assert index.files_with(b"beta") == []
    assert index.files_with(b"gamma") == [1]
