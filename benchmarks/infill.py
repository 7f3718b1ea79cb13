"""Infilling judged by running the code: suggestions as shown by the server vs the bare model.

    python benchmarks/infill.py [--model PATH] [--per-situation 80] [--situations a,b,c,d,e,f,g,h,i,j,k] [--threads 2]
        [--set compareCandidates=1 ...] [--order spread|program] [--skip-raw]

Holes are cut from programs that have tests (../shared/eval/quixbugs by default,
without the alternative versions of the program that close half of its files;
see infill_holes.py for the editor situations a-k). For every hole, in one run:
  raw    - llama-cpp-python called directly with a plain PSM fill-in-the-middle
           prompt of the same document (prefix up to the cursor, suffix after it),
           greedy, the answer cut to the hole's number of lines;
  shown  - the real server (`tandem-lsp serve` over stdio LSP, default settings,
           its confidence gate off so that the curve can be drawn), the inline
           suggestion inserted at its range as an editor does on accept.
The program's tests decide pass@1. The raw phase runs first and frees its model
before the server starts, so the two never compete for the cores.

Also printed: the share of holes answered with nothing, p50 latency, and for the
server the precision (passing among shown) and recall (passing among all holes)
at several confidence thresholds (the suggestion's mean token probability).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bare_model import BareFim
from bench_common import QWEN_05B, add_settings_option, completion_settings, lsp_session, median, require_model, result_line, text_offset
from infill_holes import SITUATIONS, Hole, cut_holes, sample
from quixbugs_programs import DEFAULT_DATA, TestRunner, without_alternative_versions

from tandem_lsp.languages import language_for_path

THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
# The situations whose kinds (infill_holes.py) also get a row of their own.
REPORTED_KINDS = {"d": ("ident", "dot", "op"), "g": ("cond", "arg", "operand"), "i": ("mid", "eol"), "j": ("one", "multi")}


@dataclass
class Answer:
    inserted: str  # what accepting it inserts at the cursor ("" for nothing)
    latency_ms: float
    confidence: float | None = None
    passed: bool = False
    # The range the text replaces (an insertion at the cursor unless the server says otherwise).
    start: int = -1
    end: int = -1
    # The server's per-line confidences of a multi-line suggestion (for choosing where to cut).
    line_confidences: list = field(default_factory=list)

    def program(self, hole: Hole) -> str:
        if self.start < 0:
            return hole.accept(self.inserted)
        return hole.text[: self.start] + self.inserted + hole.text[self.end :]


@dataclass
class Record:
    hole: Hole
    raw: Answer | None = None
    shown: Answer | None = None
    extra: dict = field(default_factory=dict)


# -- programs and their tests -------------------------------------------------------


def load_programs(data: Path, runner: TestRunner, only: set[str] | None) -> dict[str, str]:
    """Correct programs whose tests exist and pass as they are, without the alternative versions some end with."""
    programs = {}
    for path in sorted((data / "correct_python_programs").glob("*.py")):
        name = path.stem
        if name.endswith("_test") or name == "node" or not (data / "python_testcases" / f"test_{name}.py").is_file():
            continue
        if only and name not in only:
            continue
        programs[name] = without_alternative_versions(path.read_text())
    verdicts = runner.passes_all(list(programs.items()))
    skipped = [name for name, ok in zip(programs, verdicts) if not ok]
    if skipped:
        print(f"left out (their tests fail or time out on the correct program): {', '.join(skipped)}")
    return {name: text for (name, text), ok in zip(programs.items(), verdicts) if ok}


# -- the bare model -----------------------------------------------------------------


def cut_to_hole(hole: Hole, answer: str) -> str:
    """The raw answer cut to as many lines as the hole has."""
    lines = answer.split("\n")
    if hole.situation in ("c", "k"):
        # Whole lines inserted above the existing next line.
        kept = "\n".join(lines[: hole.lines])
        return kept + "\n" if kept.strip() else ""
    return "\n".join(lines[: hole.lines])


def run_raw(model: Path, holes: list[Hole], threads: int, gpu_layers: int, max_tokens: int) -> list[Answer]:
    bare = BareFim(model, threads, gpu_layers)
    answers = []
    for number, hole in enumerate(holes, 1):
        text, latency = bare.complete(hole.text[: hole.offset], hole.text[hole.offset :], hole.lines, max_tokens)
        answers.append(Answer(cut_to_hole(hole, text), latency))
        if number % 50 == 0:
            print(f"  raw {number}/{len(holes)}", flush=True)
    bare.close()
    return answers


# -- the product ----------------------------------------------------------------------


async def run_server(model: Path, holes: list[Hole], threads: int, gpu_layers: int, workdir: Path, completion: dict) -> list[Answer]:
    settings = {
        "completionModel": {"path": str(model), "threads": threads, "gpuLayers": gpu_layers},
        # Every suggestion is wanted here: the gate is applied afterwards, at each threshold.
        "completion": {"minConfidence": 0.0, **completion},
    }
    answers = []
    async with lsp_session(settings) as session:
        for number, hole in enumerate(holes, 1):
            path = workdir / f"{hole.program}_{hole.situation}{hole.kind}_{hole.line}.{hole.extension}"
            uri = session.open(path, hole.text, language=language_for_path(str(path)))
            started = time.perf_counter()
            items = await session.inline(uri, hole.cursor_line, hole.cursor_col)
            latency = (time.perf_counter() - started) * 1000
            inserted, confidence, lines, start, end = "", None, None, hole.offset, hole.offset
            if items:
                item = items[0]
                inserted = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
                if item.range is not None:
                    start = text_offset(hole.text, item.range.start.line, item.range.start.character)
                    end = text_offset(hole.text, item.range.end.line, item.range.end.character)
                last = await session.last_prompt()
                confidence = last.get("confidence") if isinstance(last, dict) else getattr(last, "confidence", None)
                lines = last.get("lineConfidences") if isinstance(last, dict) else getattr(last, "lineConfidences", None)
            answers.append(Answer(inserted, latency, confidence, start=start, end=end, line_confidences=list(lines or [])))
            session.close(uri)
            if number % 50 == 0:
                print(f"  server {number}/{len(holes)}", flush=True)
    return answers


def answer_both(model: Path, holes: list[Hole], args: argparse.Namespace, completion: dict) -> list[Record]:
    """Each hole answered by the bare model (unless --skip-raw), then by the server; the two never run at once."""
    records = [Record(h) for h in holes]
    if not args.skip_raw:
        print("bare model ...", flush=True)
        for record, answer in zip(records, run_raw(model, holes, args.threads, args.gpu_layers, args.max_tokens)):
            record.raw = answer
    print("server over stdio LSP ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="infill-docs-") as workdir:
        answers = asyncio.run(run_server(model, holes, args.threads, args.gpu_layers, Path(workdir), completion))
    for record, answer in zip(records, answers):
        record.shown = answer
    return records


# -- report ----------------------------------------------------------------------------


def rate(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def report(records: list[Record], model: Path) -> None:
    figures: dict[str, object] = {"model": model.stem}
    print(f"\n{'situation':<10}{'n':>5}{'shown':>8}{'raw':>8}{'empty shown':>13}{'empty raw':>11}{'p50 shown':>11}{'p50 raw':>9}")
    groups = [(s, [r for r in records if r.hole.situation == s]) for s in SITUATIONS]
    groups += [
        (f"{situation}.{kind}", [r for r in records if r.hole.situation == situation and r.hole.kind == kind])
        for situation, kinds in REPORTED_KINDS.items()
        for kind in kinds
    ]
    for name, group in groups:
        if not group:
            continue
        shown = [r.shown.passed for r in group if r.shown]
        raw = [r.raw.passed for r in group if r.raw]
        empty_shown = rate([not r.shown.inserted for r in group if r.shown])
        empty_raw = rate([not r.raw.inserted for r in group if r.raw])
        p50_shown = median([r.shown.latency_ms for r in group if r.shown])
        p50_raw = median([r.raw.latency_ms for r in group if r.raw])
        print(f"{name:<10}{len(group):>5}{rate(shown):>8.3f}{rate(raw):>8.3f}{empty_shown:>13.3f}{empty_raw:>11.3f}{p50_shown:>11.0f}{p50_raw:>9.0f}")
        if "." not in name:
            figures[f"shown_{name}"] = round(rate(shown), 3)
            figures[f"raw_{name}"] = round(rate(raw), 3)
            figures[f"empty_{name}"] = round(empty_shown, 3)
    scored = [r for r in records if r.shown is not None]
    if scored and any(r.shown.confidence is not None for r in scored):
        print("\nconfidence gate (all situations): threshold, shown share, precision (passing among shown), recall (passing among all)")
        for threshold in THRESHOLDS:
            kept = [r for r in scored if r.shown.inserted and (r.shown.confidence or 0.0) >= threshold]
            precision = rate([r.shown.passed for r in kept])
            recall = sum(r.shown.passed for r in kept) / len(scored)
            print(f"  {threshold:>4.2f}  shown {len(kept) / len(scored):.3f}  precision {precision:.3f}  recall {recall:.3f}")
    print(result_line(**figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-situation", type=int, default=80)
    parser.add_argument("--situations", default=",".join(SITUATIONS))
    parser.add_argument("--programs", default="", help="comma-separated program names (default: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--test-timeout", type=float, default=10.0)
    parser.add_argument("--skip-raw", action="store_true", help="only the server (when comparing server changes)")
    parser.add_argument(
        "--order", choices=["spread", "program"], default="spread",
        help="ask in sampled order (programs interleaved), or one program's holes after another (prompts share text, as when a user edits one file)",
    )
    parser.add_argument("--json-out", type=Path)
    add_settings_option(parser)
    args = parser.parse_args()
    completion = completion_settings(args.set)
    model = require_model(args.model)

    runner = TestRunner(args.data, workers=2, timeout=args.test_timeout)
    try:
        programs = load_programs(args.data, runner, set(filter(None, args.programs.split(","))) or None)
        wanted = set(args.situations.split(","))
        holes = [h for name, text in programs.items() for h in cut_holes(name, text) if h.situation in wanted]
        holes = sample(holes, args.per_situation, args.seed)
        if args.order == "program":
            holes.sort(key=lambda h: (h.program, h.line))
        print(f"{len(programs)} programs, {len(holes)} holes: " + ", ".join(f"{s}={sum(h.situation == s for h in holes)}" for s in SITUATIONS))
        records = answer_both(model, holes, args, completion)
        print("running the tests ...", flush=True)
        for which in ("raw", "shown"):
            pending = [r for r in records if getattr(r, which) is not None]
            verdicts = runner.passes_all([(r.hole.program, getattr(r, which).program(r.hole)) for r in pending])
            for r, passed in zip(pending, verdicts):
                getattr(r, which).passed = passed
    finally:
        runner.close()
    if args.json_out:
        args.json_out.write_text(json.dumps([asdict(r) for r in records], indent=1))
    report(records, model)


if __name__ == "__main__":
    main()
