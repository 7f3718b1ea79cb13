"""Replay the typing of real code through tandem-lsp and measure what a user feels.

Stretches of standard-library modules are typed character by character at about
8 keys/s (with a short pause after each line, as a reader of suggestions does).
After every keystroke the "editor" asks for an inline completion and cancels
the previous request, as VS Code does. Run once with every latency technique on
(KV-cache reuse, completion cache with type-through, in-flight joining,
prefetch, adaptive debounce) and once with all of them off, side by side. With
everything off, each answered request pays a cold full-prompt evaluation: that
is the cold baseline.

    python benchmarks/typing_replay.py [--model PATH] [--chars 160] [--mode both|on|off]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from bench_common import QWEN_05B, lsp_session, median, percentile, require_model, result_line, stdlib_files

FILES = ["textwrap.py", "shlex.py", "fnmatch.py"]
KEY_INTERVAL_S = 0.125
LINE_PAUSE_S = 1.0

ON = {"cache": True, "prefetch": True, "reuseKvCache": True, "debounceMinMs": 0, "debounceMaxMs": 150}
OFF = {"cache": False, "prefetch": False, "reuseKvCache": False, "debounceMinMs": 0, "debounceMaxMs": 0}


def stretch(text: str, chars: int) -> tuple[int, str]:
    """A stretch of code from inside the file: starts at a line start about a third of the way in."""
    start = text.index("\n", len(text) // 3) + 1
    # Begin at an indented code line so the typing is inside a function.
    while not text[start:].startswith("    ") or text[start:].startswith("    #"):
        start = text.index("\n", start) + 1
    return start, text[start : start + chars]


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


async def replay(model: Path, settings: dict, chars: int, threads: int, gpu_layers: int) -> dict:
    options = {"completionModel": {"path": str(model), "threads": threads, "gpuLayers": gpu_layers}, "completion": settings}
    latencies: list[float] = []
    keystrokes = 0
    answered = 0
    async with lsp_session(options) as session:
        for name in FILES:
            path = stdlib_files([name])[0]
            full = path.read_text()
            start, typed = stretch(full, chars)
            document = full[:start] + full[start + len(typed) :]
            uri = session.open(path, document)
            await session.inline(uri, *line_col(document, start))  # model loaded, file seen once
            pending: tuple[str, asyncio.Future, float] | None = None
            for index, char in enumerate(typed):
                offset = start + index
                line, column = line_col(document, offset)
                session.insert(uri, line, column, char)
                document = document[:offset] + char + document[offset:]
                if pending is not None and not pending[1].done():
                    session.cancel(pending[0])
                msg_id = f"{name}-{index}"
                sent = time.perf_counter()
                future = session.inline_task(uri, *line_col(document, offset + 1), msg_id)
                future.add_done_callback(lambda f, sent=sent: _record(f, sent, latencies))
                pending = (msg_id, future, sent)
                keystrokes += 1
                await asyncio.sleep(LINE_PAUSE_S if char == "\n" else KEY_INTERVAL_S)
            if pending is not None:
                await asyncio.wait([pending[1]], timeout=30)
        stats = (await session.stats())["completion"]
    answered = len(latencies)
    return {
        "keystrokes": keystrokes,
        "answered": answered,
        "p50_ms": median(latencies),
        "p95_ms": percentile(latencies, 95),
        "calls_per_key": stats["modelCalls"] / keystrokes,
        "hit_rate": stats["cacheHitRate"],
        "tokens_per_call": stats["evaluatedTokensPerCall"],
        "prompt_tokens_per_call": stats["promptTokensPerCall"],
    }


def _record(future: asyncio.Future, sent: float, latencies: list[float]) -> None:
    if future.cancelled() or future.exception() is not None:
        return  # cancelled by the next keystroke: the user never waited for it
    latencies.append((time.perf_counter() - sent) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--chars", type=int, default=160, help="characters typed per file")
    parser.add_argument("--mode", choices=["both", "on", "off"], default="both")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-layers", type=int, default=-1)
    args = parser.parse_args()
    model = require_model(args.model)

    results = {}
    for mode, settings in (("on", ON), ("off", OFF)):
        if args.mode in (mode, "both"):
            results[mode] = asyncio.run(replay(model, settings, args.chars, args.threads, args.gpu_layers))

    print(f"model {model.name}; files {', '.join(FILES)}; {args.chars} chars each at {1 / KEY_INTERVAL_S:.0f} keys/s")
    keys = ["keystrokes", "answered", "p50_ms", "p95_ms", "calls_per_key", "hit_rate", "tokens_per_call", "prompt_tokens_per_call"]
    print(f"{'':>24}" + "".join(f"{mode:>12}" for mode in results))
    for key in keys:
        print(f"{key:>24}" + "".join(f"{results[m][key]:>12.2f}" if isinstance(results[m][key], float) else f"{results[m][key]:>12}" for m in results))
    on = results.get("on") or results["off"]
    cold = results.get("off", {}).get("p50_ms", 0.0)
    ratio = on["p50_ms"] / cold if cold else float("nan")
    print(f"p50 with techniques on / cold full-prompt p50: {ratio:.3f} (goal <= 0.15)")
    print(
        result_line(
            p50_ms=round(on["p50_ms"], 1),
            p95_ms=round(on["p95_ms"], 1),
            cold_p50_ms=round(cold, 1),
            p50_ratio_to_cold=round(ratio, 3),
            calls_per_key=round(on["calls_per_key"], 3),
            hit_rate=round(on["hit_rate"], 3),
            tokens_per_call=round(on["tokens_per_call"], 1),
        )
    )


if __name__ == "__main__":
    main()
