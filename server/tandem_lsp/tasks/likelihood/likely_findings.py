"""Review findings from likelihood: the one-line fixes the verifier finds clearly more likely (line_fixes.py).

The verifier is the reasoning model in a deep review, else the drafting model
itself. This catches the one-token slips (`<` for `<=`, a missing `+ 1`,
swapped arguments) that small chat models miss, and it cannot produce an
unreadable answer.
"""

from __future__ import annotations

import threading

from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.code_checks import LineRange
from tandem_lsp.tasks.answer_json import RawFinding
from tandem_lsp.tasks.findings import Finding, check_finding
from tandem_lsp.tasks.router import role_for
from tandem_lsp.tasks.likelihood.line_fixes import weighed_line_fixes

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
    weighed = await weighed_line_fixes(registry, text, grammar, focus, drafter, role_for("verify") if deep else drafter, cancel)
    if weighed is None:
        return [], ""
    findings: list[Finding] = []
    for fix in weighed.clear():
        candidate = fix.candidate
        if any(f.start_line == candidate.suspect.line for f in findings):
            continue  # another fix of a line already reported (a replacement and an insertion)
        line = candidate.suspect.line + 1
        raw = RawFinding(line, line, "warning" if not findings else "info", candidate.describe(text), candidate.replacement(text))
        checked = check_finding(raw, text, grammar, focus, status="likely")
        if checked is not None and not checked.noop and checked.finding.replacement is not None:
            findings.append(checked.finding)
        if len(findings) >= MAX_REPORTED:
            break
    return findings, weighed.model if weighed.fixes else ""
