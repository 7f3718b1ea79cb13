"""Prompt and generation latency of our own completion path, on a GPU or on the CPU.

Loads the model through LlamaBackend and assembles prompts with the completion
prompt builder, exactly as the server does, then measures:
- cold prompt: a ~710-token FIM prompt evaluated afresh (no KV-cache reuse),
- warm prompt: the same prompt after one character was typed at the cursor
  (KV-cache reuse on, so only the changed tail is evaluated),
- generation speed: tokens per second while the model writes on from the end
  of a file.

    python benchmarks/gpu_latency.py [--model PATH] [--gpu-layers -1] [--threads N]

Run it with --gpu-layers -1 on a machine with a GPU build of llama-cpp-python
and with --gpu-layers 0 on the CPU for the side by side.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import time
from pathlib import Path

from bench_common import QWEN_05B, median, require_model, result_line, stdlib_files

from tandem_lsp.completion.prompt import BuiltPrompt, PromptBudget, TokenCounter, build_prompt
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.config import ModelSettings
from tandem_lsp.models.backend import GenerationRequest, GenerationResult
from tandem_lsp.models.llama_backend import LlamaBackend

SOURCE = "textwrap.py"


def device_label(offloaded: bool) -> str:
    """The GPU's name when layers are offloaded, else the CPU's."""
    if offloaded and shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
            ).stdout.strip().splitlines()
        except (OSError, subprocess.SubprocessError):
            out = []
        if out:
            return out[0].strip().replace(" ", "_")
    name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "cpu:" + (name or platform.processor() or "unknown").replace(" ", "_")


def cursor_in(text: str) -> int:
    """The end of an indented code line about two thirds into the file."""
    offset = text.index("\n", 2 * len(text) // 3)
    while True:
        start = offset + 1
        offset = text.index("\n", start)
        line = text[start:offset]
        if line.startswith("        ") and line.strip() and not line.strip().startswith("#"):
            return offset


def prompt_for(backend: LlamaBackend, text: str, offset: int, total: int) -> BuiltPrompt:
    request = CompletionRequest(text=text, offset=offset, language="python")
    return build_prompt(backend.fim, request, PromptBudget(window=total), TokenCounter(backend.count_tokens))


def evaluate(backend: LlamaBackend, prompt: BuiltPrompt, reuse_cache: bool, max_tokens: int = 1) -> GenerationResult:
    request = GenerationRequest(prompt=prompt.pieces, max_tokens=max_tokens, max_time_s=60.0, reuse_cache=reuse_cache)
    return backend.generate(request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=QWEN_05B)
    parser.add_argument("--gpu-layers", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=0, help="0: tandem's default")
    parser.add_argument("--prompt-tokens", type=int, default=860, help="prompt budget; the prompt comes out under it (about 710 tokens of textwrap.py with Qwen2.5-Coder)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gen-tokens", type=int, default=128)
    args = parser.parse_args()
    model = require_model(args.model)

    started = time.perf_counter()
    backend = LlamaBackend(str(model), ModelSettings(gpu_layers=args.gpu_layers, threads=args.threads, context_size=4096))
    load_ms = (time.perf_counter() - started) * 1000
    device = device_label(backend.gpu_offload)
    print(f"model {model.name} ({backend.fim.family}), device {device}, gpu_layers={args.gpu_layers}, offload={backend.gpu_offload}, load {load_ms:.0f} ms")

    text = stdlib_files([SOURCE])[0].read_text()
    offset = cursor_in(text)
    base = prompt_for(backend, text, offset, args.prompt_tokens)
    # One character typed at the cursor: only the prompt's tail changes.
    typed_text = text[:offset] + "x" + text[offset:]
    typed = prompt_for(backend, typed_text, offset + 1, args.prompt_tokens)
    print(f"prompt {base.token_count} tokens (budget {args.prompt_tokens}); after one keystroke {typed.token_count}")

    evaluate(backend, base, reuse_cache=False)  # warm-up: kernels, buffers, first allocation
    cold = [evaluate(backend, base, reuse_cache=False) for _ in range(args.repeat)]
    cold_ms = [r.prompt_ms for r in cold]

    warm: list[GenerationResult] = []
    for _ in range(args.repeat):
        evaluate(backend, base, reuse_cache=True)  # the cache holds the prompt before the keystroke
        warm.append(evaluate(backend, typed, reuse_cache=True))
    warm_ms = [r.prompt_ms for r in warm]
    warm_evaluated = median([float(r.prompt_tokens_evaluated) for r in warm])

    # Generation: write on from the end of the prefix (nothing after the cursor).
    end = text.index("\n", offset + 2000) if len(text) > offset + 2000 else len(text)
    gen_prompt = prompt_for(backend, text[:end] + "\n", end + 1, args.prompt_tokens)
    gen_runs = [evaluate(backend, gen_prompt, reuse_cache=False, max_tokens=args.gen_tokens) for _ in range(3)]
    rates = [r.generated_tokens / (r.generate_ms / 1000) for r in gen_runs if r.generated_tokens and r.generate_ms > 0]
    gen_tok_s = median(rates)

    print(f"cold prompt ({base.token_count} tok, all evaluated): median {median(cold_ms):.1f} ms  runs {[round(x, 1) for x in cold_ms]}")
    print(f"  = {base.token_count / (median(cold_ms) / 1000):.0f} prompt tok/s")
    print(f"warm prompt (one keystroke, {warm_evaluated:.0f} tok evaluated): median {median(warm_ms):.1f} ms  runs {[round(x, 1) for x in warm_ms]}")
    print(f"generation: {[r.generated_tokens for r in gen_runs]} tokens ({[r.stop_reason for r in gen_runs]}), median {gen_tok_s:.1f} tok/s")
    backend.close()
    print(
        result_line(
            device=device,
            cold_prompt_ms=round(median(cold_ms), 1),
            warm_prompt_ms=round(median(warm_ms), 1),
            gen_tok_s=round(gen_tok_s, 1),
            gpu_layers=args.gpu_layers,
            prompt_tokens=base.token_count,
            warm_evaluated=int(warm_evaluated),
            load_ms=round(load_ms),
        )
    )


if __name__ == "__main__":
    main()
