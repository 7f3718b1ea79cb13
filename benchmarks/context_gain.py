"""What cross-file context buys: masked-line completion with and without the index.

    python benchmarks/context_gain.py [--model PATH] [--n 40] [--threads 2] [--gpu-layers 0]

Samples lines of this machine's standard library (modules not written here)
whose code uses a name imported from another module, where that name does not
appear in the 40 lines above. Each line is blanked (its indentation kept) and
completed by the real completion engine twice: once with the workspace index
as its context provider, once without. Prints exact match (whitespace
trimmed) and edit similarity for both; the goal is context >= 1.5x the plain
exact match. The completion cache and prefetch are off, so every completion
is a fresh model run.
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

from bench_common import QWEN_05B, require_model, result_line

from tandem_lsp.completion.engine import CompletionEngine
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.config import IndexSettings, Settings
from tandem_lsp.context.index import WorkspaceIndex
from tandem_lsp.context.symbols import parse_source
from tandem_lsp.models.registry import ModelRegistry

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


def find_samples(root: Path, index: WorkspaceIndex, n: int, seed: int) -> list[Sample]:
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
                text = "\n".join(lines[:i] + [indent] + lines[i + 1 :])
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


async def complete_all(engine: CompletionEngine, samples: list[Sample], label: str, show_prompts: int = 0) -> list[str]:
    outputs = []
    for k, sample in enumerate(samples):
        request = CompletionRequest(text=sample.text, offset=sample.offset, language="python", path=sample.path)
        suggestion = await engine.complete(request)
        if k < show_prompts:
            print(f"--- prompt {label} {k + 1}: {sample.path}:{sample.line + 1}\n{engine.last_prompt}\n--- end of prompt", flush=True)
        text = suggestion.text if suggestion is not None else ""
        outputs.append(text.split("\n")[0].strip())
        g = engine.last_generation
        timing = f"{g.prompt_tokens} tok, {g.prompt_ms:.0f}+{g.generate_ms:.0f} ms" if g else ""
        print(f"[{label} {k + 1}/{len(samples)}] {sample.expected!r} <- {outputs[-1]!r} ({timing})", flush=True)
    return outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--dir", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--prompt-tokens", type=int, default=1024, help="the current file's window (context has its own budget)")
    parser.add_argument("--show-prompt", type=int, default=0, metavar="K", help="print the first K prompts with context")
    args = parser.parse_args()
    model = require_model(args.model)

    started = time.perf_counter()
    index = WorkspaceIndex([args.dir], IndexSettings(exclude=IndexSettings().exclude + ["site-packages", "__pycache__"]))
    stats = index.build()
    samples = find_samples(args.dir, index, args.n, args.seed)
    print(f"index: {stats.files} files in {stats.seconds:.1f} s; {len(samples)} samples in {time.perf_counter() - started:.1f} s")

    settings = Settings().merged(
        {
            "completionModel": {"path": str(model), "threads": args.threads, "gpuLayers": args.gpu_layers},
            # Only the first line is scored: a line of up to 100 characters fits in 40 tokens.
            "completion": {
                "cache": False,
                "prefetch": False,
                "debounceMinMs": 0,
                "debounceMaxMs": 0,
                "maxTimeMs": 20_000,
                "maxTokens": 40,
                "promptTokens": args.prompt_tokens,
            },
        }
    )
    registry = ModelRegistry(settings)
    engine = CompletionEngine(registry, lambda: settings.completion)

    async def run() -> tuple[list[str], list[str], int]:
        engine.context = index
        with_context = await complete_all(engine, samples, "context", args.show_prompt)
        # How often the index put the needed definition into the prompt.
        hits = sum(1 for s in samples if any(s.name in snippet.text for snippet in index.retrieve(s.path, s.text, s.offset, 1000)))
        engine.context = None
        plain = await complete_all(engine, samples, "plain")
        return with_context, plain, hits

    with_context, plain, hits = asyncio.run(run())
    registry.close()
    expected = [s.expected for s in samples]
    n = len(samples)
    em_context = sum(a == b for a, b in zip(with_context, expected)) / max(n, 1)
    em_plain = sum(a == b for a, b in zip(plain, expected)) / max(n, 1)
    es_context = sum(edit_similarity(a, b) for a, b in zip(with_context, expected)) / max(n, 1)
    es_plain = sum(edit_similarity(a, b) for a, b in zip(plain, expected)) / max(n, 1)
    print(f"model {model.name}; definition of the used name retrieved for {hits}/{n} samples")
    print(f"exact match:     context {em_context:.3f}  plain {em_plain:.3f}")
    print(f"edit similarity: context {es_context:.3f}  plain {es_plain:.3f}")
    print(f"total time {time.perf_counter() - started:.0f} s")
    print(result_line(n=n, em_context=em_context, em_plain=em_plain, es_context=es_context, es_plain=es_plain))
    return 0


if __name__ == "__main__":
    sys.exit(main())
