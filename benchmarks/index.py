"""Index a real repository and report speed, memory and watch latency.

    python benchmarks/index.py [DIR] [--model PATH]

DIR defaults to this interpreter's standard library (site-packages left out).
The tree is copied to a temporary folder first, so the latency probe can
edit a file without touching the original. Reports files/s, the build time
against a parse-only pass over the same files (goal <= 1.5x), peak RSS after
the build (goal <= 200 MB) and the time from saving one changed file to its
new definition being visible with watching on (goal <= 100 ms).

--model is accepted for symmetry with the other benchmarks; no model runs here.
"""

from __future__ import annotations

import argparse
import os
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
from tandem_lsp.context.index import WorkspaceIndex
from tandem_lsp.context.languages import language_for_path, parser_for

SKIP_DIRS = ["site-packages", "__pycache__"]


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_only(paths: list[str]) -> float:
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        parser_for(language_for_path(path)).parse(data)  # type: ignore[arg-type]
    return time.perf_counter() - started


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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tandem-index-bench-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(args.dir, root, ignore=shutil.ignore_patterns(*SKIP_DIRS), symlinks=True)
        settings = IndexSettings(exclude=IndexSettings().exclude + SKIP_DIRS)
        files = list(walk(RootFilter(str(root), settings)))
        print(f"repository: {args.dir} ({len(files)} source files)")

        parse_only(files)  # warm the page cache and load the grammars
        parse_seconds = parse_only(files)
        rss_before = peak_rss_mb()

        index = WorkspaceIndex([root], settings)
        stats = index.build()
        rss_mb = peak_rss_mb()
        ratio = stats.seconds / parse_seconds
        print(f"parse-only pass: {parse_seconds:.2f} s")
        print(f"index build:     {stats.seconds:.2f} s, {stats.files / stats.seconds:.0f} files/s, ratio {ratio:.2f}")
        print(f"indexed {stats.files} files, {stats.definitions} definitions, {stats.chunks} chunks, {stats.skipped} skipped, {len(stats.errors)} errors")
        print(f"peak RSS: {rss_mb:.0f} MB (before the index: {rss_before:.0f} MB)")

        sample = b"x"
        started = time.perf_counter()
        for _ in range(200):
            index.retrieve(files[0], Path(files[0]).read_text(errors="replace"), 2000)
        print(f"retrieve: {(time.perf_counter() - started) / 200 * 1000:.2f} ms per call")
        del sample

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
