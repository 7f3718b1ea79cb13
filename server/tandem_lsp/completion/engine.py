"""The completion engine: from a cursor to a suggestion, as fast as possible.

In order of cost, a request is answered
1. from the cache (exact position, or the rest of a suggestion the user is typing through),
2. by joining the generation already running when the new text is consistent with it,
3. by a new generation, after an adaptive debounce, that cancels anything stale.
After a suggestion is shown, the next one is computed speculatively as if it had
been accepted. One generation runs at a time (one model worker); a request
cancelled by the client leaves its generation running for a short grace period
so that the next keystroke can join it, then it is stopped.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol, Sequence

from tandem_lsp.completion.auto_closed import closed_by, without_auto_closed
from tandem_lsp.completion.cache import CompletionCache, CursorKey
from tandem_lsp.completion.debounce import AdaptiveDebounce
from tandem_lsp.completion.filters import cut_for_its_request, fit_to_request, reached_end
from tandem_lsp.completion.prompt import PREFIX_LINE_STRIDE, BuiltPrompt, PromptBudget, PromptLayout, Snippet, TokenCounter, build_prompt
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.stats import CompletionStats
from tandem_lsp.completion.rejected import WORTH_SHOWING_ANYWAY, indentation_to_keep, judged, why_rejected
from tandem_lsp.config import CompletionSettings
from tandem_lsp.models.backend import GenerationRequest, GenerationResult, ModelBackend, ModelError
from tandem_lsp.models.registry import ModelRegistry

log = logging.getLogger(__name__)

# How long a generation whose request was cancelled keeps running, waiting for
# the next keystroke to join it (a little more than the gap between keys).
ORPHAN_GRACE_S = 0.25
# How often a request that joined a running generation checks that the output
# still agrees with what the user typed (it stops the generation once it does not).
JOIN_CHECK_S = 0.02
# Tokens kept free in the context window beyond the prompt and the answer.
CONTEXT_MARGIN = 16
# Cross-file context is kept while the cursor stays within this many lines
# (aligned like the prefix window): it sits at the start of the prompt, so
# changing it would throw away the whole KV cache.
CONTEXT_REGION_LINES = PREFIX_LINE_STRIDE
# Documents whose last prompt layout is remembered (the ones being edited).
MAX_KEPT_LAYOUTS = 32
# Candidates are compared on the file read on through them into this many lines
# (the rest of the cursor's line and the three below it).
COMPARED_LINES = 4


def without_unfinished_line(text: str) -> str:
    """Output cut off by a limit, without the line it was in the middle of.

    Half a second line is most often wrong; a lone unfinished first line stays
    (it is the start of the line the user is writing, and typing through it works).
    """
    newline = text.rfind("\n")
    return text[:newline] if newline >= 0 else text


def _token_spans(result: GenerationResult) -> list[tuple[int, int, float]]:
    """(start, end, logprob) of each generated token, in characters of the output."""
    spans = []
    start = 0
    for end, logprob in result.token_logprobs:
        spans.append((start, end, logprob))
        start = end
    return spans


def line_confidences(result: GenerationResult, skipped: int, shown: str) -> list[float | None]:
    """Per line of the suggestion, the mean token probability (geometric) the model wrote it with.

    `skipped` characters at the start of the output are the healed text the user
    already typed. None for a line no token covers (a blank line) or when the
    backend reports no probabilities.
    """
    if not result.token_logprobs:
        return []
    tokens = _token_spans(result)
    confidences: list[float | None] = []
    position = skipped
    for line in shown.split("\n"):
        span_end = position + len(line)
        logprobs = [lp for first, last, lp in tokens if last > position and first < span_end] if line.strip() else []
        confidences.append(math.exp(sum(logprobs) / len(logprobs)) if logprobs else None)
        position = span_end + 1
    return confidences


def written_logprob(result: GenerationResult, skipped: int, shown: str) -> float:
    """The log-probability the model wrote the suggestion `shown` with (its tokens after `skipped` characters)."""
    end = skipped + len(shown)
    return sum(lp for first, last, lp in _token_spans(result) if last > skipped and first < end)


def until_unsure_line(text: str, confidences: list[float | None], threshold: float) -> str:
    """A multi-line suggestion up to the first later line the model wrote with less than `threshold` confidence.

    After the line the user asked for, a small model often goes on guessing;
    those lines are shown only while it is sure of them.
    """
    if threshold <= 0 or len(confidences) < 2:
        return text
    lines = text.split("\n")
    for number in range(1, min(len(lines), len(confidences))):
        confidence = confidences[number]
        if confidence is not None and confidence < threshold:
            return "\n".join(lines[:number])
    return text


def suggestion_confidence(confidences: list[float | None]) -> float | None:
    """How sure the model was of a suggestion: the confidence of its first written line."""
    return next((c for c in confidences if c is not None), None)


class ContextProvider(Protocol):
    """Cross-file context for a completion (the workspace index implements this)."""

    def snippets(self, request: CompletionRequest, kinds: Sequence[str]) -> Sequence[Snippet]: ...

    def relative_path(self, path: str) -> str: ...

    # Changes whenever the indexed files change (a saved edit, a deleted file).
    version: int


@dataclass
class Suggestion:
    text: str
    id: str
    source: str  # "model", "cache" or "inflight"
    # The text right after the cursor that accepting replaces (the editor's auto-closed brackets; auto_closed.py).
    replaces: str = ""


@dataclass
class _Job:
    request: CompletionRequest
    key: CursorKey
    cancel: threading.Event
    speculative: bool
    partial: list[str] = field(default_factory=list)
    waiters: int = 0
    task: asyncio.Task | None = None
    # Maps raw model output to text after the cursor (set once the prompt is built).
    align: Callable[[str], str] = lambda text: text
    # Whether the model can be told how to begin (token healing, its next choices), read on the worker.
    steerable: bool = False

    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def output_so_far(self) -> str:
        return self.align("".join(self.partial))


class CompletionEngine:
    def __init__(
        self,
        registry: ModelRegistry,
        settings: Callable[[], CompletionSettings],
        context: ContextProvider | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._registry = registry
        self._settings = settings
        self.context = context
        self._on_error = on_error
        self._cache = CompletionCache()
        self._debounce = AdaptiveDebounce()
        self._counters: dict[int, TokenCounter] = {}
        self._current: _Job | None = None
        self._sequence = 0
        self._context_key: tuple | None = None
        self._context_snippets: Sequence[Snippet] = ()
        # Per document, the layout of its last prompt (read and written on the model worker only).
        self._layouts: dict[str, PromptLayout] = {}
        self._ids = itertools.count(1)
        self.stats = CompletionStats()
        # The last prompt of a user's request, as text (for tests and `tandem/lastPrompt`).
        self.last_prompt = ""
        self.last_generation: GenerationResult | None = None
        # How sure the model was of the last suggestion it generated for a user's request (None: unknown).
        self.last_confidence: float | None = None
        self.last_line_confidences: list[float | None] = []

    # -- public ---------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> Suggestion | None:
        settings = self._settings()
        self.stats.requests += 1
        if not settings.enabled or request.language in settings.disabled_languages:
            return None
        started = time.perf_counter()
        request, closers = without_auto_closed(request)
        self._debounce.note_keystroke()
        self._sequence += 1
        sequence = self._sequence
        key = CursorKey.of(request.text, request.offset)

        if settings.cache:
            cached = self._cache.lookup(key, request.text)
            if cached is not None:
                return self._answer(request, cached, "cache", started, closers)
            job = self._current
            if job is not None and job.running() and self._can_join(job, key, request.text):
                raw = await self._wait_while_consistent(job, key, request.text, sequence)
                typed = key.typed_since(job.key, request.text) or ""
                if raw is not None and raw.startswith(typed):
                    return self._answer(request, raw[len(typed) :], "inflight", started, closers)
                if sequence != self._sequence:
                    return None

        if self._current is not None and self._current.running():
            self._current.cancel.set()
        delay = self._debounce.delay_s(settings.debounce_min_ms, settings.debounce_max_ms)
        if delay:
            await asyncio.sleep(delay)
        if sequence != self._sequence:
            return None  # a newer keystroke has arrived
        job = self._start(request, key, settings, speculative=False)
        raw = await self._wait(job)
        if raw is None:
            return None
        suggestion = self._answer(request, raw, "model", started, closers)
        if suggestion is not None and settings.prefetch and settings.cache:
            self._prefetch(request, suggestion.text, settings)
        return suggestion

    def accepted(self) -> None:
        self.stats.accepted += 1

    def clear_cache(self) -> None:
        self._cache.clear()

    def cancel_all(self) -> None:
        if self._current is not None:
            self._current.cancel.set()

    # -- answering ------------------------------------------------------------

    def _answer(self, request: CompletionRequest, raw: str, source: str, started: float, closers: str) -> Suggestion | None:
        """A cached, joined or new text as a suggestion for this request (filters/: fit_to_request).

        `request` is without the auto-closed `closers` after the cursor: the text replaces those it closes itself.
        """
        text = fit_to_request(request, raw)
        self.stats.record_answer((time.perf_counter() - started) * 1000, source)
        if not text:
            return None
        self.stats.shown += 1
        return Suggestion(text=text, id=str(next(self._ids)), source=source, replaces=closed_by(request, text, closers))

    def _can_join(self, job: _Job, key: CursorKey, text: str) -> bool:
        typed = key.typed_since(job.key, text)
        if typed is None:
            return False
        produced = job.output_so_far()
        return produced.startswith(typed) or typed.startswith(produced)

    async def _wait(self, job: _Job) -> str | None:
        """Await a job's raw output; a cancelled waiter leaves it running only briefly."""
        assert job.task is not None
        job.waiters += 1
        try:
            return await asyncio.shield(job.task)
        except asyncio.CancelledError:
            if job.waiters == 1 and not job.speculative:
                asyncio.get_running_loop().call_later(ORPHAN_GRACE_S, self._stop_if_orphaned, job)
            raise
        finally:
            job.waiters -= 1

    async def _wait_while_consistent(self, job: _Job, key: CursorKey, text: str, sequence: int) -> str | None:
        """Await a joined job; the newest request stops it once its output contradicts the typed text.

        A join made while the model was still reading the prompt (nothing produced
        yet) is a bet; when the first tokens lose it, waiting for the whole
        generation would keep every older request and the model busy for nothing.
        """
        waiting = asyncio.ensure_future(self._wait(job))
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=JOIN_CHECK_S)
                if done:
                    return waiting.result()
                if sequence == self._sequence and not self._can_join(job, key, text):
                    job.cancel.set()
                    return await waiting
        except asyncio.CancelledError:
            waiting.cancel()
            raise

    @staticmethod
    def _stop_if_orphaned(job: _Job) -> None:
        if job.waiters == 0 and job.running():
            job.cancel.set()

    # -- generating -----------------------------------------------------------

    def _start(self, request: CompletionRequest, key: CursorKey, settings: CompletionSettings, speculative: bool) -> _Job:
        job = _Job(request=request, key=key, cancel=threading.Event(), speculative=speculative)
        job.task = asyncio.get_running_loop().create_task(self._run(job, settings))
        self._current = job
        return job

    async def _cross_file_context(self, request: CompletionRequest, kinds: Sequence[str]) -> tuple[Sequence[Snippet], str]:
        context = self.context
        if context is None or not kinds:
            return (), ""
        kinds = tuple(kinds)
        key = (id(context), getattr(context, "version", 0), request.document_key, request.cursor_line // CONTEXT_REGION_LINES, kinds)
        if key != self._context_key:
            try:
                snippets = await asyncio.get_running_loop().run_in_executor(None, context.snippets, request, kinds)
            except Exception:  # context is a bonus; never fail a completion for it
                log.exception("context retrieval failed")
                return (), ""
            self._context_key, self._context_snippets = key, snippets
        return self._context_snippets, context.relative_path(request.path)

    async def _run(self, job: _Job, settings: CompletionSettings) -> str | None:
        snippets, relative = await self._cross_file_context(job.request, settings.context_kinds)
        try:
            built, result = await self._registry.run("completion", lambda b: self._generate(b, job, snippets, relative, settings), job.cancel)
        except ModelError as exc:
            if self._on_error:
                self._on_error(str(exc))
            return None
        self.stats.record_generation(result.prompt_tokens, result.prompt_tokens_evaluated, result.stop_reason == "cancelled")
        if result.stop_reason == "cancelled":
            return None
        raw = self._shown_text(job.request, built, result)
        log.debug("the model wrote %r (%s), cut to %r", result.text, result.stop_reason, raw)
        rejected = None
        if settings.alternatives and job.steerable:
            raw, rejected = judged(job.request, raw, result.stop_reason)
        next_rank, lead = 1, ""
        if rejected:
            log.debug("first answer %r rejected (%s): trying the next choices", raw, rejected)
            lead = indentation_to_keep(job.request, built.align_output(result.text), rejected)
            # Greedy decoding wrote the best token where the choices branch unless it ended
            # there: the next choice is then the best.
            wrote_more = result.text[len(built.held_back) + len(lead) :].strip() if lead else result.generated_tokens
            # An answer rejected only to look for a better one is still shown when none is.
            fallback = (built, result, raw, 0) if rejected in WORTH_SHOWING_ANYWAY else None
            alternative = await self._alternative(job, snippets, relative, settings, raw, 1 if wrote_more else 0, lead, fallback)
            if alternative is None:
                return None  # cancelled
            built, result, raw, rank = alternative
            next_rank = rank + 1
        if self._compares_candidates(job, settings, built, result, raw):
            best = await self._best_candidate(job, snippets, relative, settings, (built, result, raw), next_rank, lead)
            if best is None:
                return None  # cancelled
            built, result, raw = best
        lines = line_confidences(result, len(built.held_back), raw)
        confidence = suggestion_confidence(lines)
        if not job.speculative:  # what the user asked for, not a prefetch
            self.last_prompt = built.render()
            self.last_generation = result
            self.last_confidence = confidence
            self.last_line_confidences = lines
        if confidence is not None and confidence < settings.min_confidence:
            raw = ""  # unsure: say nothing (and remember that for this position)
        raw = until_unsure_line(raw, lines, settings.min_line_confidence)
        if settings.cache:
            self._cache.put(job.key, raw)
        return raw

    @staticmethod
    def _shown_text(request: CompletionRequest, built: BuiltPrompt, result: GenerationResult) -> str:
        output = built.align_output(result.text)
        if result.stop_reason in ("time", "max_tokens"):
            output = without_unfinished_line(output)
        return cut_for_its_request(request, output)

    async def _choice(
        self, job: _Job, snippets: Sequence[Snippet], relative: str, settings: CompletionSettings, rank: int, lead: str
    ) -> tuple[BuiltPrompt, GenerationResult, str] | None:
        """The answer the model writes from its choice `rank` of first token (after `lead`), as shown; None when cancelled."""
        built, result = await self._registry.run(
            "completion", lambda b: self._generate(b, job, snippets, relative, settings, first_choice=rank, lead=lead), job.cancel
        )
        self.stats.record_generation(result.prompt_tokens, result.prompt_tokens_evaluated, result.stop_reason == "cancelled")
        if result.stop_reason == "cancelled":
            return None
        return built, result, self._shown_text(job.request, built, result)

    async def _alternative(
        self,
        job: _Job,
        snippets: Sequence[Snippet],
        relative: str,
        settings: CompletionSettings,
        first_answer: str,
        first_rank: int,
        lead: str = "",
        fallback: tuple[BuiltPrompt, GenerationResult, str, int] | None = None,
    ) -> tuple[BuiltPrompt, GenerationResult, str, int] | None:
        """The model's next choices of first token, in order, until one is not rejected too (rejected.py).

        With it, the rank of that choice. None when cancelled. When every choice
        is rejected: `fallback`, else the first choice rejected only for a reason
        worth showing anyway, else an empty suggestion (say nothing).
        """
        tried = {first_answer}
        built = result = None
        for rank in range(first_rank, first_rank + settings.alternatives):
            choice = await self._choice(job, snippets, relative, settings, rank, lead)
            if choice is None:
                return None
            built, result, raw = choice
            if raw in tried:
                continue
            tried.add(raw)
            if not raw.strip():
                continue
            raw, why = judged(job.request, raw, result.stop_reason)
            if why is None:
                return built, result, raw, rank
            log.debug("choice %d %r rejected (%s)", rank, raw, why)
            if why in WORTH_SHOWING_ANYWAY and fallback is None:
                fallback = built, result, raw, rank
        return fallback or (built, result, "", rank)

    @staticmethod
    def _compares_candidates(job: _Job, settings: CompletionSettings, built: BuiltPrompt, result: GenerationResult, raw: str) -> bool:
        """Whether to write more answers and show the best: a fresh line the user asked about, a whole first answer the model was not sure of."""
        if not (
            settings.compare_candidates > 1
            and job.steerable
            and not job.speculative
            and built.prefix_head is not None
            and not job.request.line_prefix.strip()
            and result.stop_reason in ("eos", "stop_check")
            and raw.strip()
        ):
            return False
        confidence = suggestion_confidence(line_confidences(result, len(built.held_back), raw))
        return confidence is None or confidence < settings.compare_below_confidence

    async def _best_candidate(
        self,
        job: _Job,
        snippets: Sequence[Snippet],
        relative: str,
        settings: CompletionSettings,
        first: tuple[BuiltPrompt, GenerationResult, str],
        next_rank: int = 1,
        lead: str = "",
    ) -> tuple[BuiltPrompt, GenerationResult, str] | None:
        """Among the model's answers for its best few first tokens, the one the file reads most likely with.

        Greedy decoding commits to the first token the model likes best, and a
        small model's line often reads well on its own but not with the code
        below it. A candidate's score is the log-probability the model wrote it
        with (fill-in-the-middle) plus that of the next lines of the file read
        on after it, left to right, from the end of the prompt's prefix: the
        code below judges the candidate. Chosen among other scores on programs
        with tests (benchmarks/infill.py, fresh-line situations a, b, c, f: the
        file's likelihood through the candidate as well lost on blocks, the
        code below alone lost on single lines).
        `first` is what would be shown without comparing (the best answer, or
        the first choice not rejected); the others are the choices from
        `next_rank` on, begun with `lead` like it. None when cancelled.
        """
        candidates = [first]
        for rank in range(next_rank, next_rank + settings.compare_candidates - 1):
            choice = await self._choice(job, snippets, relative, settings, rank, lead)
            if choice is None:
                return None
            built, result, raw = choice
            if not raw.strip() or any(raw == other for _, _, other in candidates) or why_rejected(job.request, raw, result.stop_reason):
                continue
            candidates.append((built, result, raw))
        if len(candidates) == 1:
            return first
        request = job.request
        below = "\n".join(request.text[request.offset :].split("\n", COMPARED_LINES)[:COMPARED_LINES])
        head, after_prefix = first[0].prefix_head, first[0].after_prefix
        pairs = [(after_prefix + raw, below) for _, _, raw in candidates]

        def read_on(backend: ModelBackend) -> list[float] | None:
            score_continuations = getattr(backend, "score_continuations", None)
            return score_continuations(head, pairs, job.cancel) if score_continuations else None

        below_scores = await self._registry.run("completion", read_on, job.cancel)
        if job.cancel.is_set():
            return None
        if not below_scores:
            return first
        scores = [written_logprob(result, len(built.held_back), raw) + after for (built, result, raw), after in zip(candidates, below_scores)]
        best = max(range(len(candidates)), key=scores.__getitem__)
        log.debug("candidates %s scored %s: showing %r", [raw for _, _, raw in candidates], [round(s, 2) for s in scores], candidates[best][2])
        return candidates[best]

    def _generate(
        self,
        backend: ModelBackend,
        job: _Job,
        snippets: Sequence[Snippet],
        relative: str,
        settings: CompletionSettings,
        first_choice: int | None = None,
        lead: str = "",
    ) -> tuple[BuiltPrompt, GenerationResult]:
        """On the model worker: assemble the prompt with the model's tokenizer and generate."""
        counter = self._counters.get(id(backend))
        if counter is None:
            counter = self._counters[id(backend)] = TokenCounter(backend.count_tokens)
        room = backend.context_size - settings.max_tokens - CONTEXT_MARGIN
        window = max(min(settings.prompt_tokens, room), 32)
        # The current file comes first; context gets what the model's window has left.
        context = max(min(settings.context_tokens, room - window), 0)
        budget = PromptBudget(window=window, context=context, suffix_share=settings.suffix_share)
        job.steerable = getattr(backend, "constrains_start", False)
        heal = backend.last_token_text if job.steerable else None
        document = job.request.document_key
        built = build_prompt(backend.fim, job.request, budget, counter, snippets, relative, last_token=heal, keep=self._layouts.get(document))
        if not job.speculative and built.layout is not None:
            # The next request in this document keeps it while the user writes on below (prompt.py).
            self._layouts.pop(document, None)
            self._layouts[document] = built.layout
            while len(self._layouts) > MAX_KEPT_LAYOUTS:
                self._layouts.pop(next(iter(self._layouts)))
        job.align = built.align_output
        request = job.request
        generation = GenerationRequest(
            prompt=built.pieces,
            max_tokens=settings.max_tokens,
            max_time_s=settings.max_time_ms / 1000,
            stop_check=lambda text: reached_end(request, built.align_output(text)),
            on_text=job.partial.append,
            cancel=job.cancel,
            reuse_cache=settings.reuse_kv_cache,
            required_start=built.required_start + lead,
            first_choice=first_choice,
        )
        job.partial.clear()  # an alternative starts its output afresh
        return built, backend.generate(generation)

    def _prefetch(self, request: CompletionRequest, suggestion: str, settings: CompletionSettings) -> None:
        """Compute the next suggestion as if this one were accepted, while the user reads."""
        if self._current is not None and self._current.running():
            return
        text = request.text[: request.offset] + suggestion + request.text[request.offset :]
        accepted = replace(request, text=text, offset=request.offset + len(suggestion))
        key = CursorKey.of(accepted.text, accepted.offset)
        if self._cache.lookup(key, accepted.text) is not None:
            return
        self._start(accepted, key, settings, speculative=True)
