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
import difflib
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from tandem_lsp.models.backend import GenerationRequest, ModelBackend, TokenScore
from tandem_lsp.tasks.code_ranges import LineRange, changes_code, code_lines, comment_columns, keeps_definitions

# The model must have bet on something else (at least this likely) and found
# what is there this unlikely: a confident disagreement, not mere uncertainty.
MIN_EXPECTED_PROB = 0.3
MAX_ACTUAL_PROB = 0.05
# Suspect lines a scan proposes fixes for (each costs a short generation).
MAX_CANDIDATES = 4
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


def _is_noise(text: str, score: TokenScore) -> bool:
    """Disagreements that say nothing about correctness."""
    actual, expected = score.text, score.expected
    if actual.strip() == expected.strip():
        return True  # whitespace or blank lines
    if expected.lstrip().startswith(_PROSE_OPENERS):
        return True  # the model wanted a comment or docstring here
    before = text[score.start - 1] if score.start > 0 else ""
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
    """The most surprising token of each line in `focus`, strongest lines first.

    Lines without code (comments, docstrings) and trailing comments are left
    out: prose is always surprising and never the bug.
    """
    comments = comments or {}
    starts = _line_starts(text)
    best: dict[int, Suspect] = {}
    for score in scores:
        if score.expected == score.text:
            continue
        expected_prob, actual_prob = math.exp(score.expected_logprob), math.exp(score.logprob)
        if expected_prob < MIN_EXPECTED_PROB or actual_prob > MAX_ACTUAL_PROB or _is_noise(text, score):
            continue
        # A token that starts with a line break counts for the line it ends.
        line = bisect.bisect_right(starts, score.start) - 1
        if not focus[0] <= line <= focus[1] or (code_only is not None and line not in code_only):
            continue
        column = score.start - starts[line]
        if column >= comments.get(line, column + 1):
            continue
        suspect = Suspect(line, column, score.start, score.text, score.expected, actual_prob, expected_prob)
        if line not in best or suspect.strength > best[line].strength:
            best[line] = suspect
    return sorted(best.values(), key=lambda s: s.strength, reverse=True)[:limit]


def line_text(text: str, line: int) -> str:
    return text.split("\n")[line]


def with_line(text: str, line: int, new_line: str) -> str:
    lines = text.split("\n")
    lines[line] = new_line
    return "\n".join(lines)


def proposed_line(backend: ModelBackend, text: str, suspect: Suspect, cancel: threading.Event) -> str | None:
    """The suspect's line as the model would write it, from its expected token on; None if it is the same."""
    original = line_text(text, suspect.line)
    head = original[: suspect.column]
    if "\n" in suspect.expected:
        # The model wanted the line to end (or to break) here.
        candidate = (head + suspect.expected.split("\n", 1)[0]).rstrip()
    else:
        request = GenerationRequest(
            prompt=[text[: suspect.offset] + suspect.expected],
            max_tokens=FIX_MAX_TOKENS,
            max_time_s=FIX_MAX_SECONDS,
            stop_check=lambda produced: "\n" in produced,
            cancel=cancel,
        )
        result = backend.generate(request)
        if result.stop_reason not in ("stop_check", "eos"):
            return None  # cancelled, or cut off mid-line: no complete proposal
        candidate = (head + suspect.expected + result.text.split("\n", 1)[0]).rstrip()
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


_WORDS = re.compile(r"\w+|[^\w\s]+|\s+")


def changed_words(old: str, new: str) -> tuple[str, str]:
    """The stretch of `old` that differs from `new` (whole words), and what replaces it."""
    a, b = _WORDS.findall(old.strip()), _WORDS.findall(new.strip())
    changes = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not changes:
        return "", ""
    (_, i1, _, j1, _), (_, _, i2, _, j2) = changes[0], changes[-1]
    if not "".join(a[i1:i2]).strip():
        # Only an insertion: show it with the word it follows, so the old side is not empty.
        back = i1
        while back > 0 and (back == i1 or not a[back].strip()):
            back -= 1
        i1, j1 = back, j1 - (i1 - back)
    return "".join(a[i1:i2]).strip(), "".join(b[j1:j2]).strip()


def draft_candidates(
    backend: ModelBackend,
    text: str,
    focus: LineRange,
    grammar: str | None,
    cancel: threading.Event,
    known: Sequence[Candidate] = (),
) -> list[Candidate] | None:
    """Suspect lines with the model's own version of each (less those in `known`); None when it cannot score text."""
    scores = backend.score_text(text, cancel)
    if scores is None:
        return None
    candidates = []
    for suspect in find_suspects(text, scores, focus, code_lines(text, grammar), comments=comment_columns(text, grammar)):
        new_line = proposed_line(backend, text, suspect, cancel)
        if new_line is None:
            continue
        original = line_text(text, suspect.line)
        # Surprised by the line's first word, the model may want a statement before it.
        at_line_start = not original[: suspect.column].strip()
        for insert in (False, True) if at_line_start else (False,):
            candidate = Candidate(suspect, new_line, insert)
            if any(k.suspect.line == suspect.line and k.new_line == new_line and k.insert == insert for k in known):
                continue
            replacement = candidate.replacement(text)
            # Respacing a line or dropping its comment makes a file more likely and fixes nothing;
            # turning a `def` line into a statement deletes a function.
            if changes_code(original, replacement, grammar) and keeps_definitions(text, grammar, suspect.line, suspect.line, replacement):
                candidates.append(candidate)
    return candidates


def likelihood_gains(backend: ModelBackend, text: str, variants: list[str], cancel: threading.Event) -> list[float] | None:
    """How much more likely (in nats) the whole file is as each variant; None if unscorable.

    The scan only saw the code before each token; this sees the lines after a
    change too, so a "fix" that the rest of the file contradicts scores low.
    """
    base = backend.score_text(text, cancel)
    if base is None:
        return None
    base_total = sum(s.logprob for s in base)
    gains = []
    for variant in variants:
        scores = backend.score_text(variant, cancel)
        if scores is None:
            return None
        gains.append(sum(s.logprob for s in scores) - base_total)
    return gains
