"""Lines the model finds unlikely: a bug detector that needs no prompt and no JSON.

A code model reads the file once and, at every token, has an opinion on what
comes next. Where it confidently expected something other than what is there
(`<` where it bet on `<=`, `)` where it wanted `+ 1)`), the line deserves a
look: buggy lines are measurably less "natural" than their fixed versions, and
a small model that cannot write a reliable review in JSON still knows the
idiom it has seen a thousand times. Its own continuation from the expected
token is the proposed fix.

This costs one forward pass over the file plus a few short continuations
(which reuse the pass's KV cache), a fraction of a chat review.
"""

from __future__ import annotations

import bisect
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from tandem_lsp.models.backend import GenerationRequest, ModelBackend, TokenScore
from tandem_lsp.code_checks import LineRange, changes_code, code_lines, comment_columns, edit_parses, keeps_definitions
from tandem_lsp.tasks.likelihood.line_edits import changed_words, one_change_versions

# The model must have bet on something else (at least this likely) and found
# what is there this unlikely: a confident disagreement, not mere uncertainty.
MIN_EXPECTED_PROB = 0.3
MAX_ACTUAL_PROB = 0.05
# Suspect lines a scan proposes fixes for (each costs a short generation).
MAX_CANDIDATES = 4
# Surprising tokens looked at per suspect line: the strongest is not always the
# slip (pascal's `range(0, r)`: the model bets on `1` for the `0`, while the fix
# is the `+ 1` it also wanted after `r`).
SUSPECTS_PER_LINE = 2
# A runner-up choice at least this likely is continued too: the model's second
# thought is often the fix when its first is only another idiom.
MIN_ALTERNATIVE_PROB = 0.1
# Proposed lines one scan may add (each costs a short generation and a weighing; the
# one-change versions of a line come on top, a weighing each).
MAX_PROPOSALS = 10
# A proposed line is the model's own continuation, kept short.
FIX_MAX_TOKENS = 40
FIX_MAX_SECONDS = 10.0


@dataclass(frozen=True)
class Suspect:
    line: int  # 0-based
    column: int  # character column of the surprising token
    offset: int  # character offset of the surprising token in the text
    actual: str
    expected: str
    actual_prob: float
    expected_prob: float
    # What the model would put here instead, most likely first (`expected` and the runners-up worth trying).
    choices: tuple[str, ...] = ()

    @property
    def strength(self) -> float:
        """How strongly the model prefers its own token, in nats."""
        return math.log(max(self.expected_prob, 1e-12)) - math.log(max(self.actual_prob, 1e-12))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def _is_noise(text: str, start: int, actual: str, expected: str) -> bool:
    """Disagreements that say nothing about correctness."""
    if actual.strip() == expected.strip():
        return True  # whitespace or blank lines
    if expected.lstrip().startswith(_PROSE_OPENERS):
        return True  # the model wanted a comment or docstring here
    before = text[start - 1] if start > 0 else ""
    if (before.isalnum() or before == "_") and (actual[:1].isalnum() or actual[:1] == "_"):
        return True  # the middle of a name: a naming choice
    core = actual.rstrip()
    if core and "\n" in actual[len(core) :] and expected.startswith(core) and "\n" not in expected:
        return True  # the code wraps a line the model would have continued
    return False


_PROSE_OPENERS = ("#", '"""', "'''", "//", "/*")


