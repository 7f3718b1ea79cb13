"""Debugging: the product's fix, through the server, against each model alone, by bug type.

The bugs are benchmarks/debug_bugs.py's dev set: QuixBugs' own 40 and one-line
bugs of seven classic types injected into its correct programs, each with the
error a developer would paste. For every bug, in one run:
  05b        llama-cpp-python alone with Qwen2.5-Coder 0.5B, greedy: a plain chat
             request (the file, the error, "reply with the whole corrected code");
             the functions and classes of the answer's last code block replace
             the file's definitions of the same names (a block that does not
             parse or defines none of them is no fix)
  15b_plain  the same with the 1.5B model
  pair       the product as a user gets it: `tandem-lsp serve` over stdio LSP,
             the 0.5B as completion model and the 1.5B as reasoning model, the
             buggy file opened under its real name, `tandem.debug` {uri,
             errorText, apply: false}; its edit applied as an editor does on accept
A fix passes when the program's tests pass (in a private copy, with a timeout).
With --tasks review the same server reviews each buggy file (`tandem.review`,
deep): a hit is a diagnostic of under 5 lines within one line of a bug line;
and each distinct program's correct version once: its diagnostics are false
findings. The raw phases run first and free their model before the server
starts, so that no two models compute at once. Each phase times each bug.

    python benchmarks/debug_bench.py --limit 16 [--types operator,quixbugs] [--configs 05b,15b_plain,pair] [--tasks debug,review] [--threads 2]
    python benchmarks/debug_bench.py --merge run1.json run2.json   # the tables of runs split over bugs or configurations
    python benchmarks/debug_bench.py --skip-bugs-in run1.json --json-out run2.json   # the bugs run1 did not hold
    python benchmarks/debug_bench.py --configs pair --only-bugs gcd/off_by_one1,kth   # just these bugs

Prints a line per bug and configuration, a table by bug type (pass rate of each
configuration, p50 seconds per bug, review hit rate) and a RESULT line.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import difflib
import gc
import json
import re
import sys
import tempfile
import textwrap
import time
from collections import namedtuple
from pathlib import Path

from bench_common import add_model_pair, applied_edits, lsp_session, median, require_model, result_line
from debug_bugs import BUG_TYPES, Bug, load_bugs, select
from quixbugs_programs import DEFAULT_DATA, TestRunner, hit

CONFIGS = ("05b", "15b_plain", "pair")
TASKS = ("debug", "review")
CONTEXT = 4096
MAX_TOKENS = 1024
SYSTEM = "You are a helpful coding assistant."
REQUEST = "This code fails with this error.\n\n```python\n{file}\n```\n\nError:\n```\n{error}\n```\n\nReply with the whole corrected code in one ```python block."
# An unclosed last block (the answer ran out of tokens) still counts as a block.
_FENCED = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.DOTALL)

Span = namedtuple("Span", "start_line end_line")


# -- the bare model ------------------------------------------------------------------


def _definitions(tree: ast.Module) -> dict[str, tuple[int, int]]:
    """Top-level functions and classes: name -> (first line with decorators, last line), 1-based."""
    return {
        node.name: (min([node.lineno, *(d.lineno for d in node.decorator_list)]), node.end_lineno)
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def substituted(original: str, answer: str) -> str | None:
    """The file with the definitions of the answer's last code block put in place of its own; None when none fits."""
    blocks = _FENCED.findall(answer)
    if not blocks:
        return None
    code = textwrap.dedent(blocks[-1])
    try:
        answered = _definitions(ast.parse(code))
    except SyntaxError:
        return None
    ours = _definitions(ast.parse(original))
    code_lines = code.splitlines(keepends=True)
    replacements = sorted(((ours[name], code_lines[start - 1 : end]) for name, (start, end) in answered.items() if name in ours), reverse=True)
    if not replacements:
        return None
    lines = original.splitlines(keepends=True)
    for (start, end), new in replacements:  # bottom first, so that earlier line numbers hold
        if not new[-1].endswith("\n"):
            new[-1] += "\n"
        lines[start - 1 : end] = new
    return "".join(lines)


