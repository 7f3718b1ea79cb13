"""QuixBugs programs for the benchmarks: loading them, where their bug is, running their tests.

Shared by quixbugs.py, infill.py, debug_bugs.py and debug_bench.py. The tests of
a program run with pytest in a private copy of the data set (one copy per worker,
so that runs can go in parallel), with a timeout and a memory cap; a run that
does not finish is stopped with Ctrl-C, as a developer would, so that its
report says where the program was looping.
"""

from __future__ import annotations

import ast
import difflib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tandem_lsp.tasks.likelihood.line_fixes import without_closing_prose

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "quixbugs"


# -- the data set ----------------------------------------------------------------


def without_alternative_versions(source: str) -> str:
    """The program without the prose that closes the module.

    Half of QuixBugs' correct programs end in a docstring that holds another
    version of the same program. A model that sees it can copy the line that a
    benchmark cut out, which no user's file offers: infilling would measure how
    much of the file's end a prompt shows, not how well the model writes code.
    The cut is the product's own (debug reads files up to their last code line).
    """
    code = without_closing_prose(source, "python")
    return source if code == source else code.rstrip() + "\n"


@dataclass
class Program:
    name: str
    buggy: str
    correct: str
    # 0-based lines of the buggy file that the fix changes.
    bug_lines: list[int]
    error: str = ""


def code_lines(source: str) -> list[tuple[int, str]]:
    """(0-based line, stripped text) of the code, without blank lines and module docstrings."""
    skip: set[int] = set()
    try:
        for node in ast.parse(source).body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                skip.update(range(node.lineno - 1, node.end_lineno))
    except SyntaxError:
        pass
    # Comment-only differences are not the bug.
    stripped = [(i, re.sub(r"\s+#[^'\"]*$", "", line).strip()) for i, line in enumerate(source.splitlines())]
    return [(i, text) for i, text in stripped if text and not text.startswith("#") and i not in skip]


def bug_lines(buggy: str, correct: str) -> list[int]:
    old, new = code_lines(buggy), code_lines(correct)
    matcher = difflib.SequenceMatcher(None, [t for _, t in old], [t for _, t in new], autojunk=False)
    lines: set[int] = set()
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            lines.update(old[i][0] for i in range(i1, i2))
        else:  # an insertion: the line before it is where the fix goes
            lines.add(old[max(0, i1 - 1)][0])
    return sorted(lines)


def tests_path(name: str) -> str:
    """The program's tests, relative to the data set."""
    return f"python_testcases/test_{name}.py"


def load_programs(data: Path, only: list[str] | None) -> list[Program]:
    programs = []
    for path in sorted((data / "python_programs").glob("*.py")):
        name = path.stem
        correct = data / "correct_python_programs" / path.name
        if name == "node" or name.endswith("_test") or not correct.is_file() or not (data / tests_path(name)).is_file():
            continue
        if only and name not in only:
            continue
        buggy_text, correct_text = path.read_text(), correct.read_text()
        programs.append(Program(name, buggy_text, correct_text, bug_lines(buggy_text, correct_text)))
    return programs


# -- running the tests -------------------------------------------------------------

# A candidate that loops while growing a list must not take the machine's memory.
MEMORY_LIMIT = 2 << 30
# pytest with the limit set first (preexec_fn is not safe with the threads that run tests in parallel).
_PYTEST = f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); import pytest; sys.exit(pytest.console_main())"
# How long a stopped run may take to print its report before it is killed.
_REPORT_GRACE_S = 3.0


@dataclass(frozen=True)
class TestRun:
    passed: bool
    # pytest's report (short tracebacks); for a run stopped at the timeout, what Ctrl-C made it print.
    output: str
    timed_out: bool = False
    seconds: float = 0.0


