"""The likelihood pass: which disagreements count, token scores from a real GGUF, and fixes weighed by the whole file."""

import asyncio
import math
import threading
from types import SimpleNamespace

import pytest
from fakes import ScriptedRegistry

from tandem_lsp.config import ModelSettings, Settings
from tandem_lsp.models.backend import GenerationResult, TokenScore
from tandem_lsp.models.llama_backend import LlamaBackend
from tandem_lsp.tasks.likelihood import likely_findings, line_fixes
from tandem_lsp.code_checks import changes_code, code_lines, comment_columns, keeps_definitions
from tandem_lsp.tasks.likelihood.line_edits import changed_words
from tandem_lsp.tasks.likelihood.surprise import Candidate, Suspect, draft_candidates, find_suspects, likelihood_gains, second_look, with_line

SOURCE = """def search(items, x):
    lo = 0
    hi = len(items)
    # keep halving
    while lo < hi:
        mid = (lo + hi) // 2
    return lo
"""


def token(text: str, fragment: str, line_hint: str, logprob: float, expected: str, expected_logprob: float) -> TokenScore:
    """A score for `fragment` as it stands inside the line containing `line_hint`."""
    start = text.index(line_hint) + line_hint.index(fragment)
    return TokenScore(start, fragment, logprob, expected, expected_logprob)


def test_a_confident_disagreement_on_code_is_a_suspect_and_the_strongest_comes_first():
    scores = [
        token(SOURCE, " <", "while lo < hi:", -6.0, " <=", -0.1),
        token(SOURCE, " //", "mid = (lo + hi) // 2", -4.5, " /", -0.3),
        token(SOURCE, " lo", "    return lo", -0.01, " lo", -0.01),  # agreement
    ]
    suspects = find_suspects(SOURCE, scores, (0, 6), code_lines(SOURCE, "python"))
    assert [(s.line, s.actual, s.expected) for s in suspects] == [(4, " <", " <="), (5, " //", " /")]
    assert suspects[0].column == SOURCE.split("\n")[4].index(" <")
    assert suspects[0].strength > suspects[1].strength


def test_uncertainty_whitespace_names_comments_and_line_wraps_are_not_suspects():
    scores = [
        token(SOURCE, " <", "while lo < hi:", -6.0, " <=", -1.5),  # the model was not sure itself
        token(SOURCE, " <", "while lo < hi:", -2.0, " <=", -0.1),  # what is there is plausible enough
        token(SOURCE, "\n", "len(items)\n", -6.0, "\n\n", -0.1),  # blank lines only
        token(SOURCE, " lo", "    lo = 0", -6.0, " #", -0.1),  # the model wanted a comment
        token(SOURCE, "tems", "search(items", -6.0, "ts", -0.1),  # the rest of a name: a naming choice
        token(SOURCE, " halving", "keep halving", -6.0, " going", -0.1),  # inside a comment line
    ]
    assert find_suspects(SOURCE, scores, (0, 6), code_lines(SOURCE, "python")) == []
    wrapped = "total = compute(\n    a, b)\n"
    wrap = TokenScore(wrapped.index("(\n"), "(\n", -6.0, "(a", -0.1)
    assert find_suspects(wrapped, [wrap], (0, 1)) == []


PASCAL = """def row(r):
    return [c for c in range(0, r)]
"""


def test_two_surprises_on_one_line_are_both_suspects_and_runners_up_are_choices_too():
    scores = [
        # The strongest surprise of the line is not the slip; the second is (`range(0, r + 1)`).
        TokenScore(PASCAL.index("0,"), "0", -7.0, "1", -0.2, ((" 0", -2.5), ("2", -4.0))),
        TokenScore(PASCAL.index(")]"), ")", -5.0, " +", -0.4, ((")", -5.0), (" -", -1.9))),
    ]
    suspects = find_suspects(PASCAL, scores, (0, 1), code_lines(PASCAL, "python"))
    assert [(s.actual, s.choices) for s in suspects] == [
        ("0", ("1",)),  # " 0" is a respacing of what is there and "2" is below MIN_ALTERNATIVE_PROB
        (")", (" +", " -")),
    ]