def run_raw(config: str, model: Path, bugs: list[Bug], runner: TestRunner, args: argparse.Namespace) -> dict[str, dict]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(model), n_ctx=CONTEXT, n_threads=args.threads, n_threads_batch=args.threads,
                n_gpu_layers=args.gpu_layers, verbose=False)
    results = {}
    try:
        for bug in bugs:
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": REQUEST.format(file=bug.buggy, error=bug.error)}]
            started = time.perf_counter()
            try:
                answer = llm.create_chat_completion(messages=messages, temperature=0.0, max_tokens=MAX_TOKENS)["choices"][0]["message"]["content"] or ""
            except ValueError as error:  # a prompt longer than the context
                answer = f"[{error}]"
            results[bug.name] = judged(config, bug, substituted(bug.buggy, answer), time.perf_counter() - started, runner)
            results[bug.name]["answer"] = answer
    finally:
        llm.close()
        del llm
        gc.collect()
    return results


# -- the product --------------------------------------------------------------------------


def edits_for(edit: dict | None, uri: str) -> list[dict]:
    """The TextEdits of a WorkspaceEdit (as JSON) that change one document."""
    if not edit:
        return []
    edits = list((edit.get("changes") or {}).get(uri, []))
    for change in edit.get("documentChanges") or []:
        if change.get("textDocument", {}).get("uri") == uri:
            edits += change.get("edits", [])
    return edits


async def _command(session, command: str, argument: dict) -> tuple[dict, float]:
    """The command's answer (an error as {"error": ...}) and its seconds."""
    started = time.perf_counter()
    try:
        answer = await session.execute_command(command, argument)
    except Exception as error:  # a timeout or a server error: this bug gets no answer, the run goes on
        answer = {"error": f"{type(error).__name__}: {error}"}
    return answer if isinstance(answer, dict) else {}, time.perf_counter() - started


async def review_spans(session, path: Path, text: str) -> tuple[list[Span], float]:
    """The lines of each diagnostic of a deep review, and its seconds."""
    uri = session.open(path, text)
    answer, seconds = await _command(session, "tandem.review", {"uri": uri, "deep": True})
    session.close(uri)
    spans = [Span(d["range"]["start"]["line"], d["range"]["end"]["line"]) for d in answer.get("diagnostics") or []]
    return spans, seconds


async def debug_with_server(session, path: Path, bug: Bug, runner: TestRunner) -> dict:
    uri = session.open(path, bug.buggy)
    answer, seconds = await _command(session, "tandem.debug", {"uri": uri, "errorText": bug.error, "apply": False})
    session.close(uri)
    edits = edits_for(answer.get("edit"), uri)
    result = judged("pair", bug, applied_edits(bug.buggy, edits) if edits else None, seconds, runner)
    result.update(source=answer.get("source", ""), why=answer.get("why", ""), explanation=answer.get("explanation", ""), error=answer.get("error", ""))
    return result


async def review_with_server(session, path: Path, bug: Bug) -> dict:
    spans, seconds = await review_spans(session, path, bug.buggy)
    found = hit(spans, bug.bug_lines)
    print(f"  review    {bug.name:36} {bug.kind:17} hit={found!s:5} findings={len(spans)} {seconds:.0f}s", flush=True)
    return {"hit": found, "findings": [list(s) for s in spans], "seconds": round(seconds, 1)}


async def run_server(bugs: list[Bug], runner: TestRunner, args: argparse.Namespace, rows: dict, clean: dict) -> None:
    def model(path: Path) -> dict:
        return {"path": str(path), "threads": args.threads, "contextSize": CONTEXT, "gpuLayers": args.gpu_layers}

    options = {"completionModel": model(args.draft_model), "reasoningModel": model(args.model)}
    with tempfile.TemporaryDirectory(prefix="debug-bench-") as workdir:
        async with lsp_session(options) as session:
            for number, bug in enumerate(bugs):
                # The program's real file name, so that the error's traceback names this file.
                path = Path(workdir) / f"{number:03}" / f"{bug.program}.py"
                path.parent.mkdir()
                path.write_text(bug.buggy)
                if "debug" in args.tasks and "pair" in args.configs:
                    rows[bug.name]["debug"]["pair"] = await debug_with_server(session, path, bug, runner)
                if "review" in args.tasks:
                    rows[bug.name]["review"] = await review_with_server(session, path, bug)
            if "review" in args.tasks:
                for program, correct in {bug.program: bug.correct for bug in bugs}.items():
                    path = Path(workdir) / "clean" / f"{program}.py"
                    path.parent.mkdir(exist_ok=True)
                    path.write_text(correct)
                    spans, seconds = await review_spans(session, path, correct)
                    clean[program] = len(spans)
                    print(f"  clean     {program:36} false findings={len(spans)} {seconds:.0f}s", flush=True)


