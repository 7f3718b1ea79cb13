"""`threads: 0` means one thread per physical core (models/cpu_threads.py)."""

from pathlib import Path

from tandem_lsp.models.cpu_threads import default_threads, physical_cores


def fake_topology(root: Path, cores: dict[int, tuple[int, int]]) -> Path:
    for cpu, (package, core) in cores.items():
        topology = root / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text(f"{package}\n")
        (topology / "core_id").write_text(f"{core}\n")
    return root


def test_hyperthreads_of_one_core_count_once(tmp_path):
    # Four logical CPUs, two cores with two hyper-threads each.
    sys_cpu = fake_topology(tmp_path, {0: (0, 0), 1: (0, 1), 2: (0, 0), 3: (0, 1)})
    assert physical_cores({0, 1, 2, 3}, sys_cpu) == 2
    assert physical_cores({0, 2}, sys_cpu) == 1  # pinned to one core's two threads


def test_cores_of_two_packages_are_distinct(tmp_path):
    sys_cpu = fake_topology(tmp_path, {0: (0, 0), 1: (1, 0)})
    assert physical_cores({0, 1}, sys_cpu) == 2


def test_without_a_readable_topology_every_cpu_counts(tmp_path):
    assert physical_cores({0, 1, 2}, tmp_path) == 3


def test_the_default_is_at_least_one_and_at_most_eight():
    assert 1 <= default_threads() <= 8
