"""Review findings from likelihood: the general model flags and fixes, the verifier weighs the fix.

The drafting model scans the code once (tasks/likelihood/surprise.py) and proposes its own
version of each line it found unlikely. The verifier - the reasoning model in a
deep review, else the drafting model itself - scores the whole file with and
without each proposed line (adding its own suspects when it is a second
model): a fix it finds clearly more likely, reading the lines after the change
too, becomes a finding with a quick fix. This catches
the one-token slips (`<` for `<=`, a missing `+ 1`, swapped arguments) that
small chat models miss, and it cannot produce an unreadable answer.
"""

from __future__ import annotations

import threading

from tandem_lsp.models.backend import ModelBackend
from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.tasks.syntax_checks import LineRange
from tandem_lsp.tasks.answer_json import RawFinding
from tandem_lsp.tasks.findings import Finding, check_finding
from tandem_lsp.tasks.router import role_for, same_model
from tandem_lsp.tasks.likelihood.surprise import Candidate, draft_candidates, likelihood_gains

# The file must become this much more likely with the fix (nats; e^3 ~ 20x).
MIN_GAIN = 3.0
# Findings one scan may report, on different lines: the strongest as a warning,
# the runner-up as information (a second suspicion, worth a look).
MAX_REPORTED = 2


async def likelihood_findings(
    registry: ModelRegistry,
    text: str,
    grammar: str | None,
    focus: LineRange,
    deep: bool,
    cancel: threading.Event,
) -> tuple[list[Finding], str]:
    """Findings of the likelihood pass and the model file that weighed them ("" when none did)."""
    drafter = role_for("review")
    verifier = role_for("verify") if deep else drafter
    second_opinion = not same_model(registry.settings, drafter, verifier)
    drafted = await registry.run(drafter, lambda backend: draft_candidates(backend, text, focus, grammar, cancel), cancel) or []
    if not drafted and not second_opinion:
        return [], ""

    def weigh(backend: ModelBackend, add_own: bool) -> tuple[list[Candidate], list[float] | None, str]:
        candidates = list(drafted)
        if add_own:
            # The verifier reads the file anyway to weigh the fixes: its own
            # suspects cost only their short continuations, and it knows more
            # (its version of a line the drafter flagged too may be the right one).
            candidates += draft_candidates(backend, text, focus, grammar, cancel, drafted) or []
        return candidates, likelihood_gains(backend, text, [c.apply(text) for c in candidates], cancel), backend.name

    candidates, gains, model = await registry.run(verifier, lambda backend: weigh(backend, second_opinion), cancel)
    if gains is None and second_opinion and drafted:
        # The verifier cannot score text (an HTTP model): the drafter weighs its own fixes.
        candidates, gains, model = await registry.run(drafter, lambda backend: weigh(backend, False), cancel)
    if not candidates or gains is None:
        return [], ""
    ranked = sorted(((gain, index) for index, gain in enumerate(gains) if gain >= MIN_GAIN), reverse=True)
    findings: list[Finding] = []
    for _, index in ranked:
        candidate = candidates[index]
        if any(f.start_line == candidate.suspect.line for f in findings):
            continue  # another fix of a line already reported (a replacement and an insertion)
        line = candidate.suspect.line + 1
        raw = RawFinding(line, line, "warning" if not findings else "info", candidate.describe(text), candidate.replacement(text))
        checked = check_finding(raw, text, grammar, focus, status="likely")
        if checked is not None and not checked.noop and checked.finding.replacement is not None:
            findings.append(checked.finding)
        if len(findings) >= MAX_REPORTED:
            break
    return findings, model