# -- judging ---------------------------------------------------------------------------------


def judged(config: str, bug: Bug, fixed: str | None, seconds: float, runner: TestRunner) -> dict:
    """Whether the fix passes the program's tests, with its diff and seconds; one progress line."""
    if fixed == bug.buggy:
        fixed = None  # the code given back unchanged is no fix
    passed = fixed is not None and runner.run(bug.program, fixed).passed
    diff = "".join(difflib.unified_diff(bug.buggy.splitlines(True), fixed.splitlines(True), "buggy", "fixed")) if fixed else ""
    print(f"  {config:9} {bug.name:36} {bug.kind:17} fix={'yes' if fixed else 'no':3} passed={passed!s:5} {seconds:.0f}s", flush=True)
    return {"passed": passed, "fixed": fixed is not None, "seconds": round(seconds, 2), "diff": diff}


# -- report ---------------------------------------------------------------------------------


def _rate(values: list[bool]) -> float | str:
    return sum(values) / len(values) if values else "n/a"


def _cell(value: float | str, width: int, digits: int = 2) -> str:
    return f"{value:>{width}.{digits}f}" if isinstance(value, float) else f"{value:>{width}}"


def report(results: dict) -> int:
    """The table by bug type and the RESULT line, from the per-bug rows and the clean files' false findings."""
    bugs, clean = list(results["bugs"].values()), results["clean"]

    def passes(group: list[dict], config: str) -> list[bool]:
        return [row["debug"][config]["passed"] for row in group if config in row["debug"]]

    def seconds(group: list[dict], config: str) -> list[float]:
        return [row["debug"][config]["seconds"] for row in group if config in row["debug"]]

    def hits(group: list[dict]) -> list[bool]:
        return [row["review"]["hit"] for row in group if row.get("review")]

    header = f"{'type':18}{'n':>5}" + "".join(f"{'pass ' + c:>16}" for c in CONFIGS) + "".join(f"{'p50 s ' + c:>17}" for c in CONFIGS) + f"{'review hit':>12}"
    print("\n" + header)
    groups = [(kind, [row for row in bugs if row["kind"] == kind]) for kind in BUG_TYPES] + [("all", bugs)]
    for kind, group in groups:
        if not group:
            continue
        pass_cells = "".join(_cell(_rate(passes(group, c)), 16) for c in CONFIGS)
        time_cells = "".join(_cell(median(seconds(group, c)) if seconds(group, c) else "n/a", 17, 1) for c in CONFIGS)
        print(f"{kind:18}{len(group):>5}{pass_cells}{time_cells}{_cell(_rate(hits(group)), 12)}")
    unfixed = [f"{c} {sum(not row['debug'][c]['fixed'] for row in bugs if c in row['debug'])}/{len(passes(bugs, c))}" for c in CONFIGS if passes(bugs, c)]
    print("no fix proposed: " + (", ".join(unfixed) or "-"))
    rates = {c: _rate(passes(bugs, c)) for c in CONFIGS}
    raw = [rates[c] for c in ("05b", "15b_plain") if isinstance(rates[c], float)]
    print(
        result_line(
            bugs=len(bugs),
            debug_pass_05b=rates["05b"],
            debug_pass_15b_plain=rates["15b_plain"],
            debug_pass_pair=rates["pair"],
            pair_minus_best=rates["pair"] - max(raw) if raw and isinstance(rates["pair"], float) else "n/a",
            p50_s_pair=median(seconds(bugs, "pair")) if seconds(bugs, "pair") else "n/a",
            review_hit=_rate(hits(bugs)),
            false_per_clean=sum(clean.values()) / len(clean) if clean else "n/a",
        )
    )
    return 0