def find_suspects(
    text: str,
    scores: list[TokenScore],
    focus: LineRange,
    code_only: frozenset[int] | None = None,
    limit: int = MAX_CANDIDATES,
    comments: dict[int, int] | None = None,
) -> list[Suspect]:
    """The most surprising tokens of the `limit` most surprising lines in `focus`, strongest lines first.

    Up to SUSPECTS_PER_LINE tokens a line, strongest first. Lines without code
    (comments, docstrings) and trailing comments are left out: prose is always
    surprising and never the bug.
    """
    comments = comments or {}
    starts = _line_starts(text)
    by_line: dict[int, list[Suspect]] = {}
    for score in scores:
        if score.expected == score.text:
            continue
        expected_prob, actual_prob = math.exp(score.expected_logprob), math.exp(score.logprob)
        if expected_prob < MIN_EXPECTED_PROB or actual_prob > MAX_ACTUAL_PROB or _is_noise(text, score.start, score.text, score.expected):
            continue
        # A token that starts with a line break counts for the line it ends.
        line = bisect.bisect_right(starts, score.start) - 1
        if not focus[0] <= line <= focus[1] or (code_only is not None and line not in code_only):
            continue
        column = score.start - starts[line]
        if column >= comments.get(line, column + 1):
            continue
        suspect = _suspect(text, score, line, column)
        if suspect is not None:  # always, as the first choice passed the same checks
            by_line.setdefault(line, []).append(suspect)
    ranked = [sorted(found, key=lambda s: s.strength, reverse=True)[:SUSPECTS_PER_LINE] for found in by_line.values()]
    ranked.sort(key=lambda found: found[0].strength, reverse=True)
    return [suspect for found in ranked[:limit] for suspect in found]


def _suspect(text: str, score: TokenScore, line: int, column: int) -> Suspect | None:
    """The token at `score` as a suspect with the model's choices worth trying there; None when there are none."""
    ranked = [(score.expected, score.expected_logprob), *score.alternatives]
    choices = [
        (token, logprob)
        for token, logprob in ranked
        if math.exp(logprob) >= MIN_ALTERNATIVE_PROB and token != score.text and not _is_noise(text, score.start, score.text, token)
    ]
    if not choices:
        return None
    return Suspect(
        line, column, score.start, score.text, choices[0][0], math.exp(score.logprob), math.exp(choices[0][1]),
        tuple(token for token, _ in choices),
    )


def second_look(text: str, scores: list[TokenScore], places: Sequence[Suspect]) -> list[Suspect]:
    """Another model's view of the tokens a first model found suspect: its own choices there, where they differ.

    A second model that did not flag a place itself may still know the better
    token for it once asked; scores of a different tokenizer that do not start
    at the same character are skipped.
    """
    at = {score.start: score for score in scores}
    found = []
    for place in places:
        score = at.get(place.offset)
        suspect = _suspect(text, score, place.line, place.column) if score is not None else None
        if suspect is not None:
            found.append(suspect)
    return found


def line_text(text: str, line: int) -> str:
    return text.split("\n")[line]


def with_line(text: str, line: int, new_line: str) -> str:
    lines = text.split("\n")
    lines[line] = new_line
    return "\n".join(lines)


def proposed_line(backend: ModelBackend, text: str, suspect: Suspect, choice: str, cancel: threading.Event) -> str | None:
    """The suspect's line as the model would write it from `choice` on; None if it is the same."""
    original = line_text(text, suspect.line)
    head = original[: suspect.column]
    if "\n" in choice:
        # The model wanted the line to end (or to break) here.
        candidate = (head + choice.split("\n", 1)[0]).rstrip()
    else:
        request = GenerationRequest(
            prompt=[text[: suspect.offset] + choice],
            max_tokens=FIX_MAX_TOKENS,
            max_time_s=FIX_MAX_SECONDS,
            stop_check=lambda produced: "\n" in produced,
            cancel=cancel,
        )
        result = backend.generate(request)
        if result.stop_reason not in ("stop_check", "eos"):
            return None  # cancelled, or cut off mid-line: no complete proposal
        candidate = (head + choice + result.text.split("\n", 1)[0]).rstrip()
    if not candidate.strip() or candidate == original.rstrip():
        return None
    return candidate


@dataclass(frozen=True)
class Candidate:
    suspect: Suspect
    new_line: str
    # The new line goes before the suspect's line instead of replacing it: where the
    # model expected a statement that is not there (a missing `visited.add(node)`).
    insert: bool = False

    def replacement(self, text: str) -> str:
        """What replaces the suspect's line."""
        return self.new_line + "\n" + line_text(text, self.suspect.line) if self.insert else self.new_line

    def apply(self, text: str) -> str:
        return with_line(text, self.suspect.line, self.replacement(text))

    def describe(self, text: str) -> str:
        """One sentence for the user: the words that change, old and new."""
        if self.insert:
            return f"A line seems to be missing before this one; the model expects `{self.new_line.strip()}`."
        old, new = changed_words(line_text(text, self.suspect.line), self.new_line)
        return f"`{old}` looks wrong here; the model expects `{new}`." if new else f"`{old}` looks wrong here; the model expects it gone."


