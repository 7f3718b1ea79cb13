"""In-process model backend over llama-cpp-python.

One `Llama` per model, only ever touched from the model worker thread
(llama.cpp contexts are not thread-safe). Generation is our own loop over
`eval`/`sample` so that we can:
- reuse the KV cache for the longest common prompt prefix and report how many
  prompt tokens were really evaluated,
- check cancellation between prompt batches and between tokens,
- stop early as soon as post-processing says the suggestion is complete.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import threading
import time
from functools import cached_property
from typing import Sequence

from tandem_lsp.config import ModelSettings
from tandem_lsp.models import kv_reuse
from tandem_lsp.models.backend import (
    ChatRequest,
    ChatResult,
    Deadline,
    FimTemplate,
    GenerationRequest,
    GenerationResult,
    ModelError,
    Prompt,
    SpecialToken,
    TokenScore,
)
from tandem_lsp.models.cpu_threads import default_threads
from tandem_lsp.models.fim import detect_fim_template
from tandem_lsp.models.gguf_file import check_model_file
from tandem_lsp.models.reasoning import split_reasoning
from tandem_lsp.models.text_stream import Utf8Stream

log = logging.getLogger(__name__)

# Prompt tokens evaluated per llama.cpp call; cancellation is checked between batches.
PROMPT_BATCH = 128
# Scoring continuations evaluates at most this many head tokens the cache lacks.
MAX_UNCACHED_HEAD = 64
# Choices kept per scored position: the model's first choice and its runners-up.
SCORED_CHOICES = 4


class LlamaBackend:
    """A GGUF model loaded in this process."""

    def __init__(self, path: str, settings: ModelSettings) -> None:
        model_path = check_model_file(path)
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise ModelError("llama-cpp-python is not installed: pip install llama-cpp-python") from exc
        self._llama_cpp = llama_cpp
        threads = settings.threads or default_threads()
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(model_path),
                n_ctx=settings.context_size,
                n_batch=PROMPT_BATCH,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=settings.gpu_layers,
                verbose=False,
            )
            self._open_second_sequence()
        except (ValueError, RuntimeError, OSError) as exc:
            hint = ""
            if "llama_context" in str(exc):
                hint = f" (not enough memory for contextSize {settings.context_size}? try a smaller contextSize or fewer gpuLayers)"
            raise ModelError(f"llama.cpp could not load {model_path.name}: {exc}{hint}") from exc
        self.name = model_path.name
        self.path = str(model_path)
        self.context_size = self._llm.n_ctx()
        self.gpu_offload = bool(llama_cpp.llama_supports_gpu_offload()) and settings.gpu_layers != 0
        self._vocab = self._llm._model.vocab
        self.fim = self._detect_fim()
        # The last scored tokens and their (logprob, ranked choice ids, their logprobs), for reuse.
        self._scored: tuple[list[int], list[tuple[float, tuple[int, ...], tuple[float, ...]] | None]] = ([], [])
        log.info("loaded %s (fim: %s, ctx %d, threads %d)", self.name, self.fim.family, self.context_size, threads)

    def _open_second_sequence(self) -> None:
        """Give the context a second KV sequence, sharing one cache with the first.

        Candidates are scored in sequence 1, branched off the prompt the last
        generation left in sequence 0 (a copy of its cache entries, no work), so
        scoring never throws away the cache the next keystroke reuses.
        llama-cpp-python only creates multi-sequence contexts for embeddings, so
        the context is made again with the same parameters and two sequences.
        """
        import contextlib

        from llama_cpp import _internals

        llm = self._llm
        params = llm.context_params
        params.n_seq_max = 2
        params.kv_unified = True  # one cache of n_ctx cells, not n_ctx/2 per sequence
        context = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        llm._ctx.close()
        llm._ctx = llm._stack.enter_context(contextlib.closing(context))
        self._branch_batch = llm._stack.enter_context(contextlib.closing(_internals.LlamaBatch(n_tokens=PROMPT_BATCH, embd=0, n_seq_max=1)))

    # -- vocabulary -----------------------------------------------------------

    def _detect_fim(self) -> FimTemplate:
        lib = self._llama_cpp
        ids = {
            "prefix": lib.llama_vocab_fim_pre(self._vocab),
            "suffix": lib.llama_vocab_fim_suf(self._vocab),
            "middle": lib.llama_vocab_fim_mid(self._vocab),
            "repo_name": lib.llama_vocab_fim_rep(self._vocab),
            "file_sep": lib.llama_vocab_fim_sep(self._vocab),
        }
        return detect_fim_template(ids, self._token_text, self._lookup_special)

    def _token_text(self, token: int) -> str:
        return self._llm._model.token_get_text(token)

    def _lookup_special(self, text: str) -> int | None:
        tokens = self._llm.tokenize(text.encode(), add_bos=False, special=True)
        if len(tokens) == 1 and self._token_text(tokens[0]) == text:
            return tokens[0]
        return None

    def tokenize(self, text: str) -> list[int]:
        if not text:
            return []
        return self._llm.tokenize(text.encode("utf-8", errors="replace"), add_bos=False, special=False)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    # Sampling is ours (see generate), so the first tokens can be constrained.
    constrains_start = True

    def last_token_text(self, text: str) -> str:
        tokens = self.tokenize(text)
        if not tokens:
            return ""
        head = self._llm.detokenize(tokens[:-1]).decode("utf-8", errors="replace")
        return text[len(head) :] if text.startswith(head) else ""

    def _prompt_tokens(self, prompt: Prompt) -> list[int]:
        tokens: list[int] = []
        if self._llm._model.add_bos_token():
            tokens.append(self._llm.token_bos())
        for piece in prompt:
            if isinstance(piece, SpecialToken):
                tokens.append(piece.id)
            else:
                tokens.extend(self.tokenize(piece))
        return tokens

    def _is_end(self, token: int) -> bool:
        return bool(self._llama_cpp.llama_vocab_is_eog(self._vocab, token))

    # -- generation -----------------------------------------------------------

    def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        tokens = self._prompt_tokens(request.prompt)
        if not tokens:
            # Nothing to continue (an empty document and a model without BOS):
            # llama.cpp cannot sample without a single evaluated token.
            return GenerationResult(text="", stop_reason="eos", prompt_tokens=0)
        room = self.context_size - len(tokens)
        if room <= 1:
            raise ModelError(f"prompt of {len(tokens)} tokens does not fit the context of {self.context_size}")
        max_tokens = min(request.max_tokens, room - 1)

        result = GenerationResult(text="", stop_reason="eos", prompt_tokens=len(tokens))
        result.prompt_tokens_evaluated = self._evaluate_prompt(tokens, request.cancel, request.reuse_cache, move=request.reuse_cache)
        result.prompt_ms = (time.perf_counter() - started) * 1000
        if result.prompt_tokens_evaluated < 0:
            result.prompt_tokens_evaluated = -result.prompt_tokens_evaluated
            result.stop_reason = "cancelled"
            return result
        # The time cap is on generation; prompt evaluation is bounded by the
        # prompt budget and stops on cancellation.
        deadline = Deadline(request.max_time_s)

        # One sampler for the whole generation: building the chain per token is
        # slow, and llama-cpp-python's chat call leaves its own (grammar-bound)
        # sampler behind, which `sample()` would otherwise reuse.
        self._llm._sampler = self._llm._init_sampler(temp=request.temperature, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0)
        required = request.required_start.encode("utf-8")
        # The choice asked for is taken at the first token after the required text.
        branch = request.first_choice
        stream = Utf8Stream()
        text = ""
        decode_started = time.perf_counter()
        while True:
            if request.cancel.is_set():
                result.stop_reason = "cancelled"
                break
            if result.generated_tokens >= max_tokens:
                result.stop_reason = "max_tokens"
                break
            if deadline.passed():
                result.stop_reason = "time"
                break
            logits = self._last_logits()
            if required:
                token = self._healing.ranked_start(logits, required)
                if token is None:  # no token can spell the required text: give up quietly
                    result.stop_reason = "eos"
                    break
                spelt = self._llm.detokenize([token]) if branch is not None else b""
                if len(spelt) > len(required) and spelt.startswith(required):
                    # This token spells the rest of the required text and goes on with the
                    # answer's own (`   `+` return` after a lead of four spaces): the answers
                    # branch here, or every choice would begin with the same word.
                    token, branch = self._healing.ranked_start(logits, required, branch, past=True), None
            elif branch is not None:
                token, branch = self._ranked(logits, branch), None
            else:
                token = self._llm.sample()
            logprob = _logprob(logits, token)
            if self._is_end(token):
                result.stop_reason = "eos"
                break
            result.generated_tokens += 1
            raw_piece = self._llm.detokenize([token])
            required = required[len(raw_piece) :] if not raw_piece.startswith(required) else b""
            piece = stream.feed(raw_piece)
            self._llm.eval([token])
            if piece:
                text += piece
            result.token_logprobs.append((len(text), logprob))
            if piece:
                if request.on_text is not None:
                    request.on_text(piece)
                if request.stop_check is not None and request.stop_check(text):
                    result.stop_reason = "stop_check"
                    break
        result.text = text + stream.flush()
        result.generate_ms = (time.perf_counter() - decode_started) * 1000
        return result

    def _ranked(self, logits, rank: int) -> int:
        """The token in place `rank` of the model's preference (0 is its best) among those that do not end the output."""
        import numpy as np

        # End tokens are few (end of text, end of turn, FIM pad...): look a little deeper and skip them.
        depth = min(rank + 16, len(logits) - 1)
        top = np.argpartition(-logits, depth)[: depth + 1]
        ordered = [int(t) for t in top[np.argsort(-logits[top])] if not self._is_end(int(t))]
        return ordered[min(rank, len(ordered) - 1)]

    def _last_logits(self):
        """Logits after the last evaluated token (llama.cpp keeps only that row)."""
        import numpy as np

        return np.ctypeslib.as_array(self._llm._ctx.get_logits(), shape=(self._llm.n_vocab(),))

    @cached_property
    def _healing(self) -> "_HealingIndex":
        return _HealingIndex(self._llm, self._is_end)

    def _evaluate_prompt(self, tokens: list[int], cancel: threading.Event, reuse_cache: bool = True, move: bool = False) -> int:
        """Bring the KV cache to `tokens`, reusing the longest cached prefix.

        With `move`, when text was taken out before the end (the prefix window
        moved down), the cached tokens after it are moved back into place
        instead of being evaluated again (kv_reuse.py).
        Returns how many tokens were evaluated; negative when cancelled midway.
        """
        llm = self._llm
        cached = llm.input_ids[: llm.n_tokens].tolist() if reuse_cache else []
        reuse = kv_reuse.plan(cached, tokens, movable=move and self._can_move_cache)
        evaluated = 0
        llm.n_tokens = reuse.keep
        if reuse.chunk:
            ctx = llm._ctx
            ctx.kv_cache_seq_rm(0, reuse.chunk_from + reuse.chunk, -1)
            ctx.kv_cache_seq_rm(0, reuse.keep, reuse.chunk_from)
            ctx.kv_cache_seq_shift(0, reuse.chunk_from, reuse.chunk_from + reuse.chunk, reuse.shift)
            llm.input_ids[reuse.keep : reuse.reused] = tokens[reuse.keep : reuse.reused]
            llm.n_tokens = reuse.reused
        for start in range(llm.n_tokens, len(tokens), PROMPT_BATCH):
            if cancel.is_set():
                return -max(evaluated, 1)
            batch = tokens[start : start + PROMPT_BATCH]
            llm.eval(batch)
            evaluated += len(batch)
        return evaluated

    @cached_property
    def _can_move_cache(self) -> bool:
        """Whether cached entries can be moved to other positions (RoPE models can; some memory types cannot)."""
        memory = getattr(self._llm._ctx, "memory", None)
        return memory is not None and bool(self._llama_cpp.llama_memory_can_shift(memory))

    def _chat_prompt_tokens(self, messages: list[dict]) -> list[int] | None:
        """The tokens llama-cpp-python's chat handler will feed, from the GGUF's chat template."""
        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model = self._llm._model
        formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(self._llm.token_eos()),
            bos_token=model.token_get_text(self._llm.token_bos()),
        )
        formatted = formatter(messages=messages)
        return self._llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)

    def chat(self, request: ChatRequest) -> ChatResult:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        # Evaluate the prompt ourselves, batch by batch, so a cancel stops a long
        # review prompt early; the chat call below then finds it in the KV cache.
        tokens = self._chat_prompt_tokens(messages)
        if tokens is not None and len(tokens) < self.context_size:
            if self._evaluate_prompt(tokens, request.cancel) < 0:
                return ChatResult(content="", stop_reason="cancelled")
        deadline = Deadline(request.max_time_s)
        kwargs: dict = {}
        if request.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
        try:
            chunks = self._llm.create_chat_completion(
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stream=True,
                **kwargs,
            )
        except ValueError as exc:
            raise ModelError(f"{self.name}: {exc}") from exc
        parts: list[str] = []
        stop_reason = "eos"
        generated = 0
        for chunk in chunks:
            delta = chunk["choices"][0].get("delta", {}).get("content") or ""
            if delta:
                generated += 1
                parts.append(delta)
                if request.on_text is not None:
                    request.on_text(delta)
            if chunk["choices"][0].get("finish_reason") == "length":
                stop_reason = "max_tokens"
            if request.cancel.is_set():
                stop_reason = "cancelled"
                break
            if deadline.passed():
                stop_reason = "time"
                break
        chunks.close()
        answer, reasoning = split_reasoning("".join(parts))
        return ChatResult(content=answer, reasoning=reasoning, stop_reason=stop_reason, generated_tokens=generated)

    # -- likelihood -----------------------------------------------------------

    def score_text(self, text: str, cancel: threading.Event) -> list[TokenScore] | None:
        """Each token's log-probability and the model's own first choice.

        Scores of the tokens shared with the previously scored text (a file and
        the same file with one line changed) are reused together with their KV
        cache, so scoring a variant costs only the tokens from the change on.
        The text stays in the KV cache, so a generation continuing from inside
        it is cheap too. Returns None when cancelled, or when the tokens do not
        spell the text back exactly (offsets would be wrong).
        """
        import numpy as np

        llm = self._llm
        body = self.tokenize(text)
        head = [llm.token_bos()] if llm._model.add_bos_token() else []
        tokens = head + body
        if len(body) < 2:
            return []
        if len(tokens) >= self.context_size:
            return None
        pieces = [llm.detokenize([t]) for t in body]
        if b"".join(pieces) != text.encode("utf-8"):
            return None
        # Reuse: positions whose token (and every token before) matches both the
        # KV cache and the last scored text. Position p's score needs logits at p - 1.
        previous_tokens, previous_scores = self._scored
        reuse = 0
        limit = min(llm.n_tokens, len(tokens), len(previous_tokens))
        while reuse < limit and tokens[reuse] == previous_tokens[reuse] == llm.input_ids[reuse]:
            reuse += 1
        start_at = max(reuse - 1, 0)
        # by_position[p] = (logprob, the model's ranked choice ids, their logprobs) for tokens[p].
        by_position: list[tuple[float, tuple[int, ...], tuple[float, ...]] | None] = [None] * len(tokens)
        for position in range(min(start_at + 1, len(previous_scores))):
            by_position[position] = previous_scores[position]
        llm.n_tokens = start_at
        llm._ctx.kv_cache_seq_rm(-1, start_at, -1)
        n_vocab = llm.n_vocab()
        for start in range(start_at, len(tokens), PROMPT_BATCH):
            if cancel.is_set():
                self._scored = ([], [])
                return None
            batch = tokens[start : start + PROMPT_BATCH]
            llm._batch.set_batch(batch=batch, n_past=start, logits_all=True)
            llm._ctx.decode(llm._batch)
            llm.input_ids[start : start + len(batch)] = batch
            llm.n_tokens += len(batch)
            rows = [i for i in range(len(batch)) if start + i + 1 < len(tokens)]
            if not rows:
                continue
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(batch), n_vocab))[rows]
            peak = logits.max(axis=1)
            log_norm = peak + np.log(np.exp(logits - peak[:, None]).sum(axis=1))
            # The model's few first choices at each position, best first.
            top = np.argpartition(logits, -SCORED_CHOICES, axis=1)[:, -SCORED_CHOICES:]
            top_logits = np.take_along_axis(logits, top, axis=1)
            order = np.argsort(-top_logits, axis=1)
            top, top_logprobs = np.take_along_axis(top, order, axis=1), np.take_along_axis(top_logits, order, axis=1) - log_norm[:, None]
            for k, i in enumerate(rows):
                target = tokens[start + i + 1]
                by_position[start + i + 1] = (
                    float(logits[k, target] - log_norm[k]),
                    tuple(int(t) for t in top[k]),
                    tuple(float(v) for v in top_logprobs[k]),
                )
        self._scored = (tokens, by_position)
        char_at = _char_offsets(text)
        scores: list[TokenScore] = []
        offset = 0
        for index, piece in enumerate(pieces):
            entry = by_position[len(head) + index]
            if index >= 1 and entry is not None:  # the first token has no text before it
                logprob, choices, choice_logprobs = entry
                scores.append(
                    TokenScore(
                        start=char_at[offset],
                        text=piece.decode("utf-8", errors="replace"),
                        logprob=logprob,
                        expected=self._piece(choices[0]),
                        expected_logprob=choice_logprobs[0],
                        alternatives=tuple(zip(map(self._piece, choices[1:]), choice_logprobs[1:])),
                    )
                )
            offset += len(piece)
        return scores

    def score_continuations(self, head: Prompt, continuations: Sequence[tuple[str, str]], cancel: threading.Event) -> list[float] | None:
        """For each (read, scored) pair, the log-probability of `scored` where it follows `head` + `read`.

        A token that spans the two counts for `scored`. Each pair is evaluated
        in the second sequence, branched off the tokens `head` shares with the
        cache of the last prompt; sequence 0 (what the next request reuses) is
        left as it was. None when cancelled, or when too little of `head` is
        cached to make scoring cheap.
        """
        import numpy as np

        llm = self._llm
        head_tokens = self._prompt_tokens(head)
        cached = 0
        limit = min(llm.n_tokens, len(head_tokens))
        while cached < limit and llm.input_ids[cached] == head_tokens[cached]:
            cached += 1
        # The logits that predict the first token after the head come from its
        # last position: evaluate from there at least.
        start = min(cached, len(head_tokens) - 1)
        if len(head_tokens) - start > MAX_UNCACHED_HEAD or start < 1:
            return None
        n_vocab = llm.n_vocab()
        scores = []
        try:
            for read, scored in continuations:
                body = self.tokenize(read + scored)
                # The first body token that ends inside `scored` (UTF-8 bytes).
                ends = itertools.accumulate(len(llm.detokenize([token])) for token in body)
                first_scored = len(head_tokens) + next((i for i, end in enumerate(ends) if end > len(read.encode("utf-8"))), len(body))
                sequence = head_tokens + body
                feed = sequence[start:-1]
                if llm.n_tokens + len(feed) > self.context_size:
                    return None
                llm._ctx.kv_cache_seq_rm(1, -1, -1)
                llm._ctx.kv_cache_seq_cp(0, 1, 0, start)
                total = 0.0
                for offset in range(0, len(feed), PROMPT_BATCH):
                    if cancel.is_set():
                        return None
                    chunk = feed[offset : offset + PROMPT_BATCH]
                    self._decode_branch(chunk, start + offset)
                    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(chunk), n_vocab))
                    for row in range(len(chunk)):
                        predicted = start + offset + row + 1  # logits at a position predict the next token
                        if predicted >= first_scored:
                            total += _logprob(logits[row], sequence[predicted])
                scores.append(total)
        finally:
            llm._ctx.kv_cache_seq_rm(1, -1, -1)
        return scores

    def _decode_branch(self, tokens: list[int], position: int) -> None:
        batch = self._branch_batch.batch
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = position + i
            batch.seq_id[i][0] = 1
            batch.n_seq_id[i] = 1
            batch.logits[i] = True
        self._llm._ctx.decode(self._branch_batch)

    def _piece(self, token: int) -> str:
        return self._llm.detokenize([token]).decode("utf-8", errors="replace")

    def close(self) -> None:
        self._llm.close()