class Continuing:
    """A scripted scorer: one suspect token with two choices, each continued by its own text."""

    def __init__(self, score: TokenScore, rest: dict[str, str]) -> None:
        self._score, self._rest = score, rest
        self.prompts: list[str] = []

    def score_text(self, text, cancel):
        return [self._score]

    def generate(self, request):
        prompt = request.prompt[0]
        self.prompts.append(prompt)
        return GenerationResult(next(rest for choice, rest in self._rest.items() if prompt.endswith(choice)) + "\n", "stop_check")


def test_each_choice_at_a_suspect_is_continued_into_its_own_candidate():
    score = TokenScore(PASCAL.index(")]"), ")", -5.0, " +", -0.4, ((" -", -1.9),))
    backend = Continuing(score, {" +": " 1)]", " -": " 1)]"})
    candidates = draft_candidates(backend, PASCAL, (0, 1), "python", threading.Event())
    assert [c.new_line for c in candidates] == ["    return [c for c in range(0, r + 1)]", "    return [c for c in range(0, r - 1)]"]


def test_each_change_of_a_proposed_line_is_also_tried_alone():
    # The model bets on `1` for the `0` and goes on to write `r + 1` as well: the second change alone is the fix.
    score = TokenScore(PASCAL.index("0,"), "0", -6.0, "1", -0.2)
    backend = Continuing(score, {"1": ", r + 1)]"})
    candidates = draft_candidates(backend, PASCAL, (0, 1), "python", threading.Event())
    assert [c.new_line for c in candidates] == [
        "    return [c for c in range(1, r + 1)]",
        "    return [c for c in range(1, r)]",
        "    return [c for c in range(0, r + 1)]",
    ]


def test_a_second_model_gives_its_own_choices_where_the_first_found_a_suspect():
    place = Suspect(1, PASCAL.split("\n")[1].index(")]"), PASCAL.index(")]"), ")", "]", 0.01, 0.5, ("]",))
    agreeing = TokenScore(PASCAL.index(")]"), ")", -0.05, ")", -0.05, ((" +", -2.0), (" *", -6.0)))
    elsewhere = TokenScore(PASCAL.index("0,"), "0", -7.0, "1", -0.2)
    (looked,) = second_look(PASCAL, [elsewhere, agreeing], [place])
    # It did not flag the `)` itself, but its runner-up there is worth a candidate.
    assert (looked.line, looked.offset, looked.choices) == (1, place.offset, (" +",))
    assert second_look(PASCAL, [elsewhere], [place]) == []  # no score starting there (another tokenizer)


def test_a_candidate_is_described_by_the_words_that_change():
    suspect = Suspect(4, 12, SOURCE.index(" < hi"), " <", " <=", 0.001, 0.9)
    assert Candidate(suspect, "    while lo <= hi:").describe(SOURCE) == "`<` looks wrong here; the model expects `<=`."
    assert changed_words("return kth(above, k)", "return kth(above, k - num_less)") == ("k", "k - num_less")
    assert changed_words("return total + 1", "return total") == ("+ 1", "")
    assert changed_words("n ^= n - 1", "n &= n - 1") == ("^=", "&=")


MISSING = """def walk(node, seen):
    for child in node.children:
        walk(child, seen)
    return seen
"""


class Expecting:
    """A scripted scorer: disagrees at one token of MISSING and continues with `rest` from its own choice."""

    def __init__(self, at: str, actual: str, expected: str, rest: str) -> None:
        self._score = TokenScore(MISSING.index(at) + at.index(actual), actual, -6.0, expected, -0.1)
        self._rest = rest

    def score_text(self, text, cancel):
        return [self._score]

    def generate(self, request):
        return GenerationResult(self._rest + "\n", "stop_check")


