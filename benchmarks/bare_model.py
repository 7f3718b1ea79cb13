"""The bare model: llama-cpp-python called directly with a plain fill-in-the-middle prompt.

What every quality benchmark compares the product against, in the same run: no
server, no filters, no context, greedy decoding, a PSM prompt (prefix, suffix,
middle) of the document as it is.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


class BareFim:
    def __init__(self, model: Path, threads: int, gpu_layers: int, context_size: int = 4096) -> None:
        import llama_cpp

        self._llm = llama_cpp.Llama(
            model_path=str(model), n_ctx=context_size, n_threads=threads, n_threads_batch=threads, n_gpu_layers=gpu_layers, verbose=False
        )
        vocab = self._llm._model.vocab
        self._fim = (llama_cpp.llama_vocab_fim_pre(vocab), llama_cpp.llama_vocab_fim_suf(vocab), llama_cpp.llama_vocab_fim_mid(vocab))
        if min(self._fim) < 0:
            sys.exit(f"{model.name} has no fill-in-the-middle tokens")

    def complete(
        self, prefix: str, suffix: str, lines: int, max_tokens: int, window_tokens: int | None = None, suffix_share: float = 0.25
    ) -> tuple[str, float]:
        """The model's answer, read until it has `lines` newlines (or ends), and its latency in milliseconds.

        With `window_tokens`, the document is cut to that many tokens around the
        cursor as a plain harness does: the suffix's first tokens (at most
        `suffix_share` of the window, less when it is shorter) and the prefix's last.
        """
        before = self._llm.tokenize(prefix.encode(), add_bos=False, special=False)
        after = self._llm.tokenize(suffix.encode(), add_bos=False, special=False)
        if window_tokens is not None and len(before) + len(after) > window_tokens:
            after = after[: max(int(window_tokens * suffix_share), window_tokens - len(before))]
            before = before[len(before) - (window_tokens - len(after)) :]
        pre, suf, mid = self._fim
        started = time.perf_counter()
        text = ""
        for chunk in self._llm.create_completion([pre, *before, suf, *after, mid], max_tokens=max_tokens, temperature=0.0, stream=True):
            text += chunk["choices"][0]["text"]
            if text.count("\n") >= lines:
                break
        return text, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self._llm.close()