def _char_offsets(text: str) -> list[int]:
    """Character offset of every UTF-8 byte offset of `text` (a byte inside a character maps to that character)."""
    offsets: list[int] = []
    for index, char in enumerate(text):
        offsets.extend([index] * len(char.encode("utf-8")))
    offsets.append(len(text))
    return offsets


def _logprob(logits, token: int) -> float:
    """log softmax(logits)[token], computed stably."""
    import numpy as np

    peak = float(logits.max())
    return float(logits[token]) - peak - math.log(float(np.exp(logits - peak).sum()))


class _HealingIndex:
    """The vocabulary's token texts, sorted, to find the tokens that can begin a required text.

    A token fits when its text starts with the required text (it completes it)
    or is a prefix of it (the rest comes with the next tokens).
    """

    def __init__(self, llm, is_end) -> None:
        import ctypes

        import llama_cpp

        vocab = llm._model.vocab
        buffer = ctypes.create_string_buffer(256)
        pieces = []
        for token in range(llm.n_vocab()):
            if is_end(token):
                continue
            size = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, False)
            if size > 0:  # control tokens have no text and never fit
                pieces.append((buffer.raw[:size], token))
        pieces.sort()
        self._texts = [p for p, _ in pieces]
        self._ids = [t for _, t in pieces]
        self._by_text: dict[bytes, list[int]] = {}
        for piece, token in pieces:
            self._by_text.setdefault(piece, []).append(token)
        self._cache: dict[tuple[bytes, bool], list[int]] = {}

    def candidates(self, required: bytes, past: bool = False) -> list[int]:
        """Tokens that fit the required text; with `past`, only those that spell all of it and more."""
        found = self._cache.get((required, past))
        if found is None:
            found = []
            start = bisect.bisect_left(self._texts, required)
            for index in range(start, len(self._texts)):
                text = self._texts[index]
                if not text.startswith(required):
                    break
                if not past or len(text) > len(required):
                    found.append(self._ids[index])
            if not past:
                for size in range(1, len(required)):
                    found.extend(self._by_text.get(required[:size], ()))
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[(required, past)] = found
        return found

    def ranked_start(self, logits, required: bytes, rank: int = 0, past: bool = False) -> int | None:
        """The token in place `rank` (0: the most likely) among those that fit the required text (`past`: and go on after it), or None."""
        candidates = self.candidates(required, past)
        if not candidates:
            return None
        scores = logits[candidates]
        if rank == 0:
            return candidates[int(scores.argmax())]
        order = scores.argsort()[::-1]
        return candidates[int(order[min(rank, len(order) - 1)])]