def test_a_surprising_first_word_also_proposes_the_missing_line_before_it():
    backend = Expecting("    for child", " for", " seen", ".add(node)")  # tokens carry their space
    candidates = draft_candidates(backend, MISSING, (0, 3), "python", threading.Event())
    replace, insert = candidates
    assert (replace.insert, insert.insert) == (False, True)
    assert replace.apply(MISSING).split("\n")[1] == "    seen.add(node)"  # the loop's header is gone
    lines = insert.apply(MISSING).split("\n")
    assert lines[1:3] == ["    seen.add(node)", "    for child in node.children:"]
    assert insert.replacement(MISSING) == "    seen.add(node)\n    for child in node.children:"
    assert insert.describe(MISSING) == "A line seems to be missing before this one; the model expects `seen.add(node)`."


def test_a_surprise_inside_a_line_only_replaces_it():
    backend = Expecting("walk(child, seen)", " seen", " set", "())")
    candidates = draft_candidates(backend, MISSING, (0, 3), "python", threading.Event())
    assert [(c.insert, c.new_line) for c in candidates] == [(False, "        walk(child, set())")]


def test_a_trailing_comment_is_prose_not_code():
    text = "first, *rest = arr  # like car/cdr (anyway..)\n"
    score = TokenScore(text.index("..)"), "..)", -6.0, ")", -0.1)
    assert find_suspects(text, [score], (0, 0), code_lines(text, "python"), comments=comment_columns(text, "python")) == []
    assert len(find_suspects(text, [score], (0, 0), code_lines(text, "python"))) == 1  # without the comment map it would count


def test_suspects_outside_the_focus_are_left_out():
    scores = [token(SOURCE, " <", "while lo < hi:", -6.0, " <=", -0.1)]
    assert find_suspects(SOURCE, scores, (0, 3)) == []
    assert len(find_suspects(SOURCE, scores, (4, 4))) == 1


@pytest.fixture(scope="module")
def backend(small_model):
    model = LlamaBackend(str(small_model), ModelSettings(path=str(small_model), context_size=1024, threads=1))
    yield model
    model.close()


@pytest.mark.model
def test_token_scores_spell_the_text_and_are_log_probabilities(backend):
    cancel = threading.Event()
    scores = backend.score_text(SOURCE, cancel)
    assert scores is not None and len(scores) == len(backend.tokenize(SOURCE)) - 1
    assert "".join(s.text for s in scores) == SOURCE[scores[0].start :]
    for score in scores:
        assert SOURCE[score.start : score.start + len(score.text)] == score.text
        assert score.logprob <= 0.0 and score.expected_logprob <= 0.0
        assert score.expected_logprob >= score.logprob - 1e-4  # the first choice is at least as likely


@pytest.mark.model
def test_scoring_a_variant_reuses_the_shared_prefix_without_changing_the_figures(backend):
    cancel = threading.Event()
    variant = with_line(SOURCE, 4, "    while lo <= hi:")
    backend.score_text(SOURCE, cancel)
    reused = backend.score_text(variant, cancel)  # shares lines 0-3 with the text just scored
    backend.score_text("import os\nprint(os.getcwd())\n", cancel)  # nothing shared
    fresh = backend.score_text(variant, cancel)
    assert [s.text for s in reused] == [s.text for s in fresh]
    assert max(abs(a.logprob - b.logprob) for a, b in zip(reused, fresh)) < 0.05


@pytest.mark.model
def test_gains_are_measured_against_the_file_as_it_is(backend):
    # Which variant a model prefers is its own judgement (benchmarks/ measure that); here only
    # the measure: one finite gain per variant, and none for the file unchanged.
    text = 'import sys\n\n\ndef main():\n    print(sys.argv)\n\n\nif __name__ == "__mian__":\n    main()\n'
    fixed_line = 'if __name__ == "__main__":'
    suspect = Suspect(7, 16, text.index("mian"), "mian", "main", 0.001, 0.9)
    damaging = Candidate(Suspect(4, 4, text.index("print"), "print", "prnt", 0.001, 0.9), "    prnt(sys.argv)")
    variants = [Candidate(suspect, fixed_line).apply(text), damaging.apply(text), text]
    gains = likelihood_gains(backend, text, variants, threading.Event())
    assert gains is not None and len(gains) == 3
    assert all(math.isfinite(gain) for gain in gains)
    assert abs(gains[2]) < 0.05


