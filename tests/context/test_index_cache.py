"""The index persisted to SQLite: a restart on an unchanged workspace reuses the parse results."""

from __future__ import annotations

import os
from pathlib import Path

from tandem_lsp.config import IndexSettings
from tandem_lsp.context.cache import cache_path
from tandem_lsp.context.index import WorkspaceIndex
from tandem_lsp.context.symbols import doc_of


def workspace(root: Path) -> None:
    (root / "a.py").write_text("def alpha(x):\n    '''First.'''\n    return x\n\nfrom b import beta\n")
    (root / "b.go").write_text("package b\n\n// Beta does it.\nfunc Beta() int { return 1 }\n")
    (root / "c.ts").write_text("export function gamma(): number { return 3; }\n")


def snapshot(index: WorkspaceIndex) -> list:
    return sorted(index.workspace_symbols("", limit=1000))


def test_restart_reuses_unchanged_files(tmp_path: Path) -> None:
    root, cache = tmp_path / "ws", tmp_path / "cache"
    root.mkdir()
    workspace(root)
    settings = IndexSettings(cache_dir=str(cache))
    first = WorkspaceIndex([root], settings, persist=True)
    stats = first.build()
    assert stats.cached == 0 and stats.files == 3
    expected = snapshot(first)
    first.stop()
    assert cache_path([str(root)], str(cache)).is_file()

    # Change one file; delete another.
    (root / "a.py").write_text("def alpha_two(x):\n    return x\n")
    os.remove(root / "c.ts")
    second = WorkspaceIndex([root], settings, persist=True)
    stats = second.build()
    assert stats.cached == 1 and stats.files == 2  # b.go from the cache
    names = {d.name for d in second.workspace_symbols("", limit=100)}
    assert names == {"alpha_two", "Beta"}
    beta = second.definitions_named("Beta")[0]
    assert beta == next(d for d in expected if d.name == "Beta")
    assert doc_of(beta, (root / "b.go").read_text().split("\n"), "go") == "Beta does it."
    # Retrieval works from cached records (chunks and words came back too).
    text = "package main\n\nfunc main() {\n\tBeta()\n}\n"
    snippets = second.retrieve(str(root / "main.go"), text, text.index("Beta()"))
    assert snippets and "func Beta() int" in snippets[0].text
    second.stop()

    third = WorkspaceIndex([root], settings, persist=True)
    assert third.build().cached == 2
    third.stop()


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    root, cache = tmp_path / "ws", tmp_path / "cache"
    root.mkdir()
    workspace(root)
    path = cache_path([str(root)], str(cache))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    index = WorkspaceIndex([root], IndexSettings(cache_dir=str(cache)), persist=True)
    stats = index.build()
    assert stats.files == 3 and stats.cached == 0 and stats.errors == []
    index.stop()


def test_no_persistence_unless_asked(tmp_path: Path) -> None:
    root, cache = tmp_path / "ws", tmp_path / "cache"
    root.mkdir()
    workspace(root)
    WorkspaceIndex([root], IndexSettings(cache_dir=str(cache))).build()
    assert not cache.exists()