def merged_results(paths: list[Path]) -> dict:
    """Results of several runs: each configuration's result and the review come from the last run that has them."""
    merged: dict = {"bugs": {}, "clean": {}}
    for path in paths:
        results = json.loads(path.read_text())
        merged["clean"].update(results["clean"])
        for name, row in results["bugs"].items():
            into = merged["bugs"].setdefault(name, {**row, "debug": {}, "review": None})
            into["debug"].update(row["debug"])
            into["review"] = row["review"] or into["review"]
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="QuixBugs folder")
    add_model_pair(parser, "15b_plain, and the pair's reasoning model", "05b, and the pair's completion model")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset of " + ",".join(CONFIGS))
    parser.add_argument("--tasks", default="debug", help="debug, review or both (comma-separated); review goes through the server")
    parser.add_argument("--types", default="", help="comma-separated bug types (default: all): " + ",".join(BUG_TYPES))
    parser.add_argument("--limit", type=int, default=0, help="N bugs spread evenly over the types (0 = all)")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads, for the bare models and the server alike")
    parser.add_argument("--gpu-layers", type=int, default=0, help="layers offloaded to a GPU, for the bare models and the server alike")
    parser.add_argument("--test-timeout", type=float, default=10.0, help="seconds for one run of a program's tests")
    parser.add_argument("--json-out", type=Path, help="write the per-bug rows here")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="JSON", help="no run: the tables of earlier runs' --json-out files")
    parser.add_argument("--skip-bugs-in", type=Path, metavar="JSON", help="leave out the bugs an earlier run's --json-out holds (to extend it; --merge joins the two)")
    parser.add_argument("--only-bugs", default="", metavar="NAMES", help="comma-separated bug names (e.g. gcd/off_by_one1): run just these")
    args = parser.parse_args(argv)
    if args.merge:
        return report(merged_results(args.merge))
    args.configs = [c for c in args.configs.split(",") if c]
    args.tasks = [t for t in args.tasks.split(",") if t]
    kinds = [k for k in args.types.split(",") if k]
    for given, known, what in ((args.configs, CONFIGS, "configs"), (args.tasks, TASKS, "tasks"), (kinds, BUG_TYPES, "types")):
        if unknown := set(given) - set(known):
            parser.error(f"unknown {what}: {sorted(unknown)}")
    raw_configs = [c for c in ("05b", "15b_plain") if c in args.configs and "debug" in args.tasks]
    needs_server = "review" in args.tasks or ("pair" in args.configs and "debug" in args.tasks)
    if "05b" in raw_configs or needs_server:
        require_model(args.draft_model)
    if "15b_plain" in raw_configs or needs_server:
        require_model(args.model)

    bugs = select(load_bugs(args.data), kinds, args.limit)
    if args.skip_bugs_in:
        done = json.loads(args.skip_bugs_in.read_text())["bugs"]
        bugs = [b for b in bugs if b.name not in done]
    if args.only_bugs:
        wanted = set(args.only_bugs.split(","))
        if unknown := wanted - {b.name for b in bugs}:
            parser.error(f"unknown or left-out bugs: {sorted(unknown)}")
        bugs = [b for b in bugs if b.name in wanted]
    print(f"{len(bugs)} bugs: " + ", ".join(f"{k}={sum(b.kind == k for b in bugs)}" for k in BUG_TYPES), flush=True)
    rows: dict = {b.name: {"kind": b.kind, "program": b.program, "bug_lines": b.bug_lines, "change": b.change, "debug": {}, "review": None} for b in bugs}
    clean: dict[str, int] = {}  # false findings on each program's correct version
    with TestRunner(args.data, workers=2, timeout=args.test_timeout) as runner:
        for config in raw_configs:
            print(f"{config}: the bare model ...", flush=True)
            for name, result in run_raw(config, args.draft_model if config == "05b" else args.model, bugs, runner, args).items():
                rows[name]["debug"][config] = result
        if needs_server:
            print("pair: the server over stdio LSP ...", flush=True)
            asyncio.run(run_server(bugs, runner, args, rows, clean))
    results = {"bugs": rows, "clean": clean}
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1))
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
