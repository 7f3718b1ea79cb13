"""QuixBugs (Python): does review flag the buggy line, and does debug's fix pass the tests?

For each buggy program in ../shared/eval/quixbugs/python_programs:
  review  - the file is reviewed; a hit is a finding within one line of the
            line that differs from the correct version. The correct version
            is reviewed too: every finding there is a false alarm. The table
            also shows the likelihood pass's findings alone ("likely").
  debug   - the program's tests are run once on the buggy version to get the
            error a developer would paste; debug gets the file and that error;
            its fix is written into a temporary copy and the tests run there
            (with a timeout). The task itself never runs code; this harness does.
Configurations: the 0.5B model alone, the 1.5B model alone, and the 0.5B
drafting with the 1.5B verifying (deep review; debug draft + check).

    python benchmarks/quixbugs.py --limit 7 --spread [--configs 05b,15b,combo] [--tasks review,debug] [--threads 1]
    python benchmarks/quixbugs.py --merge run1.json run2.json   # the table of runs split over programs/tasks

Identical model calls are answered once (temperature 0), so the combination
reuses the 0.5B model's drafts instead of generating them again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bench_common import add_model_pair, require_model, result_line
from quixbugs_programs import DEFAULT_DATA, Program, TestRunner, error_report, hit, load_programs

from tandem_lsp.config import Settings
from tandem_lsp.models.backend import ChatRequest, ChatResult, ModelBackend
from tandem_lsp.models.registry import ModelRegistry, Role
from tandem_lsp.tasks.debug import debug
from tandem_lsp.tasks.source import SourceFile
from tandem_lsp.tasks.review import review

CONFIGS = ("05b", "15b", "combo")


# -- models ---------------------------------------------------------------------------

_answers: dict[tuple, ChatResult] = {}


class _Remembering:
    """A backend that answers a repeated chat request from memory (temperature is 0)."""

    def __init__(self, backend: ModelBackend) -> None:
        self._backend = backend
        self.name = backend.name

    def __getattr__(self, name: str):
        return getattr(self._backend, name)

    def chat(self, request: ChatRequest) -> ChatResult:
        key = (
            self.name,
            tuple((m.role, m.content) for m in request.messages),
            json.dumps(request.json_schema, sort_keys=True),
            request.max_tokens,
        )
        if key not in _answers:
            _answers[key] = self._backend.chat(request)
        return _answers[key]


class RememberingRegistry(ModelRegistry):
    def backend(self, role: Role) -> ModelBackend:
        return _Remembering(super().backend(role))  # type: ignore[return-value]


def settings_for(config: str, small: Path, large: Path, threads: int, ctx: int) -> Settings:
    def model(path: Path) -> dict:
        return {"path": str(path), "threads": threads, "contextSize": ctx}

    if config == "05b":
        changes = {"completionModel": model(small)}
    elif config == "15b":
        changes = {"completionModel": model(large)}
    else:
        changes = {"completionModel": model(small), "reasoningModel": model(large)}
    return Settings().merged(changes)


# -- one configuration ------------------------------------------------------------------


# What each task's part of a row holds (a merge takes each part from the run that did that task).
REVIEW_KEYS = ("hit", "likely_hit", "likely_false", "findings", "flagged", "false_flagged", "false", "review_seconds")
DEBUG_KEYS = ("fix", "diff", "passed", "debug_seconds")


async def run_config(config: str, programs: list[Program], runner: TestRunner, args: argparse.Namespace) -> list[dict]:
    """One row per program: review hits and false alarms, debug's fix and whether it passes."""
    registry = RememberingRegistry(settings_for(config, args.draft_model, args.model, args.threads, args.ctx))
    deep = config == "combo"
    rows = []
    path = "python_programs/{}.py"
    try:
        for program in programs:
            row: dict = {"program": program.name, "bug_lines": program.bug_lines, "tasks": []}
            if "review" in args.tasks:
                started = time.perf_counter()
                found = (await review(registry, program.buggy, path.format(program.name), "python", deep=deep)).findings
                false = (await review(registry, program.correct, path.format(program.name), "python", deep=deep)).findings
                row["tasks"].append("review")
                row.update(
                    hit=hit(found, program.bug_lines),
                    likely_hit=hit([f for f in found if f.status == "likely"], program.bug_lines),
                    likely_false=sum(f.status == "likely" for f in false),
                    findings=len(found),
                    flagged=[(f.start_line, f.end_line, f.status, f.severity, f.message[:80]) for f in found],
                    false_flagged=[(f.start_line, f.end_line, f.status, f.severity, f.message[:80]) for f in false],
                    false=len(false),
                    review_seconds=round(time.perf_counter() - started, 1),
                )
            if "debug" in args.tasks:
                started = time.perf_counter()
                fixed = await debug(registry, SourceFile(program.buggy, path.format(program.name), "python"), program.error)
                row["tasks"].append("debug")
                row.update(
                    fix=fixed.source,
                    diff=fixed.diff(program.buggy, program.name + ".py"),
                    passed=fixed.new_text is not None and runner.run(program.name, fixed.new_text).passed,
                    debug_seconds=round(time.perf_counter() - started, 1),
                )
            rows.append(row)
            print(f"  {config:5} {program.name:28} hit={row.get('hit', '-')!s:5} likely={row.get('likely_hit', '-')!s:5} "
                  f"findings={row.get('findings', '-')} false={row.get('false', '-')} fix={row.get('fix', '-'):14} "
                  f"passed={row.get('passed', '-')!s:5} {row.get('review_seconds', 0) + row.get('debug_seconds', 0):.0f}s", flush=True)
    finally:
        registry.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="QuixBugs folder")
    add_model_pair(parser, "alone, and verifier in the combination", "alone, and drafter in the combination")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset of " + ",".join(CONFIGS))
    parser.add_argument("--limit", type=int, default=0, help="N programs only (0 = all): the first N, or N evenly spread with --spread")
    parser.add_argument("--spread", action="store_true", help="with --limit, take programs evenly spread over the alphabetical list")
    parser.add_argument("--programs", default="", help="comma-separated program names")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0 = auto)")
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--test-timeout", type=float, default=30.0, help="seconds for one program's tests")
    parser.add_argument("--tasks", default="review,debug", help="review, debug or both (comma-separated)")
    parser.add_argument("--json-out", type=Path, help="write the per-program rows here")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="JSON", help="no run: the table of earlier runs' --json-out files (programs split over runs)")
    args = parser.parse_args(argv)
    if args.merge:
        return report(merged_rows(args.merge))
    configs = [c for c in args.configs.split(",") if c]
    if unknown := set(configs) - set(CONFIGS):
        parser.error(f"unknown configs: {sorted(unknown)}")
    if {"05b", "combo"} & set(configs):
        require_model(args.draft_model)
    if {"15b", "combo"} & set(configs):
        require_model(args.model)

    programs = load_programs(args.data, [p for p in args.programs.split(",") if p] or None)
    if args.limit and args.spread and args.limit < len(programs):
        step = len(programs) / args.limit
        programs = [programs[int(i * step)] for i in range(args.limit)]
    elif args.limit:
        programs = programs[: args.limit]
    with TestRunner(args.data, workers=2, timeout=args.test_timeout) as runner:
        for program, run in zip(programs, runner.run_all([(p.name, p.buggy) for p in programs])):
            program.error = error_report(run)
        print(f"{len(programs)} programs: {', '.join(p.name for p in programs)}", flush=True)
        rows = {config: asyncio.run(run_config(config, programs, runner, args)) for config in configs}
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2))
    return report(rows)