def draft_candidates(
    backend: ModelBackend,
    text: str,
    focus: LineRange,
    grammar: str | None,
    cancel: threading.Event,
    known: Sequence[Candidate] = (),
) -> list[Candidate] | None:
    """Suspect lines with the model's own versions of each (less those in `known`); None when it cannot score text.

    With `known` candidates from another model, this model also gives its own
    choices at the places that model found suspect.
    """
    scores = backend.score_text(text, cancel)
    if scores is None:
        return None
    suspects = find_suspects(text, scores, focus, code_lines(text, grammar), comments=comment_columns(text, grammar))
    own_places = {s.offset for s in suspects}
    others = list({k.suspect.offset: k.suspect for k in known if k.suspect.offset not in own_places}.values())
    suspects += second_look(text, scores, others)
    candidates: list[Candidate] = []
    tried: set[tuple[int, str]] = set()
    proposed = 0  # candidates from the model's own lines; their one-change versions come on top
    for suspect in suspects:
        for choice in suspect.choices:
            if proposed >= MAX_PROPOSALS or cancel.is_set():
                return candidates
            new_line = proposed_line(backend, text, suspect, choice, cancel)
            if new_line is None:
                continue
            # The line as the model wrote it, and each of its changes alone (line_edits.py says why)
            # where that still parses: half of a bracket pair is no fix.
            alone = one_change_versions(line_text(text, suspect.line), new_line)
            alone = [v for v in alone if edit_parses(text, grammar, suspect.line, suspect.line, v)]
            for version in [new_line, *alone]:
                if (suspect.line, version) not in tried:
                    tried.add((suspect.line, version))
                    found = _checked_candidates(text, grammar, suspect, version, known, may_insert=version == new_line)
                    proposed += len(found) if version == new_line else 0
                    candidates += found
    return candidates


def _checked_candidates(
    text: str, grammar: str | None, suspect: Suspect, new_line: str, known: Sequence[Candidate], may_insert: bool = True
) -> list[Candidate]:
    """`new_line` as a replacement of the suspect's line (and as an insertion before it), less no-ops, deletions and repeats."""
    original = line_text(text, suspect.line)
    # Surprised by the line's first word, the model may want a statement before it.
    at_line_start = may_insert and not original[: suspect.column].strip()
    kept = []
    for insert in (False, True) if at_line_start else (False,):
        candidate = Candidate(suspect, new_line, insert)
        if any(k.suspect.line == suspect.line and k.new_line == new_line and k.insert == insert for k in known):
            continue
        replacement = candidate.replacement(text)
        # Respacing a line or dropping its comment makes a file more likely and fixes nothing;
        # turning a `def` line into a statement deletes a function.
        if changes_code(original, replacement, grammar) and keeps_definitions(text, grammar, suspect.line, suspect.line, replacement):
            kept.append(candidate)
    return kept


def likelihood_gains(backend: ModelBackend, text: str, variants: list[str], cancel: threading.Event) -> list[float] | None:
    """How much more likely (in nats) the whole file is as each variant; None if unscorable.

    The scan only saw the code before each token; this sees the lines after a
    change too, so a "fix" that the rest of the file contradicts scores low.
    """
    base = backend.score_text(text, cancel)
    if base is None:
        return None
    base_total = sum(s.logprob for s in base)
    gains: list[float] = [0.0] * len(variants)
    # Latest change first: the backend reuses what a text shares with the one it
    # scored last, so each variant then costs only the tokens from its own change on.
    for index in sorted(range(len(variants)), key=lambda i: _common_prefix(text, variants[i]), reverse=True):
        scores = backend.score_text(variants[index], cancel)
        if scores is None:
            return None
        gains[index] = sum(s.logprob for s in scores) - base_total
    return gains


def _common_prefix(a: str, b: str) -> int:
    return len(os.path.commonprefix((a, b)))
