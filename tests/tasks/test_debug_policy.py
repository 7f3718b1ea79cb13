"""The draft/verify combination of debug and deep review, with scripted model answers.

The models are scripted so that each branch of the policy is pinned: both
agree, the judge picks the draft, the reasoning fix is unusable and the draft
is used, one model only (single pass); a deep review's verdicts.
"""

import json
from pathlib import Path

import pytest
from fakes import ScriptedRegistry
from review_samples import BUGGY

from tandem_lsp.config import Settings
from tandem_lsp.models.backend import ChatRequest, ChatResult, ModelError, TokenScore
from tandem_lsp.tasks.debug import debug
from tandem_lsp.tasks.review import review

GOOD = {"explanation": "skips the first value", "line": 6, "end_line": 6, "replacement": "    for i in range(len(values)):"}
WRONG = {"explanation": "divide by one less", "line": 8, "end_line": 8, "replacement": "    return total / (len(values) - 1)"}
BROKEN = {"explanation": "?", "line": 6, "end_line": 6, "replacement": "    for i in range(len(values):"}


class Scripted:
    """A backend whose answers depend on the prompt kind; it records what it was asked."""

    context_size = 4096

    def __init__(self, name: str, answers: dict[str, object], log: list[tuple[str, str]]) -> None:
        self.name = name
        self._answers = answers
        self._log = log

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def chat(self, request: ChatRequest) -> ChatResult:
        prompt = request.messages[-1].content
        kind = "repair" if "Answer again with the corrected code" in prompt else "judge" if "Two candidate fixes" in prompt else "verify" if "reported these" in prompt else "debug" if "This error happens" in prompt else "review"
        self._log.append((self.name, kind))
        answer = self._answers[kind]
        return ChatResult(content=answer if isinstance(answer, str) else json.dumps(answer))

    def score_text(self, text: str, cancel) -> None:
        return None  # like an HTTP model: no likelihoods, the chat policy decides


class Scoring(Scripted):
    """A scripted model that can also score text: it finds a file likely when it holds `likes`."""

    def __init__(self, name: str, answers: dict[str, object], log: list[tuple[str, str]], likes: str) -> None:
        super().__init__(name, answers, log)
        self._likes = likes

    def score_text(self, text: str, cancel) -> list[TokenScore]:
        self._log.append((self.name, "score"))
        # One token that agrees with the model's own choice: no suspects, only a total.
        return [TokenScore(0, text, 0.0 if self._likes in text else -20.0, text, 0.0)]


def scripted_models(settings: Settings, general: dict, reasoning: dict) -> ScriptedRegistry:
    """A general and a reasoning model answering by prompt kind; `registry.log` records (model, kind) in order."""
    log: list[tuple[str, str]] = []
    registry = ScriptedRegistry(settings, general=Scripted("general", general, log), reasoning=Scripted("reasoning", reasoning, log))
    registry.log = log
    return registry


def two_models(tmp_path: Path) -> Settings:
    return Settings().merged({"completionModel": {"path": str(tmp_path / "small.gguf")}, "reasoningModel": {"path": str(tmp_path / "big.gguf")}})


async def _debug(registry):
    try:
        return await debug(registry, BUGGY, "stats.py", "python", "AssertionError: average([2, 4]) == 2.0, expected 3.0")
    finally:
        registry.close()


async def test_agreeing_fixes_need_no_judge(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"debug": GOOD}, {"debug": GOOD})
    result = await _debug(registry)
    assert result.source == "agreed" and result.fix.start_line == 5
    assert registry.log == [("general", "debug"), ("reasoning", "debug")]


async def test_the_judge_can_pick_the_draft_over_the_reasoning_fix(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"debug": GOOD}, {"debug": WRONG, "judge": {"explanation": "B fixes the loop", "choice": "B"}})
    result = await _debug(registry)
    assert result.source == "draft chosen"
    assert "for i in range(len(values)):" in result.new_text and "(len(values) - 1)" not in result.new_text
    assert registry.log[-1] == ("reasoning", "judge")


async def test_a_scoring_reasoning_model_weighs_the_fixes_instead_of_judging(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"debug": GOOD}, {"debug": WRONG})
    registry.backends["reasoning"] = Scoring("reasoning", {"debug": WRONG}, registry.log, likes="range(len(values))")
    result = await _debug(registry)
    assert result.source == "draft chosen" and result.fix.replacement == GOOD["replacement"]
    assert ("reasoning", "judge") not in registry.log and ("reasoning", "score") in registry.log


async def test_a_rewrite_that_drops_lines_is_not_weighed_by_likelihood(tmp_path):
    # Deleting text always makes a file "more likely"; such a fix goes to the judge instead.
    rewrite = {"explanation": "simpler", "line": 4, "end_line": 9, "replacement": "def average(values):\n    return sum(values) / len(values)"}
    registry = scripted_models(two_models(tmp_path), {"debug": GOOD}, {"debug": rewrite, "judge": {"explanation": "B", "choice": "B"}})
    registry.backends["reasoning"] = Scoring("reasoning", {"debug": rewrite, "judge": {"explanation": "B", "choice": "B"}}, registry.log, likes="return sum(values)")
    result = await _debug(registry)
    assert registry.log[-1] == ("reasoning", "judge")
    assert result.source == "draft chosen" and result.fix.replacement == GOOD["replacement"]


