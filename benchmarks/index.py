"""Index a real repository and report speed, memory and watch latency.

    python benchmarks/index.py [DIR] [--model PATH]

DIR defaults to this interpreter's standard library (site-packages left out).
The tree is copied to a temporary folder first, so the latency probe can
edit a file without touching the original. Reports files/s, the build time
against a parse-only pass (read + tree-sitter parse) over the same files
(goal <= 1.5x; CPU time, best of --runs, for a figure other processes on the
machine do not move), peak RSS (goal <= 200 MB), retrieval time per call and
the time from saving one changed file to its new definition being visible
with watching on (goal <= 100 ms).

--model is accepted for symmetry with the other benchmarks; no model runs here.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from tandem_lsp.config import IndexSettings
from tandem_lsp.context.files import RootFilter, walk
from tandem_lsp.context.grammars import parser_for
from tandem_lsp.context.index import IndexStats, WorkspaceIndex
from tandem_lsp.languages import grammar_for_path

SKIP_DIRS = ["site-packages", "__pycache__"]


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_only(paths: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds to read and parse every file, keeping nothing."""
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        parser_for(grammar_for_path(path)).parse(data)  # type: ignore[arg-type]
    return time.perf_counter() - wall, time.process_time() - cpu


def build(root: Path, settings: IndexSettings) -> tuple[WorkspaceIndex, IndexStats, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    index = WorkspaceIndex([root], settings)
    stats = index.build()
    return index, stats, time.perf_counter() - wall, time.process_time() - cpu


def save_to_visible_ms(index: WorkspaceIndex, path: Path, rounds: int = 7) -> float:
    original = path.read_text(encoding="utf-8", errors="replace")
    samples = []
    for n in range(rounds):
        name = f"tandem_probe_{n}"
        started = time.perf_counter()
        path.write_text(original + f"\n\ndef {name}():\n    return {n}\n", encoding="utf-8")
        while not index.definitions_named(name):
            if time.perf_counter() - started > 5:
                break
            time.sleep(0.001)
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.3)  # let the watcher settle before the next save
    path.write_text(original, encoding="utf-8")
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--model", default="", help="unused (no model runs in this benchmark)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each pass; the best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tandem-index-bench-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(args.dir, root, ignore=shutil.ignore_patterns(*SKIP_DIRS), symlinks=True)
        settings = IndexSettings(exclude=IndexSettings().exclude + SKIP_DIRS)
        files = list(walk(RootFilter(str(root), settings)))
        print(f"repository: {args.dir} ({len(files)} source files)")

        # Best of three runs each, wall and CPU time: other processes share
        # this machine, and the least disturbed run is the fairest figure.
        parse_only(files)  # warm the page cache and load the grammars
        parse_runs = [parse_only(files) for _ in range(args.runs)]
        parse_wall, parse_cpu = min(r[0] for r in parse_runs), min(r[1] for r in parse_runs)
        rss_before = peak_rss_mb()
        walls, cpus = [], []
        for _ in range(args.runs):
            index, stats, wall, cpu = build(root, settings)
            walls.append(wall)
            cpus.append(cpu)
            if len(walls) < args.runs:
                del index
        rss_mb = peak_rss_mb()
        ratio = min(cpus) / parse_cpu
        print(f"parse-only pass: {parse_wall:.2f} s wall, {parse_cpu:.2f} s CPU (best of {args.runs})")
        print(
            f"index build:     {min(walls):.2f} s wall, {min(cpus):.2f} s CPU, {stats.files / min(walls):.0f} files/s; "
            f"ratio {ratio:.2f} (CPU), {min(walls) / parse_wall:.2f} (wall)"
        )
        print(f"indexed {stats.files} files, {stats.definitions} definitions, {stats.chunks} chunks, {stats.skipped} skipped, {len(stats.errors)} errors")
        print(f"peak RSS: {rss_mb:.0f} MB (before the index: {rss_before:.0f} MB)")

        timings = []
        for path in files[:: max(1, len(files) // 100)]:
            text = Path(path).read_text(errors="replace")
            started = time.perf_counter()
            index.retrieve(path, text, len(text) // 2)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        print(f"retrieve over {len(timings)} files: median {timings[len(timings) // 2]:.1f} ms, max {timings[-1]:.1f} ms")

        # A restart on the unchanged tree, with the SQLite cache filled by a first run.
        cached = settings.model_copy(update={"cache_dir": str(Path(tmp) / "cache")})
        WorkspaceIndex([root], cached, persist=True).build()
        restarted = WorkspaceIndex([root], cached, persist=True)
        restart_stats = restarted.build()
        restarted.stop()
        print(f"restart with the disk cache: {restart_stats.seconds:.2f} s ({restart_stats.cached} files from the cache)")
        del restarted

        index.start_watching()
        time.sleep(1.0)  # the watcher registers its inotify watches
        probe = root / "json" / "encoder.py"
        latency = save_to_visible_ms(index, probe if probe.exists() else Path(files[len(files) // 2]))
        index.stop()
        print(f"save-to-visible: {latency:.1f} ms (median)")
        print(f"RESULT files={stats.files} ratio_to_parse={ratio:.2f} rss_mb={rss_mb:.0f} save_to_visible_ms={latency:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