@pytest.mark.model
def test_scores_carry_the_runners_up_in_order(backend):
    scores = backend.score_text(SOURCE, threading.Event())
    for score in scores:
        ranked = [score.expected_logprob] + [logprob for _, logprob in score.alternatives]
        assert len(score.alternatives) >= 1 and ranked == sorted(ranked, reverse=True)
        assert score.expected not in [token for token, _ in score.alternatives]


@pytest.mark.model
def test_gains_do_not_depend_on_the_order_variants_are_given_in(backend):
    text = 'import sys\n\n\ndef main():\n    print(sys.argv)\n\n\nif __name__ == "__mian__":\n    main()\n'
    variants = [text.replace("mian", "main"), text.replace("print", "prnt"), text.replace("sys.argv", "sys.path")]
    cancel = threading.Event()
    forward = likelihood_gains(backend, text, variants, cancel)
    backward = likelihood_gains(backend, text, variants[::-1], cancel)
    assert max(abs(a - b) for a, b in zip(forward, backward[::-1])) < 0.05


@pytest.mark.model
def test_a_cancelled_scan_returns_nothing(backend):
    cancel = threading.Event()
    cancel.set()
    assert backend.score_text(SOURCE * 20, cancel) is None
    # And the backend still works afterwards.
    assert backend.score_text(SOURCE, threading.Event())


def _reported(monkeypatch, fixes: list[tuple[Candidate, float]]):
    monkeypatch.setattr(line_fixes, "draft_candidates", lambda *args, **kwargs: [c for c, _ in fixes])
    monkeypatch.setattr(line_fixes, "likelihood_gains", lambda backend, text, variants, cancel: [g for _, g in fixes])
    # Every role is one object; the scan and the weighing are scripted above.
    registry = ScriptedRegistry(Settings(), general=SimpleNamespace(name="scripted"))
    try:
        findings, _ = asyncio.run(likely_findings.likelihood_findings(registry, SOURCE, "python", (0, 6), False, threading.Event()))
    finally:
        registry.close()
    return [(f.start_line, f.severity, f.replacement) for f in findings]


def test_the_strongest_fix_is_a_warning_and_a_runner_up_on_another_line_is_information(monkeypatch):
    loop = Candidate(Suspect(4, 12, SOURCE.index(" < hi"), " <", " <=", 0.001, 0.9), "    while lo <= hi:")
    start = Candidate(Suspect(1, 8, SOURCE.index("0"), "0", "1", 0.01, 0.5), "    lo = 1")
    weak = Candidate(Suspect(5, 0, SOURCE.index("mid"), "mid", "x", 0.01, 0.5), "        x = 1")
    assert _reported(monkeypatch, [(start, 4.0), (loop, 9.0), (weak, 1.0)]) == [(4, "warning", "    while lo <= hi:"), (1, "info", "    lo = 1")]


def test_a_line_is_reported_once_even_when_two_of_its_fixes_gain(monkeypatch):
    suspect = Suspect(5, 8, SOURCE.index("mid"), "mid", "lo", 0.01, 0.5)
    replace, insert = Candidate(suspect, "        lo = mid"), Candidate(suspect, "        lo = mid", insert=True)
    assert _reported(monkeypatch, [(insert, 8.0), (replace, 5.0)]) == [(5, "warning", "        lo = mid\n        mid = (lo + hi) // 2")]


