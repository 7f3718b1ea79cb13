"""`tandem-lsp review` and `tandem-lsp debug` as a user runs them (embedded model)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from review_samples import BUGGY, LINES

CLI = [sys.executable, "-m", "tandem_lsp"]


def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_bad_input_gives_a_clear_error(tmp_path: Path):
    missing = run("review", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "nope.py" in missing.stderr
    source = tmp_path / "stats.py"
    source.write_text(BUGGY)
    assert run("review", str(source), "--lines", "9-3").returncode == 2
    empty = run("debug", str(source), "--error", "   ")
    assert empty.returncode == 2 and "empty" in empty.stderr


@pytest.mark.model
def test_review_json_lists_findings_on_existing_lines(tmp_path: Path, small_model: Path):
    source = tmp_path / "stats.py"
    source.write_text(BUGGY)
    done = run("review", str(source), "--json", "--threads", "1", "--lines", "11-16")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["scope"] == [10, 15]
    assert report["models"]["review"] == small_model.name
    for finding in report["findings"]:
        assert 10 <= finding["start_line"] <= finding["end_line"] <= 15


@pytest.mark.model
def test_debug_prints_an_explanation_and_a_diff_or_says_there_is_no_fix(tmp_path: Path, small_model: Path):
    source = tmp_path / "stats.py"
    source.write_text(BUGGY)
    done = run("debug", str(source), "--threads", "1", "--error", "AssertionError: find_max([1, 5, 3]) == 1, expected 5")
    assert done.returncode in (0, 3), done.stderr
    assert done.stdout.strip()
    if done.returncode == 0:
        assert f"--- a/{source}" in done.stdout and "\n+" in done.stdout
    else:
        assert "(no usable fix)" in done.stdout
    assert source.read_text() == BUGGY  # nothing written without --apply
    assert len(LINES) == len(source.read_text().splitlines())