async def test_a_chat_fix_that_rewrites_the_function_is_weighed_as_its_one_changed_line(tmp_path):
    # The whole function comes back with one line changed: too wide to weigh, but its one change is not.
    rewrite = {
        "explanation": "the loop skips the first value",
        "line": 4,
        "end_line": 8,
        "replacement": "def average(values):\n    total = 0\n    for i in range(len(values)):\n        total += values[i]\n    return total / len(values)",
    }
    registry = scripted_models(two_models(tmp_path), {"debug": WRONG}, {})
    registry.backends["reasoning"] = Scoring("reasoning", {"debug": rewrite}, registry.log, likes="range(len(values))")
    result = await _debug(registry)
    assert result.source == "reasoning fix" and ("reasoning", "judge") not in registry.log
    assert (result.fix.start_line, result.fix.end_line, result.fix.replacement) == (5, 5, "    for i in range(len(values)):")


async def test_an_unusable_reasoning_fix_falls_back_to_the_draft(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"debug": GOOD}, {"debug": BROKEN, "repair": BROKEN})
    result = await _debug(registry)
    assert result.source == "draft" and result.fix.replacement == GOOD["replacement"]
    assert registry.log[-1] == ("reasoning", "repair")


async def test_nothing_usable_says_so(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"debug": BROKEN}, {"debug": "not json at all"})
    result = await _debug(registry)
    assert result.fix is None and result.new_text is None and result.diff(BUGGY) == ""
    assert result.explanation == "?"


async def test_one_model_runs_a_single_pass(tmp_path):
    settings = Settings().merged({"completionModel": {"path": str(tmp_path / "only.gguf")}})
    registry = scripted_models(settings, {"debug": GOOD}, {"debug": GOOD})
    result = await _debug(registry)
    assert result.source == "single pass" and len(registry.log) == 1


async def test_deep_review_applies_the_verifiers_verdicts(tmp_path):
    draft = {"findings": [
        {"line": 6, "end_line": 6, "severity": "error", "message": "skips the first value", "replacement": "    for i in range(len(values)):"},
        {"line": 1, "end_line": 1, "severity": "warning", "message": "unused import", "replacement": ""},
        {"line": 13, "end_line": 13, "severity": "error", "message": "loop is wrong", "replacement": "    for item in items[1:]:"},
    ]}
    verdicts = {
        # Reports are numbered in line order, as the verifier's prompt lists them.
        "verdicts": [{"id": 1, "verdict": "reject"}, {"id": 2, "verdict": "confirm"},
                     {"id": 3, "verdict": "correct", "line": 14, "end_line": 14, "message": "keeps the minimum", "replacement": "        if item > best:"}],
        "new_findings": [],
    }
    registry = scripted_models(two_models(tmp_path), {"review": draft}, {"verify": verdicts})
    try:
        result = await review(registry, BUGGY, "stats.py", "python", deep=True)
    finally:
        registry.close()
    assert result.verified and result.models == {"review": "general", "reasoning": "reasoning"}
    assert [(f.start_line, f.status, f.replacement) for f in result.findings] == [
        (5, "confirmed", "    for i in range(len(values)):"),
        (13, "corrected", "        if item > best:"),
    ]


async def test_code_too_long_for_the_context_is_a_clear_error(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"review": {"findings": []}}, {})
    registry.backends["general"].context_size = 256
    try:
        with pytest.raises(ModelError, match="too long"):
            await review(registry, BUGGY * 20, "stats.py", "python")
    finally:
        registry.close()


async def test_a_fix_that_does_not_parse_gets_one_repair_round(tmp_path):
    settings = Settings().merged({"completionModel": {"path": str(tmp_path / "only.gguf")}})
    registry = scripted_models(settings, {}, {"debug": BROKEN, "repair": GOOD})
    result = await _debug(registry)
    assert registry.log == [("reasoning", "debug"), ("reasoning", "repair")]
    assert result.fix.replacement == GOOD["replacement"] and result.source == "single pass"


async def test_a_fix_that_changes_nothing_gets_one_repair_round(tmp_path):
    unchanged = {"explanation": "e", "line": 6, "end_line": 6, "replacement": "    for i in range(1, len(values)):"}
    settings = Settings().merged({"completionModel": {"path": str(tmp_path / "only.gguf")}})
    registry = scripted_models(settings, {}, {"debug": unchanged, "repair": GOOD})
    result = await _debug(registry)
    assert [kind for _, kind in registry.log] == ["debug", "repair"]
    assert result.fix.replacement == GOOD["replacement"]
