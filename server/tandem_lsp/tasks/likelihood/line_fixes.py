"""One-line fixes weighed by the whole file: the drafting model scans, the verifier adds its own and weighs them all.

The drafting model reads the code once and proposes its own version of each
line it found unlikely (surprise.py). The verifier - a second model, when the
roles name one - gives its own versions too (at its own suspects and at the
drafter's) and scores the whole file with each fix in place: the gain, in
nats, says how much more likely the file reads with it, lines after the change
included. Review turns clear gains into findings (likely_findings.py); debug
weighs them against the chat model's rewrite (tasks/debug.py).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from tandem_lsp.models.backend import ModelBackend
from tandem_lsp.models.registry import ModelRegistry, Role
from tandem_lsp.tasks.likelihood.surprise import Candidate, draft_candidates, likelihood_gains
from tandem_lsp.tasks.router import same_model
from tandem_lsp.code_checks import LineRange, code_lines

# A fix counts when the file becomes this much more likely with it (nats; e^3 ~ 20x).
MIN_GAIN = 3.0


@dataclass(frozen=True)
class WeighedFix:
    candidate: Candidate
    gain: float


@dataclass
class WeighedFixes:
    # Every proposed fix with its gain, the largest first.
    fixes: list[WeighedFix]
    # The model file that weighed them.
    model: str
    # Gains of the whole-file variants the caller asked to have weighed alongside, in its order
    # (None for one that changes what the models were not given to read).
    variant_gains: list[float | None] = field(default_factory=list)

    def clear(self) -> list[WeighedFix]:
        """The fixes that gain at least MIN_GAIN, the largest first."""
        return [fix for fix in self.fixes if fix.gain >= MIN_GAIN]


async def weighed_line_fixes(
    registry: ModelRegistry,
    text: str,
    grammar: str | None,
    focus: LineRange,
    drafter: Role,
    verifier: Role,
    cancel: threading.Event,
    *,
    skip_lines: Collection[int] = (),
    variants: Sequence[str] = (),
    skip_closing_prose: bool = False,
) -> WeighedFixes | None:
    """Fixes of lines in `focus` (none on `skip_lines`), each weighed; None when no model can score text.

    `variants` (whole-file texts, such as a chat model's rewrite) are weighed
    in the same pass, against the same reading of the file. With
    `skip_closing_prose` the models read the file only up to its last line of
    code: a closing docstring or comment block is read again for every fix
    weighed, most of the time spent on a file that ends in one.
    """
    second_opinion = not same_model(registry.settings, drafter, verifier)
    full = text
    if skip_closing_prose:
        text = without_closing_prose(text, grammar)
    tail = full[len(text) :]
    # A variant that changes the closing prose cannot be weighed against the shortened reading.
    trimmed = [v[: len(v) - len(tail)] if v.endswith(tail) else None for v in variants]
    to_weigh = [v for v in trimmed if v is not None]

    def kept(candidates: Sequence[Candidate] | None) -> list[Candidate]:
        return [c for c in candidates or [] if c.suspect.line not in skip_lines]

    drafted = kept(await registry.run(drafter, lambda backend: draft_candidates(backend, text, focus, grammar, cancel), cancel))

    def weigh(backend: ModelBackend, add_own: bool) -> tuple[list[Candidate], list[float] | None, str]:
        candidates = list(drafted)
        if add_own:
            # The verifier reads the file anyway to weigh the fixes: its own
            # suspects cost only their short continuations, and it knows more
            # (its version of a line the drafter flagged too may be the right one).
            candidates += kept(draft_candidates(backend, text, focus, grammar, cancel, drafted))
        texts = [c.apply(text) for c in candidates] + to_weigh
        return candidates, likelihood_gains(backend, text, texts, cancel) if texts else [], backend.name

    if not drafted and not second_opinion and not to_weigh:
        return WeighedFixes([], "")
    candidates, gains, model = await registry.run(verifier, lambda backend: weigh(backend, second_opinion), cancel)
    if gains is None and second_opinion:
        # The verifier cannot score text (an HTTP model): the drafter weighs its own fixes.
        candidates, gains, model = await registry.run(drafter, lambda backend: weigh(backend, False), cancel)
    if gains is None:
        return None
    fixes = sorted((WeighedFix(c, g) for c, g in zip(candidates, gains)), key=lambda fix: fix.gain, reverse=True)
    variant_gains_left = iter(gains[len(candidates) :])
    return WeighedFixes(fixes, model, [None if v is None else next(variant_gains_left) for v in trimmed])


def without_closing_prose(text: str, grammar: str | None) -> str:
    """`text` up to the end of its last line of code (all of it when nothing but blank lines follows, or the language is unknown)."""
    lines = code_lines(text, grammar)
    if not lines:
        return text
    code = "\n".join(text.split("\n")[: max(lines) + 1])
    return text if not text[len(code) :].strip() else code  # blank lines cost nothing to read
