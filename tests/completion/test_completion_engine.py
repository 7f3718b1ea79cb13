"""The completion engine's latency behaviour on a scripted model, in-process.

Each test scripts what the "model" says and when: a held generation cannot
finish until the test releases it (or it is cancelled), so every ordering
below is fixed by the test, not by the machine's speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from fakes import Reply, Script, ScriptedBackend, ScriptedRegistry, eventually, settings_with, wait_event

from tandem_lsp.completion import engine as engine_module
from tandem_lsp.completion.debounce import AdaptiveDebounce
from tandem_lsp.completion.engine import CompletionEngine
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.context.retrieve import ContextSnippet

SOURCE = "def multiply(a, b):\n    return "


def at_end(text: str) -> CompletionRequest:
    return CompletionRequest(text=text, offset=len(text), language="python", path="/work/calc.py", document_key="file:///work/calc.py")


@pytest.fixture
def make_engine():
    """make(*replies, **completion settings) -> (engine, backend); prefetch is off unless asked for."""
    made: list[tuple[CompletionEngine, ScriptedBackend, ScriptedRegistry]] = []

    def make(*replies: Reply, **completion) -> tuple[CompletionEngine, ScriptedBackend]:
        backend = ScriptedBackend(Script(replies=list(replies)))
        settings = settings_with(**{"prefetch": False, "max_time_ms": 600_000, **completion})
        registry = ScriptedRegistry(settings, general=backend)
        engine = CompletionEngine(registry, lambda: settings.completion)
        made.append((engine, backend, registry))
        return engine, backend

    yield make
    for engine, backend, registry in made:
        engine.cancel_all()
        backend.release.set()
        registry.close()


async def started(backend: ScriptedBackend, index: int):
    return await asyncio.to_thread(backend.generation, index)


async def let_tasks_run() -> None:
    """Let every task that is ready run up to its next wait (no time passes for the model)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_cancelled_request_stops_its_generation(make_engine):
    # Endless output, held after the first token: only a cancel can end this generation.
    engine, backend = make_engine(Reply(["1", ", "], endless=True, hold_after=1))
    request = asyncio.ensure_future(engine.complete(at_end(SOURCE)))
    generation = await started(backend, 1)
    await wait_event(generation.held)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    # After the orphan grace period nobody joined: decoding stops.
    await wait_event(generation.finished)
    assert generation.cancelled and generation.tokens == 1
    await eventually(lambda: engine.stats.cancelled_generations == 1)
    assert engine.stats.model_calls == 1


async def test_a_newer_keystroke_supersedes_the_running_generation(make_engine):
    engine, backend = make_engine(Reply([" * 2"], when="return 'x'"), Reply(["1", ", "], endless=True, hold_after=1))
    older = asyncio.ensure_future(engine.complete(at_end(SOURCE)))
    first = await started(backend, 1)
    await wait_event(first.held)
    # The user typed text the running suggestion ("1") cannot match.
    newer = await engine.complete(at_end(SOURCE + "'x'"))
    assert await older is None
    assert first.cancelled
    assert newer is not None and newer.source == "model" and newer.text == " * 2"
    assert engine.stats.model_calls == 2 and engine.stats.cancelled_generations == 1


async def test_a_keystroke_that_matches_the_running_output_joins_it(make_engine):
    engine, backend = make_engine(Reply(["a", " *", " b"], hold_after=1))
    older = asyncio.ensure_future(engine.complete(at_end(SOURCE)))
    generation = await started(backend, 1)
    await wait_event(generation.held)  # "a" has been produced
    newer = asyncio.ensure_future(engine.complete(at_end(SOURCE + "a")))
    await let_tasks_run()
    backend.release.set()
    joined, first = await newer, await older
    assert (first.text, first.source) == ("a * b", "model")
    assert (joined.text, joined.source) == (" * b", "inflight")
    assert engine.stats.model_calls == 1 and len(backend.generations) == 1


async def test_a_join_whose_output_then_contradicts_the_typed_text_stops_it_and_starts_afresh(make_engine):
    # Joined while the model had produced nothing; its first token ("a") loses the bet on "x".
    engine, backend = make_engine(Reply([" + 1"], when="return x"), Reply(["a", " * b"], hold_after=0, stall_after=1))
    older = asyncio.ensure_future(engine.complete(at_end(SOURCE)))
    first = await started(backend, 1)
    await wait_event(first.held)
    newer = asyncio.ensure_future(engine.complete(at_end(SOURCE + "x")))
    await let_tasks_run()
    backend.release.set()
    suggestion = await newer
    assert first.cancelled and first.text == "a"
    assert suggestion is not None and (suggestion.text, suggestion.source) == (" + 1", "model")
    assert await older is None
    assert engine.stats.model_calls == 2


