"""The draft/fix combination of debug, and deep review, with scripted model answers.

The models are scripted so that each branch of the policy is pinned: the
reasoning model's two answers agree, or differ and the more likely file wins
(or the first, without likelihoods); with fewer than two usable answers, the
lone one against the likelihood pass's one-line fixes; the draft only when
nothing else is usable, one more try after it, changes to tests undone; a deep
review's verdicts.
"""

import json
from pathlib import Path

import pytest
from fakes import ScriptedRegistry
from review_samples import BUGGY

from tandem_lsp.config import Settings
from tandem_lsp.models.backend import ChatRequest, ChatResult, ModelError, TokenScore
from tandem_lsp.tasks.debug import debug
from tandem_lsp.tasks.likelihood import line_fixes
from tandem_lsp.tasks.likelihood.surprise import Candidate, Suspect
from tandem_lsp.tasks.review import review
from tandem_lsp.tasks.source import SourceFile


def answer(explanation: str, code: str) -> str:
    return f"{explanation}\n\n```python\n{code}```\n"


GOOD = answer("The loop skips the first value.", BUGGY.replace("range(1, len(values))", "range(len(values))"))
# Only the function it fixes, the way models often answer.
WRONG = answer("Divide by one less.", "def average(values):\n    total = 0\n    for i in range(1, len(values)):\n        total += values[i]\n    return total / (len(values) - 1)\n")
BROKEN = answer("?", "def average(values):\n    for i in range(len(values):\n        pass\n")
NO_CODE = "I am not sure what is wrong here."


class Scripted:
    """A backend whose answers depend on the prompt kind; it records what it was asked."""

    context_size = 4096

    def __init__(self, name: str, answers: dict[str, object], log: list[tuple[str, str]], likelihoods: dict[str, float] | None = None) -> None:
        self.name = name
        self._answers = answers
        self._log = log
        self._likelihoods = likelihoods

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def chat(self, request: ChatRequest) -> ChatResult:
        prompt = request.messages[-1].content
        if "fails with this error" in prompt:
            # The plain request (no "Find the bug"), and the retry: a fresh request for the code alone.
            kind = "plain" if "Find the bug" not in prompt else "fix" if "what was wrong" in prompt else "retry"
        else:
            kind = "verify" if "reported these" in prompt else "review"
        self._log.append((self.name, kind))
        # Unless scripted otherwise, the plain request gets the same answer as the first.
        reply = self._answers[kind] if kind in self._answers or kind != "plain" else self._answers["fix"]
        return ChatResult(content=reply if isinstance(reply, str) else json.dumps(reply))

    def score_text(self, text: str, cancel) -> list[TokenScore] | None:
        """Without scripted likelihoods, like an HTTP model (review's likelihood pass adds nothing)."""
        if self._likelihoods is None:
            return None
        marker = next(m for m in self._likelihoods if m in text)
        return [TokenScore(0, text, self._likelihoods[marker], text, self._likelihoods[marker])]


def scripted_models(settings: Settings, general: dict, reasoning: dict, likelihoods: dict[str, float] | None = None) -> ScriptedRegistry:
    """A general and a reasoning model answering by prompt kind; `registry.log` records (model, kind) in order.

    `likelihoods` maps a piece of code to the reasoning model's log-likelihood of a file holding it.
    """
    log: list[tuple[str, str]] = []
    reasoner = Scripted("reasoning", reasoning, log, likelihoods)
    registry = ScriptedRegistry(settings, general=Scripted("general", general, log), reasoning=reasoner)
    registry.log = log
    return registry


def two_models(tmp_path: Path) -> Settings:
    return Settings().merged({"completionModel": {"path": str(tmp_path / "small.gguf")}, "reasoningModel": {"path": str(tmp_path / "big.gguf")}})


def one_model(tmp_path: Path) -> Settings:
    return Settings().merged({"completionModel": {"path": str(tmp_path / "only.gguf")}})


async def _debug(registry, text: str = BUGGY, error: str = "AssertionError: average([2, 4]) == 2.0, expected 3.0"):
    try:
        return await debug(registry, SourceFile(text, "stats.py", "python"), error)
    finally:
        registry.close()


async def test_two_agreeing_answers_are_reported_as_agreed_and_no_draft_is_written(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"fix": WRONG}, {"fix": GOOD})
    result = await _debug(registry)
    assert result.source == "agreed" and result.fix.start_line == 5 and result.fix.end_line == 5
    assert result.fix.replacement == "    for i in range(len(values)):"
    assert registry.log == [("reasoning", "fix"), ("reasoning", "plain")]
    assert result.explanation == "The loop skips the first value."


