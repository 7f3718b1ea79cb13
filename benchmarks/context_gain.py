"""What cross-file context buys: masked-line completion through the server, with and without the index.

    python benchmarks/context_gain.py [--model PATH] [--n 150] [--threads 2] [--gpu-layers 0] [--dir DIR]
        [--kinds definition,similar,recent --kinds definition ...] [--where middle|end]
        [--set minConfidence=0 ...] [--arms raw,context,plain] [--raw-tokens N]

Samples lines of this machine's standard library (modules not written here)
whose code uses a name imported from another module, where that name does not
appear in the 40 lines above. Each line is blanked (its indentation typed, as
after Enter) and completed three times in one run: by the bare model (raw: a
plain PSM prompt of the current file, cut to as many tokens as the server's
whole prompt may take, promptTokens + contextTokens, so that the server's
context competes with more of the file), then by the real server over stdio
LSP with the standard library as its workspace folder (the index built before
the first request), and with the index off (plain: the current file only).
Prints exact match (first line, whitespace trimmed) and edit similarity for
each, and the ratios; the goal is context >= 1.3x the raw exact match (and the
plain), never lower. Each
`--kinds` adds a run with the index that puts only those kinds of context in
the prompt (completion.contextKinds), to tell which kind helps.
`--where end` cuts each file after the blanked line, as when the line is new
code typed at the end of what is written: nothing below tells the model what
comes next, so only the index can (measured: its similar chunks did, more
than its definitions).
Everything else is the server's defaults (cache, prefetch, debounce, the
confidence gate) unless `--set NAME=VALUE` changes a completion setting in
every arm (`--set minConfidence=0`: the gate off, as infill.py's pass@1).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from bare_model import BareFim
from bench_common import QWEN_05B, add_settings_option, completion_settings, lsp_session, require_model, result_line

from tandem_lsp.config import CompletionSettings, IndexSettings
from tandem_lsp.context.index import WorkspaceIndex
from tandem_lsp.context.symbols import parse_source

# Left out of the sample (not of the index): tests and the IDE are unusual code.
SKIP_PARTS = {"test", "tests", "idlelib", "site-packages", "__pycache__", "lib2to3"}
LOOKBACK_LINES = 40
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


@dataclass(frozen=True)
class Sample:
    path: str
    line: int
    name: str
    text: str  # the file with the line blanked
    offset: int  # cursor: after the blanked line's indentation
    expected: str


def find_samples(root: Path, index: WorkspaceIndex, n: int, seed: int, where: str = "middle") -> list[Sample]:
    candidates: list[Sample] = []
    for path in sorted(root.rglob("*.py")):
        if SKIP_PARTS & set(path.relative_to(root).parts):
            continue
        try:
            source = path.read_bytes()
        except OSError:
            continue
        symbols = parse_source(str(path), source, "python")
        imported = {name for imp in symbols.imports if imp.names for name in imp.names}
        if not imported:
            continue
        lines = symbols.text.split("\n")
        for i, line in enumerate(lines):
            stripped = line.strip()
            if not (10 <= len(stripped) <= 100) or stripped.startswith(("#", "from ", "import ", "def ", "class ", "@")):
                continue
            for name in _CALL.findall(line):
                if name not in imported or re.search(rf"\b{name}\b", "\n".join(lines[max(0, i - LOOKBACK_LINES) : i])):
                    continue
                defined = [d for d in index.definitions_named(name) if d.path != str(path) and d.kind in ("function", "class")]
                if not defined:
                    continue
                indent = line[: len(line) - len(line.lstrip())]
                below = lines[i + 1 :] if where == "middle" else []
                text = "\n".join(lines[:i] + [indent] + below)
                offset = sum(len(x) + 1 for x in lines[:i]) + len(indent)
                candidates.append(Sample(str(path), i, name, text, offset, stripped))
                break
    random.Random(seed).shuffle(candidates)
    # One sample per file, for variety.
    seen: set[str] = set()
    picked = []
    for sample in candidates:
        if sample.path not in seen:
            seen.add(sample.path)
            picked.append(sample)
        if len(picked) == n:
            break
    return picked


def edit_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


async def complete_all(settings: dict, samples: list[Sample], label: str, root: Path | None, show_prompts: int = 0) -> list[str]:
    """First lines of the server's suggestions, one fresh document per sample."""
    outputs = []
    async with lsp_session(settings, root=root) as session:
        if root is not None:
            await wait_for_index(session)
        for k, sample in enumerate(samples):
            uri = session.open(Path(sample.path), sample.text)
            line = sample.text.count("\n", 0, sample.offset)
            column = sample.offset - (sample.text.rfind("\n", 0, sample.offset) + 1)
            items = await session.inline(uri, line, column)
            last = await session.last_prompt()
            if k < show_prompts:
                print(f"--- prompt {label} {k + 1}: {sample.path}:{sample.line + 1}\n{last['prompt']}\n--- end of prompt", flush=True)
            text = items[0].insert_text if items else ""
            outputs.append(text.split("\n")[0].strip())
            session.close(uri)
            print(f"[{label} {k + 1}/{len(samples)}] {sample.expected!r} <- {outputs[-1]!r} ({last['promptTokens']} tok, {last['promptMs']:.0f}+{last['generateMs']:.0f} ms, confidence {last['confidence']})", flush=True)
    return outputs


def complete_bare(model: Path, samples: list[Sample], threads: int, gpu_layers: int, window_tokens: int, suffix_share: float) -> list[str]:
    """First lines of the bare model's answers (raw), the current file cut to `window_tokens` around the cursor."""
    bare = BareFim(model, threads, gpu_layers)
    outputs = []
    for k, sample in enumerate(samples):
        text, latency = bare.complete(sample.text[: sample.offset], sample.text[sample.offset :], 1, 64, window_tokens, suffix_share)
        outputs.append(text.split("\n")[0].strip())
        print(f"[raw {k + 1}/{len(samples)}] {sample.expected!r} <- {outputs[-1]!r} ({latency:.0f} ms)", flush=True)
    bare.close()
    return outputs


