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

SETTINGS = {"completion": {"cache": False, "prefetch": False, "debounceMinMs": 0, "debounceMaxMs": 0, "maxTokens": 48}}


def positions(text: str, count: int) -> list[tuple[int, int]]:
    """Ends of indented code lines, spread over the file."""
    lines = text.split("\n")
    candidates = [(i, len(line)) for i, line in enumerate(lines) if line.startswith("    ") and line.strip() and not line.strip().startswith("#")]
    step = max(1, len(candidates) // count)
    return candidates[::step][:count]


async def through_server(model_options: dict, path: Path, text: str, spots):
    options = {"completionModel": model_options, **SETTINGS}
    runs = []
    async with lsp_session(options) as session:
        uri = session.open(path, text)
        await session.inline(uri, *spots[0])  # load the model
        for line, column in spots:
            started = time.perf_counter()
            await session.inline(uri, line, column)
            elapsed = (time.perf_counter() - started) * 1000
            last = await session.last_prompt()
            runs.append((elapsed, last.prompt, last.generatedTokens, last.promptTokens))
    return runs


def direct(model: Path, threads: int, gpu_layers: int, runs) -> list[float]:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(model), n_ctx=4096, n_batch=128, n_threads=threads, n_threads_batch=threads, n_gpu_layers=gpu_layers, verbose=False)
    llm.create_completion(prompt=llm.tokenize(runs[0][1].encode(), add_bos=False, special=True), max_tokens=1, temperature=0)
    times = []
    for _, prompt, generated, _ in runs:
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        started = time.perf_counter()
        llm.create_completion(prompt=tokens, max_tokens=max(generated, 1), temperature=0)
        times.append((time.perf_counter() - started) * 1000)
    llm.close()
    return times


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

    model_options = {"path": str(model), "threads": args.threads, "gpuLayers": args.gpu_layers}
    runs = asyncio.run(through_server(model_options, path, text, spots))
    direct_ms = direct(model, args.threads, args.gpu_layers, runs)
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