async def test_of_two_different_fixes_the_one_that_makes_the_file_more_likely_wins(tmp_path):
    # The file as it was holds `range(1, len(values))`: -60.
    likely = {"range(len(values))": -40.0, "(len(values) - 1)": -55.0, "range(1, len(values))": -60.0}
    for first, second in ((GOOD, WRONG), (WRONG, GOOD)):  # whichever answer it came in
        registry = scripted_models(two_models(tmp_path), {}, {"fix": first, "plain": second}, likely)
        result = await _debug(registry)
        assert result.source == "most likely" and "+20.0 against +5.0" in result.why
        assert result.fix.replacement == "    for i in range(len(values)):"


async def test_two_different_fixes_without_likelihoods_keep_the_first(tmp_path):
    registry = scripted_models(two_models(tmp_path), {}, {"fix": WRONG, "plain": GOOD})
    result = await _debug(registry)
    assert result.source == "reasoning fix" and "cannot weigh" in result.why
    assert "(len(values) - 1)" in result.new_text
    assert result.explanation == "Divide by one less."


async def test_an_unusable_answer_leaves_the_other(tmp_path):
    registry = scripted_models(two_models(tmp_path), {}, {"fix": BROKEN, "plain": GOOD})
    result = await _debug(registry)
    assert result.source == "reasoning fix" and "does not parse" in result.why
    assert result.fix.replacement == "    for i in range(len(values)):"
    assert result.explanation == "The loop skips the first value."


async def test_two_unusable_answers_fall_back_to_the_draft(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"fix": GOOD}, {"fix": BROKEN, "plain": NO_CODE, "retry": GOOD})
    result = await _debug(registry)
    assert result.source == "draft" and "does not parse" in result.why
    assert result.fix.replacement == "    for i in range(len(values)):"
    assert registry.log == [("reasoning", "fix"), ("reasoning", "plain"), ("general", "fix")]  # the draft was good enough


async def test_when_nothing_is_usable_the_reasoning_model_tries_once_more(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"fix": NO_CODE}, {"fix": BROKEN, "retry": GOOD})
    result = await _debug(registry)
    assert registry.log == [("reasoning", "fix"), ("reasoning", "plain"), ("general", "fix"), ("reasoning", "retry")]
    assert result.source == "second try" and "range(len(values))" in result.new_text


async def test_nothing_usable_says_so(tmp_path):
    registry = scripted_models(two_models(tmp_path), {"fix": BROKEN}, {"fix": NO_CODE, "retry": NO_CODE})
    result = await _debug(registry)
    assert result.fix is None and result.new_text is None and result.diff(BUGGY) == ""
    assert result.source == "none" and "no code block" in result.why
    assert result.explanation == "I am not sure what is wrong here."


async def test_one_model_asks_twice_without_a_draft(tmp_path):
    registry = scripted_models(one_model(tmp_path), {"fix": GOOD}, {"fix": GOOD})
    result = await _debug(registry)
    assert result.source == "agreed" and [kind for _, kind in registry.log] == ["fix", "plain"]


async def test_a_fix_that_changes_nothing_gets_one_more_try(tmp_path):
    registry = scripted_models(one_model(tmp_path), {}, {"fix": answer("It looks fine.", BUGGY), "retry": GOOD})
    result = await _debug(registry)
    assert [kind for _, kind in registry.log] == ["fix", "plain", "retry"]
    assert result.source == "second try" and result.fix.replacement == "    for i in range(len(values)):"


TESTED = BUGGY + "\n\nassert average([2, 4]) == 3.0\n"


async def test_a_fix_keeps_the_tests_as_they_are(tmp_path):
    # The model "fixes" the check as well as the code: only the code change stays.
    both = TESTED.replace("range(1, len(values))", "range(len(values))").replace("== 3.0", "== 2.0")
    registry = scripted_models(one_model(tmp_path), {}, {"fix": answer("Fixed.", both)})
    result = await _debug(registry, TESTED)
    assert "assert average([2, 4]) == 3.0" in result.new_text and "range(len(values))" in result.new_text


async def test_a_fix_of_the_test_alone_is_no_fix(tmp_path):
    only_test = TESTED.replace("== 3.0", "== 2.0")
    registry = scripted_models(one_model(tmp_path), {}, {"fix": answer("Fixed.", only_test), "retry": answer("Fixed.", only_test)})
    result = await _debug(registry, TESTED)
    assert result.fix is None and "same as the original" in result.why