def test_edits_of_whitespace_or_comments_change_no_code():
    assert not changes_code("first, *rest = arr  # like car and cdr", "first, *rest = arr", "python")
    assert not changes_code("levenshtein(source,     target[1:]),", "levenshtein(source, target[1:]),", "python")
    assert changes_code("while lo < hi:", "while lo <= hi:", "python")
    assert changes_code('sep = "a  b"', 'sep = "a b"', "python")  # inside a string, spaces are data
    assert not changes_code("x = f(a,  b)  // why", "x = f(a, b)", "javascript")


def test_swapping_a_docstring_for_a_comment_changes_no_code():
    # A 1.5B "fix" for quicksort: the module's closing docstring replaced by a comment restating a line.
    docstring = '"""\nQuickSort\n\nInput:\n    arr: A list of ints\n"""'
    assert not changes_code(docstring, "    # Corrected line: pivot = arr[0]", "python")
    assert changes_code('    return "a"', "    return 'b'", "python")  # a returned string is behaviour


def test_a_fix_may_not_delete_a_definition():
    text = "def detect(node):\n    hare = node\n    return hare\n"
    assert not keeps_definitions(text, "python", 0, 0, "if node is None: return False")
    assert keeps_definitions(text, "python", 1, 1, "    hare = node.successor")


def test_a_fix_may_not_unbind_a_name_the_code_reads():
    text = "from heapq import heappush\n\ndef powerset(arr):\n    first, *rest = arr\n    heappush(rest, first)\n    return powerset(rest)\n"
    assert not keeps_definitions(text, "python", 3, 3, "    first = arr[0]")  # `rest` is read below, now bound by nothing
    assert keeps_definitions(text, "python", 3, 3, "    first, *rest = arr[::-1]")
    assert keeps_definitions(text, "python", 4, 4, "    print(rest, first)")  # a builtin is bound
    # A star import binds names no symbol table lists: nothing is refused on its account.
    assert keeps_definitions("from heapq import *\nx = [1]\nheappush(x, 2)\n", "python", 2, 2, "heappop(x)")


def test_a_proposal_that_only_respaces_the_line_is_no_candidate():
    backend = Expecting("walk(child, seen)", " seen", "  seen", ")")
    assert draft_candidates(backend, MISSING, (0, 3), "python", threading.Event()) == []


def test_the_closing_prose_of_a_file_is_left_unread_when_asked():
    closing = 'def bitcount(n):\n    return bin(n).count("1")\n\n\n"""\nBitcount\n>>> bitcount(127)\n7\n"""\n# the end\n'
    assert line_fixes.without_closing_prose(closing, "python") == 'def bitcount(n):\n    return bin(n).count("1")'
    assert line_fixes.without_closing_prose(SOURCE, "python") == SOURCE  # nothing but a line break follows
    assert line_fixes.without_closing_prose(closing, None) == closing  # unknown language: all of it


def test_variants_are_weighed_on_the_code_and_one_that_changes_the_closing_prose_is_not_weighed(monkeypatch):
    documented = SOURCE + '\n"""Binary search.\n"""\n'
    weighed: list[str] = []

    def gains(backend, text, variants, cancel):
        weighed.extend([text, *variants])
        return [1.0] * len(variants)

    monkeypatch.setattr(line_fixes, "draft_candidates", lambda *args, **kwargs: [])
    monkeypatch.setattr(line_fixes, "likelihood_gains", gains)
    fixed = documented.replace("lo < hi", "lo <= hi")
    registry = ScriptedRegistry(Settings(), general=SimpleNamespace(name="scripted"))
    try:
        result = asyncio.run(line_fixes.weighed_line_fixes(
            registry, documented, "python", (0, 6), "review", "review", threading.Event(),
            variants=[fixed, fixed.replace("Binary", "Linear")], skip_closing_prose=True,
        ))
    finally:
        registry.close()
    assert result.variant_gains == [1.0, None]
    assert weighed == [SOURCE.rstrip("\n"), fixed[: fixed.index("\n\n")]]  # read up to the last line of code