async def test_within_the_orphan_grace_period_the_next_keystroke_joins_a_cancelled_request(make_engine, monkeypatch):
    monkeypatch.setattr(engine_module, "ORPHAN_GRACE_S", 60.0)
    engine, backend = make_engine(Reply(["a", " *", " b"], hold_after=1))
    older = asyncio.ensure_future(engine.complete(at_end(SOURCE)))
    generation = await started(backend, 1)
    await wait_event(generation.held)
    older.cancel()  # the editor cancels the request when the next key is typed...
    with pytest.raises(asyncio.CancelledError):
        await older
    newer = asyncio.ensure_future(engine.complete(at_end(SOURCE + "a")))  # ...and asks again
    await let_tasks_run()
    assert not generation.finished.is_set(), "the orphaned generation is kept for the grace period"
    backend.release.set()
    joined = await newer
    assert (joined.text, joined.source) == (" * b", "inflight")
    assert not generation.cancelled
    assert engine.stats.model_calls == 1 and engine.stats.cancelled_generations == 0


async def test_the_same_position_and_typing_through_a_suggestion_are_answered_from_the_cache(make_engine):
    engine, backend = make_engine(Reply(["a", " *", " b"]))
    first = await engine.complete(at_end(SOURCE))
    assert (first.text, first.source) == ("a * b", "model")
    again = await engine.complete(at_end(SOURCE))
    assert (again.text, again.source) == ("a * b", "cache")
    for typed, rest in (("a", " * b"), ("a *", " b")):
        suggestion = await engine.complete(at_end(SOURCE + typed))
        assert (suggestion.text, suggestion.source) == (rest, "cache")
    assert engine.stats.model_calls == 1 and len(backend.generations) == 1
    assert engine.stats.sources["cache"] == 3


async def test_typing_something_else_than_the_suggestion_asks_the_model_again(make_engine):
    engine, backend = make_engine(Reply(["a", " * b"]))
    await engine.complete(at_end(SOURCE))
    await engine.complete(at_end(SOURCE + "b"))
    assert engine.stats.model_calls == 2
    assert "return b" in backend.generations[1].prompt


async def test_the_next_suggestion_is_prefetched_as_if_the_shown_one_were_accepted(make_engine):
    engine, backend = make_engine(Reply([" + 1"], when="return a * b"), Reply(["a", " *", " b"]), prefetch=True)
    shown = await engine.complete(at_end(SOURCE))
    assert shown.text == "a * b"
    prefetch = await started(backend, 2)
    assert "return a * b" in prefetch.prompt
    await eventually(lambda: engine.stats.model_calls == 2)
    # The user accepts the suggestion: the answer at the new position needs no model call.
    after = await engine.complete(at_end(SOURCE + shown.text))
    assert (after.text, after.source) == (" + 1", "cache")
    assert engine.stats.model_calls == 2 and len(backend.generations) == 2


async def test_accepting_while_the_prefetch_still_runs_joins_it(make_engine):
    engine, backend = make_engine(Reply([" + 1"], when="return a * b", hold_after=0), Reply(["a", " *", " b"]), prefetch=True)
    shown = await engine.complete(at_end(SOURCE))
    prefetch = await started(backend, 2)
    await wait_event(prefetch.held)
    after = asyncio.ensure_future(engine.complete(at_end(SOURCE + shown.text)))
    await let_tasks_run()
    backend.release.set()
    suggestion = await after
    assert (suggestion.text, suggestion.source) == (" + 1", "inflight")
    assert len(backend.generations) == 2


async def test_no_prefetch_when_it_is_switched_off(make_engine):
    engine, backend = make_engine(Reply(["a", " *", " b"]), prefetch=False)
    await engine.complete(at_end(SOURCE))
    await let_tasks_run()
    assert len(backend.generations) == 1


async def test_a_burst_of_keystrokes_costs_one_generation(make_engine):
    # Ten keystrokes arrive before the first debounce wait is over: only the last one asks the model.
    engine, backend = make_engine(Reply(["a"]), debounce_min_ms=20, debounce_max_ms=150)
    word = "total_sum"
    requests = [asyncio.ensure_future(engine.complete(at_end(SOURCE + word[:n]))) for n in range(1, len(word) + 1)]
    answers = await asyncio.gather(*requests)
    assert answers[:-1] == [None] * (len(word) - 1)
    assert answers[-1] is not None and answers[-1].source == "model"
    assert len(backend.generations) == 1 and "total_sum" in backend.generations[0].prompt
    assert engine.stats.model_calls == 1


