"""What the server costs on top of the model: one completion through tandem-lsp over
stdio end to end, against a direct llama-cpp-python call with the same prompt tokens
and the same number of generated tokens. Both keep their KV cache across the same
sequence of prompts, so the comparison is like for like.

    python benchmarks/overhead.py [--model PATH] [--n 12] [--backend local|http]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from bench_common import QWEN_05B, lsp_session, median, require_model, result_line, stdlib_files

# Seconds between the two sides of a spot (OpenMP worker threads spin a while after work).
PAUSE_S = 0.3
SETTINGS = {"completion": {"cache": False, "prefetch": False, "debounceMinMs": 0, "debounceMaxMs": 0, "maxTokens": 48}}


def positions(text: str, count: int) -> list[tuple[int, int]]:
    """Ends of indented code lines, spread over the file."""
    lines = text.split("\n")
    candidates = [(i, len(line)) for i, line in enumerate(lines) if line.startswith("    ") and line.strip() and not line.strip().startswith("#")]
    step = max(1, len(candidates) // count)
    return candidates[::step][:count]


class DirectLlama:
    """The same model in this process, called the way a minimal plugin would."""

    def __init__(self, model: Path, threads: int, gpu_layers: int) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=str(model), n_ctx=4096, n_batch=128, n_threads=threads, n_threads_batch=threads,
                                   n_gpu_layers=gpu_layers, verbose=False)

    def _tokens(self, prompt: str) -> list[int]:
        return self.llm.tokenize(prompt.encode(), add_bos=False, special=True)

    async def prime(self, prompt: str) -> None:
        """Leave `prompt` in the KV cache (untimed), as the server's previous request did."""
        self.llm.create_completion(prompt=self._tokens(prompt), max_tokens=1, temperature=0)

    async def timed(self, prompt: str, tokens: int) -> float:
        tokens_in = self._tokens(prompt)
        started = time.perf_counter()
        self.llm.create_completion(prompt=tokens_in, max_tokens=max(tokens, 1), temperature=0)
        return (time.perf_counter() - started) * 1000


async def side_by_side(options: dict, direct, path: Path, text: str, spots):
    """Per spot, back to back from the same cache state: through the server, then direct.

    `direct` has `prime(prompt)` (untimed: leave the previous spot's prompt in the
    cache) and `timed(prompt, tokens) -> ms`. Interleaving matters on a shared
    machine: CPU steal and other load drift over minutes, and hit both sides of a
    spot alike. A short pause between the two lets the idle side's OpenMP
    threads stop spinning.
    """
    runs, direct_ms = [], []
    async with lsp_session(options) as session:
        uri = session.open(path, text)
        await session.inline(uri, *spots[0])  # load the model
        previous = (await session.last_prompt())["prompt"]
        for line, column in spots:
            await direct.prime(previous)
            await asyncio.sleep(PAUSE_S)
            started = time.perf_counter()
            await session.inline(uri, line, column)
            elapsed = (time.perf_counter() - started) * 1000
            last = await session.last_prompt()
            runs.append((elapsed, last["prompt"], last["generatedTokens"], last["promptTokens"]))
            await asyncio.sleep(PAUSE_S)
            await direct.prime(previous)
            direct_ms.append(await direct.timed(last["prompt"], last["generatedTokens"]))
            previous = last["prompt"]
            print(f"spot {len(runs)}/{len(spots)}: server {elapsed:.0f} ms (model: {last['evaluatedTokens']} tokens evaluated in "
                  f"{last['promptMs']:.0f} ms, {last['generatedTokens']} generated in {last['generateMs']:.0f} ms), direct {direct_ms[-1]:.0f} ms",
                  flush=True)
    return runs, direct_ms


async def measure_local(model: Path, threads: int, gpu_layers: int, path: Path, text: str, spots):
    direct = DirectLlama(model, threads, gpu_layers)
    options = {"completionModel": {"path": str(model), "threads": threads, "gpuLayers": gpu_layers}, **SETTINGS}
    try:
        return await side_by_side(options, direct, path, text, spots)
    finally:
        direct.llm.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--n", type=int, default=12, help="completions per side")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-layers", type=int, default=-1)
    parser.add_argument("--file", default="textwrap.py", help="standard-library module to complete in")
    parser.add_argument("--backend", choices=["local", "http"], default="local",
                        help="local: in-process llama-cpp-python; http: via llama_cpp.server (see overhead_http.py)")
    args = parser.parse_args()
    model = require_model(args.model)
    path = stdlib_files([args.file])[0]
    text = path.read_text()
    spots = positions(text, args.n)
    if args.backend == "http":
        from overhead_http import run_http

        return run_http(model, args.threads, args.gpu_layers, path, text, spots)

    runs, direct_ms = asyncio.run(measure_local(model, args.threads, args.gpu_layers, path, text, spots))
    print(f"model {model.name}, {len(runs)} completions in {path.name}, threads={args.threads} gpu_layers={args.gpu_layers}")
    report(runs, direct_ms, backend="local")


def report(runs, direct_ms: list[float], backend: str) -> None:
    """The per-completion table, both medians and the RESULT line."""
    server_ms = [r[0] for r in runs]
    print(f"{'#':>3} {'prompt tok':>10} {'gen tok':>8} {'server ms':>10} {'direct ms':>10}")
    for i, ((s, _, g, p), d) in enumerate(zip(runs, direct_ms)):
        print(f"{i:>3} {p:>10} {g:>8} {s:>10.1f} {d:>10.1f}")
    server_median, direct_median = median(server_ms), median(direct_ms)
    ratio = server_median / direct_median if direct_median else float("nan")
    print(f"median server {server_median:.1f} ms, direct {direct_median:.1f} ms, ratio {ratio:.3f} (goal <= 1.05)")
    print(result_line(backend=backend, direct_ms=round(direct_median, 1), server_ms=round(server_median, 1), ratio=round(ratio, 3)))


if __name__ == "__main__":
    main()
