"""On a fresh line the model's answers for its best few first tokens are compared, and the one the file reads best with is shown (engine.py: _best_candidate)."""

from __future__ import annotations

import math
import threading

from test_rejected_answers import REQUEST, ChoosingBackend
from test_rejected_answers import suggest as suggest_with

from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.models.backend import render_prompt


class ScoringBackend(ChoosingBackend):
    """A steerable model that also scores continuations: by a table of words they contain."""

    def __init__(self, by_choice: list[str], liked: dict[str, float], confidence: float | None = None) -> None:
        super().__init__(by_choice)
        self.liked = liked
        self.scored: list[tuple[str, list[str]]] = []
        # How sure it is of every answer (None: it does not say).
        self.confidence = confidence

    def generate(self, request):
        result = super().generate(request)
        if self.confidence is not None and result.text:
            result.token_logprobs = [(len(result.text), math.log(self.confidence))]
        return result

    def score_continuations(self, head, pairs, cancel: threading.Event):
        self.scored.append((render_prompt(head), list(pairs)))
        if cancel.is_set():
            return None
        return [sum(weight for word, weight in self.liked.items() if word in read + scored) for read, scored in pairs]


async def suggest(backend, request: CompletionRequest = REQUEST, **completion) -> str | None:
    """The suggestion with three answers compared, whatever the model's confidence."""
    return await suggest_with(backend, request, **{"min_confidence": 0.0, "compare_candidates": 3, **completion})


async def test_on_a_fresh_line_the_answer_the_lines_below_read_best_with_is_shown():
    backend = ScoringBackend(["    y = y", "    y = y * 2", "    z = 0"], liked={"y * 2": 5.0, "z = 0": 1.0})
    assert await suggest(backend) == "    y = y * 2"
    assert backend.choices == [None, 1, 2]
    head, pairs = backend.scored[0]
    # The lines below are read on from the end of the prefix, through each answer.
    assert head.endswith("    y = x + 1\n") and "<fim_suffix>" not in head
    assert pairs == [(answer, "\n    return y\n") for answer in ("    y = y", "    y = y * 2", "    z = 0")]


async def test_the_best_answer_stays_when_the_others_read_no_better():
    backend = ScoringBackend(["    y = y * 2", "    z = 0", "    w = 1"], liked={})
    assert await suggest(backend) == "    y = y * 2"


async def test_answers_that_are_rejected_or_repeated_are_not_candidates():
    # The second choice breaks the code, the third repeats the first.
    backend = ScoringBackend(["    y = y * 2", "    y = y *", "    y = y * 2"], liked={"y *\n": 9.0})
    assert await suggest(backend) == "    y = y * 2"
    assert backend.scored == []  # one candidate left: nothing to compare


async def test_with_text_typed_on_the_line_only_the_best_answer_is_written():
    typed = CompletionRequest(text=REQUEST.text[: REQUEST.offset] + "    y" + REQUEST.text[REQUEST.offset :], offset=REQUEST.offset + 5, language="python", path="/work/scale.py", document_key="k")
    backend = ScoringBackend([" = y * 2", " = 0"], liked={"= 0": 9.0})
    assert (await suggest(backend, typed)).endswith("= y * 2")
    assert backend.choices == [None]


async def test_an_answer_the_model_is_sure_of_is_shown_at_once():
    sure = ScoringBackend(["    y = y", "    y = y * 2"], liked={"y * 2": 5.0}, confidence=0.95)
    assert await suggest(sure) == "    y = y"
    assert sure.choices == [None]
    unsure = ScoringBackend(["    y = y", "    y = y * 2"], liked={"y * 2": 5.0}, confidence=0.6)
    assert await suggest(unsure) == "    y = y * 2"
    always = ScoringBackend(["    y = y", "    y = y * 2"], liked={"y * 2": 5.0}, confidence=0.95)
    assert await suggest(always, compare_below_confidence=1.0) == "    y = y * 2"


async def test_comparing_can_be_turned_off():
    backend = ScoringBackend(["    y = y", "    y = y * 2"], liked={"y * 2": 5.0})
    assert await suggest(backend, compare_candidates=1) == "    y = y"
    assert backend.choices == [None]


async def test_a_backend_that_cannot_score_shows_its_best_answer():
    backend = ChoosingBackend(["    y = y", "    y = y * 2"])
    assert await suggest(backend) == "    y = y"


async def test_after_a_rejected_first_answer_the_next_choices_are_compared_too():
    backend = ScoringBackend(["    y = y", "    y = y * 2", "    z = 0"], liked={"y * 2": 5.0})
    backend.ends_at_once = True  # sampled as usual the model ends at once: nothing on a fresh line
    assert await suggest(backend) == "    y = y * 2"
    assert backend.choices == [None, 0, 1, 2]