UNCHANGED = answer("The code looks right to me.", BUGGY)
# The file's likelihood with each version of the loop (the file as it was: -60).
LIKELY = {"range(len(values))": -40.0, "(len(values) - 1)": -55.0, "range(1, len(values))": -60.0, "range(2, len(values))": -58.0}


def line_fix(monkeypatch, text: str, old: str, new: str) -> None:
    """The likelihood scan proposes replacing the line holding `old` by `new` (whichever model scans)."""
    line = text.split("\n").index(old)
    suspect = Suspect(line, 0, sum(len(x) + 1 for x in text.split("\n")[:line]), "x", "y", 0.01, 0.9)
    proposed = {"done": False}

    def draft_candidates(backend, scanned, focus, grammar, cancel, known=()):
        if proposed["done"]:
            return []  # the second model's own scan adds nothing new
        proposed["done"] = True
        return [Candidate(suspect, new)]

    monkeypatch.setattr(line_fixes, "draft_candidates", draft_candidates)


async def test_when_both_answers_find_the_code_fine_the_likeliest_one_line_fix_is_used(tmp_path, monkeypatch):
    line_fix(monkeypatch, BUGGY, "    for i in range(1, len(values)):", "    for i in range(len(values)):")
    registry = scripted_models(two_models(tmp_path), {"fix": GOOD}, {"fix": UNCHANGED}, LIKELY)
    result = await _debug(registry)
    assert result.source == "likely line" and "+20.0 nats" in result.why and "same as the original" in result.why
    assert result.fix.replacement == "    for i in range(len(values)):"
    assert result.explanation.startswith("Line 6: ")
    assert registry.log == [("reasoning", "fix"), ("reasoning", "plain")]  # no draft was needed


async def test_a_one_line_fix_that_makes_the_file_more_likely_beats_the_lone_rewrite(tmp_path, monkeypatch):
    line_fix(monkeypatch, BUGGY, "    for i in range(1, len(values)):", "    for i in range(len(values)):")
    registry = scripted_models(two_models(tmp_path), {}, {"fix": WRONG, "plain": UNCHANGED}, LIKELY)
    result = await _debug(registry)
    assert result.source == "likely line" and "+20.0 nats; the reasoning model's own fix: +5.0" in result.why
    assert "range(len(values))" in result.new_text and "(len(values) - 1)" not in result.new_text


async def test_the_lone_rewrite_stays_when_it_reads_more_likely_than_any_one_line_fix(tmp_path, monkeypatch):
    line_fix(monkeypatch, BUGGY, "    return total / len(values)", "    return total / (len(values) - 1)")
    registry = scripted_models(two_models(tmp_path), {}, {"fix": UNCHANGED, "plain": GOOD}, LIKELY)
    result = await _debug(registry)
    assert result.source == "reasoning fix" and "more likely than any one-line fix (+20.0 nats)" in result.why
    assert result.fix.replacement == "    for i in range(len(values)):"


async def test_a_one_line_fix_must_gain_clearly(tmp_path, monkeypatch):
    # +2 nats: not enough to stand on its own; the draft is asked instead.
    line_fix(monkeypatch, BUGGY, "    for i in range(1, len(values)):", "    for i in range(2, len(values)):")
    registry = scripted_models(two_models(tmp_path), {"fix": GOOD}, {"fix": UNCHANGED}, LIKELY)
    result = await _debug(registry)
    assert result.source == "draft" and "range(len(values))" in result.new_text


async def test_with_the_likelihood_scan_turned_off_debug_asks_the_draft(tmp_path, monkeypatch):
    line_fix(monkeypatch, BUGGY, "    for i in range(1, len(values)):", "    for i in range(len(values)):")
    settings = two_models(tmp_path).merged({"review": {"likelihoodScan": False}})
    registry = scripted_models(settings, {"fix": WRONG}, {"fix": UNCHANGED}, LIKELY)
    result = await _debug(registry)
    assert result.source == "draft" and "(len(values) - 1)" in result.new_text

async def test_the_likelihood_pass_never_proposes_to_change_a_test(tmp_path, monkeypatch):
    line_fix(monkeypatch, TESTED, "assert average([2, 4]) == 3.0", "assert average([2, 4]) == 2.0")
    likely = {"== 2.0": -10.0, "== 3.0": -60.0}
    unchanged = answer("The code looks right to me.", TESTED)
    registry = scripted_models(two_models(tmp_path), {"fix": unchanged}, {"fix": unchanged, "retry": unchanged}, likely)
    result = await _debug(registry, TESTED)
    assert result.fix is None and result.source == "none"

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