class TestRunner:
    """Runs a program's tests on candidate sources, each worker in its own copy of the data set."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, data: Path, workers: int = 2, timeout: float = 10.0) -> None:
        self.timeout = timeout
        # Programs whose tests are slow get longer than `timeout`.
        self.timeouts: dict[str, float] = {}
        self._roots = [Path(tempfile.mkdtemp(prefix="quixbugs-")) for _ in range(workers)]
        self._free: queue.Queue[Path] = queue.Queue()
        for root in self._roots:
            shutil.copytree(data, root, dirs_exist_ok=True)
            self._free.put(root)
        self._cache: dict[tuple[str, str], TestRun] = {}

    def __enter__(self) -> TestRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, program: str, source: str) -> TestRun:
        """The tests of `program` with its file replaced by `source`."""
        if (program, source) in self._cache:
            return self._cache[(program, source)]
        try:
            ast.parse(source)
        except (SyntaxError, ValueError) as error:
            return TestRun(False, f"SyntaxError: {error}")
        root = self._free.get()
        try:
            target = root / "python_programs" / f"{program}.py"
            original = target.read_text()
            target.write_text(source)
            try:
                result = self._pytest(root, program)
            finally:
                target.write_text(original)
        finally:
            self._free.put(root)
        self._cache[(program, source)] = result
        return result

    def _pytest(self, root: Path, program: str) -> TestRun:
        command = [sys.executable, "-c", _PYTEST, "-x", "-q", "--tb=short", "-p", "no:cacheprovider", tests_path(program)]
        # The data set needs no plugins; loading the ones installed here would make every run 8x slower.
        # A fixed hash seed keeps the order of sets and dicts, so that a report reads the same every run.
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONHASHSEED": "0"}
        timeout = self.timeouts.get(program, self.timeout)
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=_REPORT_GRACE_S)
            except subprocess.TimeoutExpired:  # stuck where Ctrl-C cannot reach (inside one huge computation)
                process.kill()
                output, _ = process.communicate()
            return TestRun(False, output.replace(f"{root}/", ""), timed_out=True, seconds=timeout)
        return TestRun(process.returncode == 0, output, seconds=time.perf_counter() - started)

    def run_all(self, jobs: list[tuple[str, str]]) -> list[TestRun]:
        """The runs of (program, source) jobs, as many at once as there are workers; equal jobs run once."""
        unique = list(dict.fromkeys(jobs))
        with ThreadPoolExecutor(len(self._roots)) as pool:
            done = dict(zip(unique, pool.map(lambda job: self.run(*job), unique)))
        return [done[job] for job in jobs]

    def passes_all(self, jobs: list[tuple[str, str]]) -> list[bool]:
        return [run.passed for run in self.run_all(jobs)]

    def close(self) -> None:
        for root in self._roots:
            shutil.rmtree(root, ignore_errors=True)


# -- what a developer pastes ---------------------------------------------------------

# Frames of a short traceback: "path.py:12: in name", then the line's code.
_FRAME = re.compile(r"^(\S+\.py:\d+): in \S+$")
# Frames kept, innermost last (a runaway recursion repeats one frame a thousand times).
MAX_FRAMES = 6
MAX_ERROR_LINES = 12
MAX_REPORT_CHARS = 1500


def _frames(lines: list[str]) -> list[str]:
    """The traceback's frames with their code lines, a repeated frame shown once with a count."""
    frames: list[list[str]] = []
    repeats: list[int] = []
    for number, line in enumerate(lines):
        if not _FRAME.match(line):
            continue
        code = lines[number + 1] if number + 1 < len(lines) and lines[number + 1].startswith(" ") else ""
        frame = [line, code] if code.strip() else [line]
        if frames and frames[-1] == frame:
            repeats[-1] += 1
        else:
            frames.append(frame)
            repeats.append(0)
    shown = []
    for frame, repeated in list(zip(frames, repeats))[-MAX_FRAMES:]:
        shown += frame
        if repeated:
            shown.append(f"  [Previous frame repeated {repeated} more times]")
    return shown


def error_report(run: TestRun) -> str:
    """What a developer would paste: the failing test, the traceback's frames (the program's file
    and line included) and the assertion or exception lines; for a hang, where Ctrl-C stopped it."""
    if run.passed:
        return "The tests pass."
    lines = run.output.splitlines()
    if run.timed_out:
        stopped_at = [line for line in lines if line.endswith(": KeyboardInterrupt")]
        return "\n".join(["The tests do not finish (stopped with Ctrl-C): the call does not terminate.", *stopped_at[-1:]])
    failing = re.search(r"^_{3,} (\S+) _{3,}$", run.output, re.MULTILINE)
    # Object addresses change every run; the report should not.
    details = [re.sub(r" at 0x[0-9a-f]+", " at 0x...", line[1:].strip()) for line in lines if line.startswith("E ")]
    if not details:  # not an assertion or exception of a test (a collection error, say): the end of the report
        details = [line for line in lines if line.strip() and not line.startswith(("=", "!"))][-MAX_ERROR_LINES:]
    head = f"Test {failing.group(1)} fails:" if failing else "A test fails:"
    return "\n".join([head, *_frames(lines), *details[:MAX_ERROR_LINES]])[:MAX_REPORT_CHARS]


# -- review hits -----------------------------------------------------------------------

# A finding wider than this does not flag a line, it gestures at a region.
MAX_HIT_SPAN = 5


def hit(findings, lines: list[int]) -> bool:
    """A finding (anything with 0-based start_line and end_line) of at most MAX_HIT_SPAN lines
    that covers a buggy line, give or take one."""
    return any(
        f.end_line - f.start_line < MAX_HIT_SPAN and f.start_line - 1 <= line <= f.end_line + 1
        for f in findings
        for line in lines
    )
