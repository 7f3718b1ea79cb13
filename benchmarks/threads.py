"""How many llama.cpp threads keep typing latency steady, on a quiet and on a loaded machine.

The typing replay of benchmarks/typing_replay.py (every latency technique on)
runs once per thread count, first on a quiet machine and then with --busy
other processes spinning on the CPU (as a build or a test run would), one
configuration after the other in the same run. The setting `threads: 0`
resolves to the count printed as `auto` (models/cpu_threads.py).

    python benchmarks/threads.py [--model PATH] [--threads 1,2] [--busy 1] [--chars 120]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from bench_common import QWEN_05B, require_model, result_line
from typing_replay import ON, replay

from tandem_lsp.models.cpu_threads import default_threads


@contextlib.contextmanager
def busy_processes(count: int) -> Iterator[None]:
    """`count` processes that keep one CPU each busy until the block ends."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--threads", default="1,2", help="thread counts to compare, comma-separated")
    parser.add_argument("--busy", type=int, default=1, help="busy processes on the loaded machine")
    parser.add_argument("--chars", type=int, default=120, help="characters typed per file")
    args = parser.parse_args()
    model = require_model(args.model)
    counts = [int(n) for n in args.threads.split(",")]
    print(f"model {model.name}; CPUs usable {len(os.sched_getaffinity(0))}; auto threads {default_threads()}")

    rows = {}
    for busy in (0, args.busy):
        for threads in counts:
            with busy_processes(busy):
                figures = asyncio.run(replay(model, ON, args.chars, threads, 0))
            rows[(threads, busy)] = figures
            print(f"threads {threads} busy {busy}: p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, answered {figures['answered']}", flush=True)

    print(f"{'threads':>8}{'busy':>6}{'p50_ms':>10}{'p95_ms':>10}{'answered':>10}")
    for (threads, busy), figures in rows.items():
        print(f"{threads:>8}{busy:>6}{figures['p50_ms']:>10.0f}{figures['p95_ms']:>10.0f}{figures['answered']:>10}")
    print(
        result_line(
            auto=default_threads(),
            busy=args.busy,
            **{f"p50_t{t}_b{b}": round(f["p50_ms"], 1) for (t, b), f in rows.items()},
            **{f"p95_t{t}_b{b}": round(f["p95_ms"], 1) for (t, b), f in rows.items()},
        )
    )


if __name__ == "__main__":
    main()
