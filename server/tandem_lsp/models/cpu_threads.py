"""How many threads llama.cpp gets when the settings leave it to us (`threads: 0`).

One per physical core this process may run on, at most MAX_AUTO_THREADS.
llama.cpp's threads spin while they wait; a second thread on a core's other
hyper-thread competes with the first for the same execution units and, when
any other process needs the CPU, the spinning threads stall each other, so
token latency jumps. Physical cores keep it steady.

Measured with benchmarks/threads.py (2-core VM, one thread per core, 0.5B,
typing replay p95): quiet, 1 thread 366 ms and 2 threads 412 ms; with one
busy process beside it, 1 thread 536 ms and 2 threads 396 ms. Giving up a core
to a busy neighbour did not help, so the count stays one per physical core.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_AUTO_THREADS = 8
_SYS_CPU = Path("/sys/devices/system/cpu")


def usable_cpus() -> set[int]:
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return set(range(os.cpu_count() or 2))


def physical_cores(cpus: set[int], sys_cpu: Path = _SYS_CPU) -> int:
    """Distinct (package, core) pairs among `cpus`; the number of CPUs when the topology cannot be read."""
    cores = set()
    for cpu in cpus:
        topology = sys_cpu / f"cpu{cpu}" / "topology"
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(), (topology / "core_id").read_text().strip()))
        except OSError:
            return len(cpus)
    return len(cores) or len(cpus)


def default_threads() -> int:
    return max(1, min(MAX_AUTO_THREADS, physical_cores(usable_cpus())))