def test_debounce_waits_a_little_longer_than_the_typing_rhythm_within_bounds():
    debounce = AdaptiveDebounce()
    assert debounce.delay_s(0, 150) == 0  # nothing known about the typist yet
    for step in range(5):
        debounce.note_keystroke(now=step * 0.1)  # 10 keys a second
    assert debounce.delay_s(0, 150) == pytest.approx(0.13)
    assert debounce.delay_s(0, 100) == pytest.approx(0.1)  # capped
    slow = AdaptiveDebounce()
    for step in range(5):
        slow.note_keystroke(now=step * 0.5)
    assert slow.delay_s(10, 150) == pytest.approx(0.01), "waiting for a slow typist only adds latency"
    paused = AdaptiveDebounce()
    paused.note_keystroke(now=0.0)
    paused.note_keystroke(now=5.0)  # a pause is not typing rhythm
    assert paused.delay_s(0, 150) == 0


async def test_a_model_error_is_reported_and_answers_nothing(make_engine):
    from tandem_lsp.models.backend import ModelError

    class Broken(ScriptedBackend):
        def generate(self, request):
            raise ModelError("the model file is damaged")

    errors: list[str] = []
    settings = settings_with(prefetch=False)
    registry = ScriptedRegistry(settings, general=Broken())
    engine = CompletionEngine(registry, lambda: settings.completion, on_error=errors.append)
    try:
        assert await engine.complete(at_end(SOURCE)) is None
    finally:
        registry.close()
    assert errors == ["the model file is damaged"]


async def test_after_enter_the_prompt_only_grows_at_its_end(make_engine):
    # What llama.cpp must evaluate again is what changed after the shared start: after
    # Enter, the finished line and the indentation, not the suffix (prompt.py, PromptLayout).
    engine, backend = make_engine(Reply(["a * b"]), Reply(["result"]), cache=False)
    below = "\n\nprint(multiply(2, 3))\n"
    typed = "def multiply(a, b):\n    product = a * b"
    await engine.complete(CompletionRequest(text=typed + below, offset=len(typed), language="python", document_key="k"))
    entered = typed + "\n    "
    await engine.complete(CompletionRequest(text=entered + below, offset=len(entered), language="python", document_key="k"))
    first, second = backend.generations[0].prompt, backend.generations[1].prompt
    assert second.startswith(first)
    assert second[len(first) :] == "\n    "


@dataclass(frozen=True)
class _Context:
    """A workspace index stand-in: one snippet of each kind of cross-file context asked for."""

    version: int = 0

    def snippets(self, request: CompletionRequest, kinds: Sequence[str]) -> list[ContextSnippet]:
        every_kind = [
            ContextSnippet("geometry.py", "def area(w, h):\n    return w * h", "definition", 1.0, 0),
            ContextSnippet("report.py", "total = area(3, 4) + perimeter", "similar", 0.5, 0),
            ContextSnippet("notes.py", "# renamed width to w", "recent", 0.2, 0),
        ]
        return [s for s in every_kind if s.kind in kinds]

    def relative_path(self, path: str) -> str:
        return "calc.py"


@pytest.mark.parametrize("kinds", [["definition", "similar", "recent"], ["definition"], []])
async def test_only_the_chosen_kinds_of_cross_file_context_reach_the_prompt(make_engine, kinds):
    engine, backend = make_engine(Reply(["a * b"]), context_kinds=kinds, cache=False)
    engine.context = _Context()
    await engine.complete(at_end(SOURCE))
    prompt = backend.generation(1).prompt
    assert ("def area(w, h):" in prompt) == ("definition" in kinds)
    assert ("total = area(3, 4)" in prompt) == ("similar" in kinds)
    assert ("# renamed width to w" in prompt) == ("recent" in kinds)
    assert "def multiply(a, b):" in prompt  # the current file is there whatever the context


def in_javascript(document: str) -> CompletionRequest:
    text, offset = document.replace("█", ""), document.index("█")
    return CompletionRequest(text=text, offset=offset, language="javascript", path="/work/app.js", document_key="file:///work/app.js")


async def test_auto_closed_brackets_are_left_out_of_the_prompt_and_replaced_by_a_suggestion_that_closes_them(make_engine):
    engine, backend = make_engine(Reply(["this.a, this.b", ");"]))
    suggestion = await engine.complete(in_javascript("function f() {\n  this.debug(█)\n}\n"))
    assert (suggestion.text, suggestion.replaces) == ("this.a, this.b);", ")")
    assert "this.debug()" not in backend.generations[0].prompt
    # Typing through it is answered from the cache, still over the closer.
    typed = await engine.complete(in_javascript("function f() {\n  this.debug(this.█)\n}\n"))
    assert (typed.text, typed.replaces, typed.source) == ("a, this.b);", ")", "cache")


async def test_a_suggestion_that_leaves_the_auto_closed_bracket_to_the_editor_goes_before_it(make_engine):
    engine, _ = make_engine(Reply(["this.a, this.b"]))
    suggestion = await engine.complete(in_javascript("function f() {\n  this.debug(█)\n}\n"))
    assert (suggestion.text, suggestion.replaces) == ("this.a, this.b", "")