def merged_rows(paths: list[Path]) -> dict[str, list[dict]]:
    """Rows of several runs by configuration and program; each task's figures come from the last run that did it."""
    merged: dict[str, dict[str, dict]] = {}
    for path in paths:
        for config, rows in json.loads(path.read_text()).items():
            for row in rows:
                into = merged.setdefault(config, {}).setdefault(row["program"], {"program": row["program"], "tasks": []})
                for task, keys in (("review", REVIEW_KEYS), ("debug", DEBUG_KEYS)):
                    if task in row.get("tasks", ()):
                        into.update({key: row[key] for key in keys})
                        into["tasks"] = sorted(set(into["tasks"]) | {task})
    return {config: list(rows.values()) for config, rows in merged.items()}


def report(rows: dict[str, list[dict]]) -> int:
    """The table and the RESULT line, from per-program rows by configuration."""

    def done(config: str, task: str) -> list[dict]:
        return [row for row in rows.get(config, ()) if task in row["tasks"]]

    def rate(config: str, task: str, key: str) -> float | str:
        part = done(config, task)
        return sum(float(row[key]) for row in part) / len(part) if part else "n/a"

    def cell(value: float | str, width: int) -> str:
        return f"{value:>{width}.2f}" if isinstance(value, float) else f"{value:>{width}}"

    print(f"\n{'config':8} {'reviewed':>9} {'review hit':>11} {'false/clean':>12} {'likely hit':>11} {'likely false':>13} {'debugged':>9} {'debug pass':>11}")
    for config in rows:
        print(f"{config:8} {len(done(config, 'review')):>9} {cell(rate(config, 'review', 'hit'), 11)} {cell(rate(config, 'review', 'false'), 12)} "
              f"{cell(rate(config, 'review', 'likely_hit'), 11)} {cell(rate(config, 'review', 'likely_false'), 13)} "
              f"{len(done(config, 'debug')):>9} {cell(rate(config, 'debug', 'passed'), 11)}")
    reviewed = [c for c in rows if done(c, "review")]
    if not reviewed:
        review_config = ""
    elif "combo" in reviewed:
        review_config = "combo"  # the full pipeline
    else:
        review_config = max(reviewed, key=lambda c: rate(c, "review", "hit"))  # type: ignore[arg-type,return-value]
    print(f"(review figures from {review_config or 'no run'})")
    print(
        result_line(
            review_hit=rate(review_config, "review", "hit"),
            false_per_clean=rate(review_config, "review", "false"),
            debug_pass_05b=rate("05b", "debug", "passed"),
            debug_pass_15b=rate("15b", "debug", "passed"),
            debug_pass_combo=rate("combo", "debug", "passed"),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
