"""Review and explain with the real embedded model (SmolLM2-135M).

The tiny model's judgement is poor; these tests pin what the task guarantees
whatever the model says: findings sit on existing lines inside the reviewed
scope, replacements parse, cancellation is prompt.
"""

import asyncio
import threading

import pytest
from review_samples import BUGGY, LINES

from tandem_lsp.config import Settings
from tandem_lsp.models.embedded import default_model_path
from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.tasks.chat import TaskCancelled
from tandem_lsp.code_checks import edit_parses
from tandem_lsp.tasks.explain import explain
from tandem_lsp.tasks.review import review

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(default_model_path() is None, reason="embedded model not installed"),
]



@pytest.fixture(scope="module")
def registry():
    settings = Settings().merged({"review": {"maxTokens": 160}, "completionModel": {"threads": 1}})
    registry = ModelRegistry(settings)
    yield registry
    registry.close()


def _assert_valid(findings, scope):
    for finding in findings:
        assert scope[0] <= finding.start_line <= finding.end_line <= scope[1]
        assert finding.severity in {"error", "warning", "info", "hint"}
        assert finding.message.strip()
        if finding.replacement is not None:
            assert "<think>" not in finding.replacement
            assert edit_parses(BUGGY, "python", finding.start_line, finding.end_line, finding.replacement)


async def test_file_review_yields_only_findings_on_existing_lines(registry):
    result = await review(registry, BUGGY, "/tmp/stats.py", "python")
    assert result.scope == (0, len(LINES) - 1)
    assert result.models["review"].startswith("SmolLM2")
    _assert_valid(result.findings, result.scope)
    assert len(result.findings) <= registry.settings.review.max_findings


async def test_cursor_review_covers_the_enclosing_function(registry):
    result = await review(registry, BUGGY, "/tmp/stats.py", "python", selection=(13, 13), deep=True)
    assert result.scope == (10, 15)
    _assert_valid(result.findings, result.scope)
    # Deep review always runs the chat verifier (here the same small model, as a cheap pass) unless the chat draft
    # is empty; findings of the likelihood pass were weighed by the verifying model already and carry their fix.
    chat_findings = [f for f in result.findings if f.status != "likely"]
    assert result.verified or not chat_findings
    assert all(f.replacement for f in result.findings if f.status == "likely")


async def test_explain_returns_text_for_the_range(registry):
    result = await explain(registry, BUGGY, "/tmp/stats.py", "python", selection=(3, 7))
    assert result.scope == (3, 7)
    assert result.text.strip()
    assert "<think>" not in result.text


async def test_cancel_event_stops_a_review_at_the_next_token(registry):
    cancel = threading.Event()
    counts: list[int] = []

    def progress(stage, pieces):
        # Cancel as soon as the model is generating (from the worker thread); the
        # review's JSON grammar makes any model write at least its "{".
        counts.append(pieces)
        cancel.set()

    with pytest.raises(TaskCancelled):
        await review(registry, BUGGY + "\n# cancel me (event)\n", "/tmp/stats.py", "python", cancel=cancel, progress=progress)
    # Decoding stopped at the next token, not at the review's token limit.
    assert counts and max(counts) <= 2


async def test_cancelling_the_task_stops_decoding_and_frees_the_model_worker(registry):
    loop = asyncio.get_running_loop()
    generating = asyncio.Event()
    cancel = threading.Event()
    counts: list[int] = []

    def progress(stage, pieces):
        # On the model worker: the first token is held back until the task's cancellation has reached the model.
        counts.append(pieces)
        loop.call_soon_threadsafe(generating.set)
        if threading.current_thread() is not threading.main_thread():
            cancel.wait(60)

    task = asyncio.ensure_future(review(registry, BUGGY + "\n# cancel me (task)\n", "/tmp/stats.py", "python", cancel=cancel, progress=progress))
    await asyncio.wait_for(generating.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancel.is_set(), "cancelling the task cancels the model call"
    # The worker is free again, and the review's generation stopped at the next token.
    name = await asyncio.wait_for(registry.run("review", lambda backend: backend.name), 60)
    assert name.startswith("SmolLM2")
    assert counts and max(counts) <= 2
