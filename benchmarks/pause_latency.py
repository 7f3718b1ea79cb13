"""How long a user waits for ghost text when they stop typing, and whether it is right.

Lines inside functions of standard-library modules (code no one here wrote) are
deleted and typed again through the real server (`tandem-lsp serve` over stdio),
as an editor does: Enter's auto-indent arrives as one change, then one character
per key at 8 keys/s; every key is a didChange followed by an inlineCompletion
request, and the previous request is cancelled ($/cancelRequest) when the next
key arrives. Typing stops at three points of each line:

    line_start   right after Enter with auto-indent (the indentation typed)
    mid_word     inside an identifier (half of its longest identifier typed)
    after_op     after an operator, `(`, `=`, `.` or `,` (and the space that follows)

and the benchmark waits (up to --wait-s) for the answer to the last key's
request. Recorded per pause: the latency from that request to its answer (a
pause with no answer counts as --wait-s in the percentiles), whether a
suggestion came, and whether its first line matches the real rest of the line
(exact: equal, trailing whitespace aside; prefix: a non-empty prefix of it).
`none_3s` counts pauses with no suggestion shown within 3 s (no answer, an
empty answer, or a later one).

The configurations run one after the other in the same run, one server at a
time: `product` (default settings) and `off` (completion cache, prefetch and
KV-cache reuse off).

    python benchmarks/pause_latency.py [--model PATH] [--threads 2] [--files textwrap.py,shlex.py,fnmatch.py]
        [--lines-per-file 4] [--keys-per-s 8] [--wait-s 10] [--configs product,off] [--json-out FILE] [--set NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import itertools
import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_common import QWEN_05B, Session, add_settings_option, completion_settings, lsp_session, median, percentile, require_model, result_line, stdlib_files

FILES = ["textwrap.py", "shlex.py", "fnmatch.py"]
CONFIGS = {
    "product": {},
    "off": {"cache": False, "prefetch": False, "reuseKvCache": False},
}
KINDS = ["line_start", "mid_word", "after_op"]
NONE_WITHIN_MS = 3000.0
OPERATORS = set("=(.,+-*/%<>[:|&")
LINE_GAP_S = 0.5  # between two typed lines, so that a line's last request is not a pause


@dataclass
class Pause:
    config: str
    file: str
    line: int  # 1-based, as editors show it
    kind: str
    typed: str  # the line up to the cursor
    remainder: str  # the real rest of the line
    latency_ms: float | None  # None: no answer within --wait-s
    suggestion: str | None  # None: no answer or an error; "": answered with nothing
    exact: bool
    prefix: bool

    @property
    def shown_within_3s(self) -> bool:
        return bool(self.suggestion) and self.latency_ms is not None and self.latency_ms <= NONE_WITHIN_MS


def _code_columns(line: str) -> set[int]:
    """Columns outside string literals (single-line ones; enough for the lines picked)."""
    columns: set[int] = set()
    quote = None
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        else:
            columns.add(index)
        index += 1
    return columns


def pause_points(line: str) -> dict[int, str]:
    """Cursor column -> pause kind; empty when the line lacks one of the three kinds."""
    indent = len(line) - len(line.lstrip())
    end = len(line.rstrip())
    code = _code_columns(line)
    words = [m for m in re.finditer(r"[A-Za-z_]\w{3,}", line) if m.start() in code]
    if indent == 0 or not words:
        return {}
    word = max(words, key=lambda m: len(m.group()))  # the first of the longest
    mid_word = word.start() + len(word.group()) // 2
    after_op = []
    for column in range(indent + 1, end):
        # Not inside a multi-character operator such as `==` or `**`.
        if line[column - 1] in OPERATORS and column - 1 in code and line[column] not in OPERATORS:
            after_op.append(column + 1 if line[column] == " " else column)
    after_op = [c for c in after_op if c < end and c != mid_word]
    if not after_op:
        return {}
    middle = (indent + end) / 2  # the operator nearest the middle spreads the pauses over the line
    return {indent: "line_start", mid_word: "mid_word", min(after_op, key=lambda c: abs(c - middle)): "after_op"}


def chosen_lines(text: str, count: int) -> list[int]:
    """0-based indexes of `count` single-line statements inside functions, evenly spread over the file."""
    lines = text.split("\n")
    candidates = set()
    for function in ast.walk(ast.parse(text)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.stmt) or node is function or node.lineno != node.end_lineno:
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # docstrings
            line = lines[node.lineno - 1]
            # Starts the line (not `if x: return y`), no comment, all three kinds of pause.
            if node.col_offset == len(line) - len(line.lstrip()) and "#" not in line and len(pause_points(line)) == 3:
                candidates.add(node.lineno - 1)
    ordered = sorted(candidates)
    picked = [ordered[(2 * i + 1) * len(ordered) // (2 * count)] for i in range(count)] if ordered else []
    return sorted(set(picked))


def suggestion_text(result: Any) -> str:
    items = getattr(result, "items", result) or []
    if not items:
        return ""
    text = items[0].insert_text
    return text if isinstance(text, str) else text.value  # a snippet (StringValue)


def judged(suggestion: str | None, remainder: str) -> tuple[bool, bool]:
    first = (suggestion or "").split("\n")[0].rstrip()
    rest = remainder.rstrip()
    return bool(first) and first == rest, bool(first) and rest.startswith(first)


def _quiet(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # a cancelled request's error is expected; retrieve it so asyncio does not log it


async def type_line(session: Session, uri: str, index: int, line: str, config: str, name: str, ids: itertools.count, key_s: float, wait_s: float) -> list[Pause]:
    stops = pause_points(line)
    indent = min(stops)
    # The user deletes the line's text and types it again; the rest of the file stays as the suffix.
    session.replace(uri, (index, 0), (index, len(line)), "")
    keys = [line[:indent]] + list(line[indent:])  # Enter's auto-indent is one change
    column = 0
    pending: tuple[str, asyncio.Future] | None = None
    pauses = []
    for key in keys:
        session.insert(uri, index, column, key)
        column += len(key)
        if pending is not None and not pending[1].done():
            session.cancel(pending[0])
        msg_id = f"{config}-{next(ids)}"
        sent = time.perf_counter()
        future = session.inline_task(uri, index, column, msg_id)
        future.add_done_callback(_quiet)
        pending = (msg_id, future)
        if column not in stops:
            await asyncio.sleep(key_s)
            continue
        done, _ = await asyncio.wait([future], timeout=wait_s)
        latency = (time.perf_counter() - sent) * 1000 if done else None
        if not done:
            session.cancel(msg_id)
        answered = done and not future.cancelled() and future.exception() is None
        suggestion = suggestion_text(future.result()) if answered else None
        pause = Pause(config, name, index + 1, stops[column], line[:column], line[column:], latency, suggestion, *judged(suggestion, line[column:]))
        print(_pause_row(pause), flush=True)
        pauses.append(pause)
        await asyncio.sleep(key_s)
    if pending is not None and not pending[1].done():
        session.cancel(pending[0])  # the line is complete: the user moves on
    return pauses


def _pause_row(pause: Pause) -> str:
    latency = f"{pause.latency_ms:7.0f} ms" if pause.latency_ms is not None else "   none   "
    verdict = "exact" if pause.exact else "prefix" if pause.prefix else "-"
    shown = "(no answer)" if pause.suggestion is None else repr(pause.suggestion.split("\n")[0][:60])
    return f"{pause.config:8} {pause.file}:{pause.line:<5} {pause.kind:10} {latency} {verdict:6} {pause.typed.strip()!r}| -> {shown}"


async def run_config(
    config: str, model: Path, threads: int, files: list[Path], lines_per_file: int, key_s: float, wait_s: float, settings: dict[str, Any]
) -> list[Pause]:
    """`settings` (--set) apply to every config; a config's own switches win."""
    options: dict[str, Any] = {"completionModel": {"path": str(model), "threads": threads}}
    if settings or CONFIGS[config]:
        options["completion"] = {**settings, **CONFIGS[config]}
    ids = itertools.count()
    pauses: list[Pause] = []
    async with lsp_session(options) as session:
        for number, path in enumerate(files):
            text = path.read_text()
            uri = session.open(path, text)
            if number == 0:
                await session.inline(uri, 0, 0)  # the model loads here, not during the first pause
            lines = text.split("\n")
            for index in chosen_lines(text, lines_per_file):
                pauses += await type_line(session, uri, index, lines[index], config, path.name, ids, key_s, wait_s)
                await asyncio.sleep(LINE_GAP_S)
            session.close(uri)
    return pauses