async def wait_for_index(session, quiet_s: float = 5.0) -> None:
    """Until the server's index stops growing (the build is over)."""
    previous, still_since = None, time.monotonic()
    while True:
        stats = await session.index_stats()
        files = stats.get("files") if stats else None
        if files != previous:
            previous, still_since = files, time.monotonic()
        elif files and time.monotonic() - still_since >= quiet_s:
            print(f"server index: {files} files", flush=True)
            return
        await asyncio.sleep(1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--dir", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--where", choices=("middle", "end"), default="middle", help="the blanked line inside the file (middle) or the file cut after it (end: new code)")
    parser.add_argument("--show-prompt", type=int, default=0, metavar="K", help="print the first K prompts with context")
    parser.add_argument(
        "--kinds",
        action="append",
        default=[],
        metavar="KIND,...",
        help="one run with the index per use, with only these kinds of context (completion.contextKinds: definition, similar, recent); default: the server's",
    )
    parser.add_argument("--arms", default="raw,context,plain", help="which of raw (bare model), context (server, index on), plain (server, index off) to run")
    parser.add_argument("--raw-tokens", type=int, default=0, help="tokens of the current file in the bare model's prompt (default: the server's promptTokens + contextTokens)")
    add_settings_option(parser)
    args = parser.parse_args()
    model = require_model(args.model)
    overrides = completion_settings(args.set)
    run = set(args.arms.split(","))
    defaults = CompletionSettings()
    raw_tokens = args.raw_tokens or defaults.prompt_tokens + defaults.context_tokens

    started = time.perf_counter()
    index = WorkspaceIndex([args.dir], IndexSettings(exclude=IndexSettings().exclude + ["site-packages", "__pycache__"]))
    stats = index.build()
    samples = find_samples(args.dir, index, args.n, args.seed, args.where)
    print(f"index: {stats.files} files in {stats.seconds:.1f} s; {len(samples)} samples in {time.perf_counter() - started:.1f} s")

    model_settings = {"path": str(model), "threads": args.threads, "gpuLayers": args.gpu_layers}
    with_index = {"completionModel": model_settings, "completion": overrides, "index": {"exclude": IndexSettings().exclude + ["site-packages", "__pycache__"]}}
    without_index = {"completionModel": model_settings, "completion": overrides, "index": {"enabled": False}}
    arms = {",".join(kinds): kinds for kinds in ([k for k in arm.split(",") if k] for arm in args.kinds)} or {"": None}
    # The bare model first, its memory freed before the server starts: the two never compete for the cores.
    raw = complete_bare(model, samples, args.threads, args.gpu_layers, raw_tokens, defaults.suffix_share) if "raw" in run else None
    with_context = {}
    for label, kinds in arms.items() if "context" in run else ():
        settings = with_index if kinds is None else {**with_index, "completion": {**overrides, "contextKinds": kinds}}
        with_context[label] = asyncio.run(complete_all(settings, samples, f"context {label}".strip(), args.dir, args.show_prompt))
    plain = asyncio.run(complete_all(without_index, samples, "plain", None)) if "plain" in run else None
    # How often the index put the needed definition into reach of the prompt.
    hits = sum(1 for s in samples if any(s.name in snippet.text for snippet in index.retrieve(s.path, s.text, s.offset, 1000)))
    expected = [s.expected for s in samples]
    n = max(len(samples), 1)

    def exact_match(outputs: list[str]) -> float:
        return sum(a == b for a, b in zip(outputs, expected)) / n

    def similarity(outputs: list[str]) -> float:
        return sum(edit_similarity(a, b) for a, b in zip(outputs, expected)) / n

    def uses_name(outputs: list[str]) -> float:
        """How often the line calls the imported name it needs (what the index's definitions are there for)."""
        return sum(re.search(rf"\b{re.escape(s.name)}\b", out) is not None for s, out in zip(samples, outputs)) / n

    def ratio(em: float, base: float) -> float:
        return round(em / base if base else float("inf") if em else 1.0, 3)

    print(f"model {model.name}; definition of the used name retrieved for {hits}/{len(samples)} samples")
    rows = [(f"context {label or '(server default)'}", outputs) for label, outputs in with_context.items()]
    rows += [("plain (server, index off)", plain), (f"raw (bare model, {raw_tokens} tokens of the file)", raw)]
    for name, outputs in rows:
        if outputs is not None:
            print(f"{name}: exact match {exact_match(outputs):.3f}  edit similarity {similarity(outputs):.3f}  uses the name {uses_name(outputs):.3f}")
    print(f"total time {time.perf_counter() - started:.0f} s")
    figures: dict[str, object] = {"n": len(samples), "where": args.where}
    for label, outputs in with_context.items():
        suffix = "_" + label.replace(",", "_") if label else ""
        em = exact_match(outputs)
        figures[f"em_context{suffix}"] = em
        if plain is not None:
            figures[f"context_gain{suffix}"] = ratio(em, exact_match(plain))
        if raw is not None:
            figures[f"gain_over_raw{suffix}"] = ratio(em, exact_match(raw))
        figures[f"es_context{suffix}"] = similarity(outputs)
    for name, outputs in (("plain", plain), ("raw", raw)):
        if outputs is not None:
            figures[f"em_{name}"], figures[f"es_{name}"] = exact_match(outputs), similarity(outputs)
    print(result_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
