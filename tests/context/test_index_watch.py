"""The index follows the disk: saves, new files and folders, deletes, renames, .gitignore edits."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tandem_lsp.config import IndexSettings
from tandem_lsp.context.index import WorkspaceIndex


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until `check()` holds; fails after `timeout` (generous: how fast is for benchmarks, not tests)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the index did not follow the change on disk")
        time.sleep(0.005)


def wait_until_watching(root: Path, index: WorkspaceIndex) -> None:
    """Rewrite a probe file until the watcher reports it: its watches are in place, whatever the machine's load."""
    probe = root / "watch_probe.py"
    deadline = time.monotonic() + 30
    for attempt in range(1_000_000):
        probe.write_text(f"def watch_probe():\n    return {attempt}\n")
        if index.definitions_named("watch_probe"):
            break
        if time.monotonic() > deadline:
            pytest.fail("the watcher never reported a change")
        time.sleep(0.05)
    probe.unlink()
    eventually(lambda: not index.definitions_named("watch_probe"))


@pytest.fixture()
def watched(tmp_path: Path) -> Iterator[tuple[Path, WorkspaceIndex]]:
    (tmp_path / "lib.py").write_text("def original(): pass\n")
    index = WorkspaceIndex([tmp_path], IndexSettings())
    index.build()
    index.start_watching()
    wait_until_watching(tmp_path, index)
    yield tmp_path, index
    index.stop()


def names(index: WorkspaceIndex, name: str) -> set[str]:
    return {d.path for d in index.definitions_named(name)}


def test_saved_change_becomes_visible(watched) -> None:
    root, index = watched
    lib = root / "lib.py"
    lib.write_text("def original(): pass\n\ndef added_later(): pass\n")
    eventually(lambda: bool(names(index, "added_later")))
    snippets = index.retrieve(str(root / "use.py"), "from lib import added_later\nadded_later()\n", 30)
    assert snippets and "def added_later" in snippets[0].text


def test_deleted_and_renamed_files(watched) -> None:
    root, index = watched
    (root / "gone.py").write_text("def doomed(): pass\n")
    eventually(lambda: bool(names(index, "doomed")))
    os.remove(root / "gone.py")
    eventually(lambda: not names(index, "doomed"))
    assert not index.contains(root / "gone.py")
    os.rename(root / "lib.py", root / "renamed.py")
    eventually(lambda: names(index, "original") == {str(root / "renamed.py")})


def test_new_and_removed_folders(watched, tmp_path_factory) -> None:
    root, index = watched
    staging = tmp_path_factory.mktemp("staging") / "pkg"
    (staging / "sub").mkdir(parents=True)
    (staging / "sub" / "deep.go").write_text("package sub\nfunc Deep() {}\n")
    shutil.move(str(staging), str(root / "pkg"))  # a whole tree appears at once
    eventually(lambda: bool(names(index, "Deep")))
    shutil.rmtree(root / "pkg")
    eventually(lambda: not names(index, "Deep"))


def test_ignored_and_binary_changes_stay_out(watched) -> None:
    root, index = watched
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.js").write_text("function vendored() {}\n")
    (root / "blob.py").write_bytes(b"def hidden(): pass\n\x00\x00")
    (root / "marker.py").write_text("def marker(): pass\n")
    eventually(lambda: bool(names(index, "marker")))
    time.sleep(0.2)
    assert not names(index, "vendored") and not names(index, "hidden")


def test_gitignore_edit_reconciles(watched) -> None:
    root, index = watched
    (root / "gen.py").write_text("def generated(): pass\n")
    eventually(lambda: bool(names(index, "generated")))
    (root / ".gitignore").write_text("gen.py\n")
    eventually(lambda: not names(index, "generated"))
    (root / ".gitignore").write_text("")
    eventually(lambda: bool(names(index, "generated")))


def test_open_buffer_wins_over_disk_events(watched) -> None:
    root, index = watched
    lib = str(root / "lib.py")
    index.update_document(lib, "def from_buffer(): pass\n")
    (root / "lib.py").write_text("def from_disk(): pass\n")
    (root / "marker.py").write_text("def marker(): pass\n")
    eventually(lambda: bool(names(index, "marker")))
    time.sleep(0.1)
    assert names(index, "from_buffer") == {lib} and not names(index, "from_disk")
    index.close_document(lib)
    assert names(index, "from_disk") == {lib}


def test_stop_is_prompt_and_idempotent(tmp_path: Path) -> None:
    index = WorkspaceIndex([tmp_path], IndexSettings())
    index.start_watching()
    thread = index._watcher._thread
    index.stop()
    index.stop()
    assert thread is not None and not thread.is_alive(), "stop() ends the watcher thread (it waits at most 5 s for it)"
    # Watching off in the settings: start_watching does nothing.
    quiet = WorkspaceIndex([tmp_path], IndexSettings(watch=False))
    quiet.start_watching()
    assert not quiet._watcher.alive