def summary(pauses: list[Pause], wait_s: float) -> dict[str, Any]:
    # A pause with no answer counts as the whole wait: a lower bound, never flattering.
    latencies = [p.latency_ms if p.latency_ms is not None else wait_s * 1000 for p in pauses]
    count = len(pauses) or 1
    return {
        "pauses": len(pauses),
        "p50_ms": median(latencies),
        "p90_ms": percentile(latencies, 90),
        "max_ms": max(latencies, default=0.0),
        "none_3s": sum(not p.shown_within_3s for p in pauses),
        "empty": sum(p.suggestion == "" for p in pauses),
        "no_answer": sum(p.latency_ms is None for p in pauses),
        "exact": sum(p.exact for p in pauses) / count,
        "prefix": sum(p.prefix for p in pauses) / count,
    }


def print_table(results: dict[str, list[Pause]], wait_s: float) -> dict[str, dict[str, dict[str, Any]]]:
    columns = ["pauses", "p50_ms", "p90_ms", "max_ms", "none_3s", "empty", "no_answer", "exact", "prefix"]
    print(f"{'config':8} {'kind':10}" + "".join(f"{c:>10}" for c in columns))
    tables = {}
    for config, pauses in results.items():
        tables[config] = {kind: summary([p for p in pauses if p.kind == kind], wait_s) for kind in KINDS}
        tables[config]["all"] = summary(pauses, wait_s)
        for kind, row in tables[config].items():
            cells = "".join(f"{row[c]:>10.2f}" if c in ("exact", "prefix") else f"{row[c]:>10.0f}" for c in columns)
            print(f"{config:8} {kind:10}{cells}")
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--files", default=",".join(FILES), help="standard-library modules, comma-separated")
    parser.add_argument("--lines-per-file", type=int, default=4)
    parser.add_argument("--keys-per-s", type=float, default=8.0)
    parser.add_argument("--wait-s", type=float, default=10.0, help="longest wait for the answer at a pause")
    parser.add_argument("--configs", default="product,off")
    parser.add_argument("--json-out", type=Path)
    add_settings_option(parser)
    args = parser.parse_args()
    model = require_model(args.model)
    configs = [c for c in args.configs.split(",") if c]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configs: {', '.join(sorted(unknown))} (known: {', '.join(CONFIGS)})")
    files = stdlib_files([name for name in args.files.split(",") if name])

    results = {}
    for config in configs:  # one after the other: never two servers competing for the cores
        results[config] = asyncio.run(run_config(config, model, args.threads, files, args.lines_per_file, 1 / args.keys_per_s, args.wait_s, completion_settings(args.set)))

    print(f"model {model.name}; {args.threads} threads; {args.keys_per_s:g} keys/s; wait {args.wait_s:g} s; files {', '.join(f.name for f in files)}")
    tables = print_table(results, args.wait_s)
    main_config = "product" if "product" in tables else configs[0]
    figures = tables[main_config]["all"]
    line: dict[str, Any] = {
        "model": model.name,
        "pauses": figures["pauses"],
        "p50_ms": round(figures["p50_ms"], 1),
        "p90_ms": round(figures["p90_ms"], 1),
        "max_ms": round(figures["max_ms"], 1),
        "none_3s": figures["none_3s"],
        "match": round(figures["exact"], 3),
    }
    if "off" in tables and main_config != "off":
        off = tables["off"]["all"]
        line.update(off_p50_ms=round(off["p50_ms"], 1), off_p90_ms=round(off["p90_ms"], 1), off_match=round(off["exact"], 3))
    if args.json_out:
        report = {"settings": {**vars(args), "model": str(model), "json_out": str(args.json_out)}, "tables": tables}
        report["pauses"] = [asdict(p) for pauses in results.values() for p in pauses]
        args.json_out.write_text(json.dumps(report, indent=2))
    print(result_line(**line))


if __name__ == "__main__":
    main()
