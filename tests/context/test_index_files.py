"""Which files the index reads: .gitignore, excludes, binary/huge files, symlinks, bad encodings."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tandem_lsp.config import IndexSettings
from tandem_lsp.context.files import RootFilter, walk
from tandem_lsp.context.index import WorkspaceIndex


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def indexed(root: Path, **settings) -> set[str]:
    index = WorkspaceIndex([root], IndexSettings(**settings))
    index.build()
    return {os.path.relpath(d, root).replace(os.sep, "/") for d in _paths(index)}


def _paths(index: WorkspaceIndex) -> set[str]:
    return {d.path for d in index.workspace_symbols("", limit=10_000)}


def test_gitignore_nested_and_negated(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.gen.py\nbuild_out/\nsecret*.py\n")
    write(tmp_path, "app.py", "def app(): pass\n")
    write(tmp_path, "schema.gen.py", "def generated(): pass\n")
    write(tmp_path, "build_out/x.py", "def built(): pass\n")
    write(tmp_path, "pkg/.gitignore", "local.py\n!secret_ok.py\n")
    write(tmp_path, "pkg/local.py", "def local_only(): pass\n")
    write(tmp_path, "pkg/secret_ok.py", "def reincluded(): pass\n")
    write(tmp_path, "pkg/secret_no.py", "def secret(): pass\n")
    write(tmp_path, "pkg/mod.py", "def mod(): pass\n")
    assert indexed(tmp_path) == {"app.py", "pkg/mod.py", "pkg/secret_ok.py"}


def test_excludes_binary_huge_and_unknown_files(tmp_path: Path) -> None:
    write(tmp_path, "ok.py", "def ok(): pass\n")
    write(tmp_path, "node_modules/lib/index.js", "function vendored() {}\n")
    write(tmp_path, "third/skip.py", "def skipped(): pass\n")
    write(tmp_path, "blob.py", b"def looks_like_code(): pass\n\x00\x01\x02binary")
    write(tmp_path, "huge.py", "def huge(): pass\n" + "x = 1\n" * 50_000)
    write(tmp_path, "notes.txt", "def not_code(): pass\n")
    settings = {"exclude": IndexSettings().exclude + ["thi*"], "max_file_bytes": 100_000}
    assert indexed(tmp_path, **settings) == {"ok.py"}
    index = WorkspaceIndex([tmp_path], IndexSettings(**settings))
    stats = index.build()
    assert stats.skipped == 2  # binary and huge
    assert stats.files_by_language == {"python": 1}


def test_non_utf8_file_is_indexed_with_replacement(tmp_path: Path) -> None:
    write(tmp_path, "latin.py", "# caf\xe9\ndef cafe(): return 'd\xe9j\xe0'\n".encode("latin-1"))
    index = WorkspaceIndex([tmp_path], IndexSettings())
    stats = index.build()
    assert stats.errors == []
    [definition] = index.definitions_named("cafe")
    assert definition.signature == "def cafe():"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_file_is_reported_not_fatal(tmp_path: Path) -> None:
    write(tmp_path, "ok.py", "def ok(): pass\n")
    locked = write(tmp_path, "locked.py", "def locked(): pass\n")
    locked.chmod(0)
    try:
        index = WorkspaceIndex([tmp_path], IndexSettings())
        stats = index.build()
    finally:
        locked.chmod(0o644)
    assert stats.files == 1
    assert any("locked.py" in e for e in stats.errors)


def test_missing_folder_is_reported_not_fatal(tmp_path: Path) -> None:
    errors: list[str] = []
    assert list(walk(RootFilter(str(tmp_path / "missing"), IndexSettings()), on_error=errors.append)) == []
    assert errors and "missing" in errors[0]
    index = WorkspaceIndex([tmp_path / "missing"], IndexSettings())
    assert index.build().files == 0


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path, "a/mod.py", "def in_a(): pass\n")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    os.symlink(tmp_path, tmp_path / "a" / "root_again")
    result: dict[str, set[str]] = {}
    worker = threading.Thread(target=lambda: result.setdefault("files", indexed(tmp_path)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "walking a symlink loop hung"
    assert result["files"] == {"a/mod.py"}


def test_symlink_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    write(outside, "secret.py", "def outside_def(): pass\n")
    write(root, "inside.py", "def inside_def(): pass\n")
    os.symlink(outside, root / "linked_dir")
    os.symlink(outside / "secret.py", root / "linked_file.py")
    # A link that stays inside the root is fine.
    os.symlink(root / "inside.py", root / "alias.py")
    files = indexed(root)
    assert "linked_dir/secret.py" not in files and "linked_file.py" not in files
    assert "inside.py" in files


def test_max_files_caps_the_build(tmp_path: Path) -> None:
    for n in range(6):
        write(tmp_path, f"m{n}.py", f"def f{n}(): pass\n")
    index = WorkspaceIndex([tmp_path], IndexSettings(max_files=4))
    stats = index.build()
    assert stats.files == 4
    assert any("maxFiles" in e for e in stats.errors)


def test_multi_root_and_watcher_filter(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, "a.py", "def from_one(): pass\n")
    write(two, "b.go", "package b\nfunc FromTwo() {}\n")
    write(two, ".gitignore", "gen/\n")
    index = WorkspaceIndex([one, two], IndexSettings())
    stats = index.build()
    assert stats.files_by_language == {"go": 1, "python": 1}
    flt = RootFilter(str(two), IndexSettings())
    assert flt.ignored(str(two / "gen" / "x.go"))
    assert flt.ignored(str(two / "node_modules" / "x.js"))
    assert flt.ignored(str(tmp_path / "elsewhere.py"))
    assert not flt.ignored(str(two / "src" / "x.go"))
