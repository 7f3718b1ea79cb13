"""Review a selection, the enclosing function or a file: the general model drafts findings,
the reasoning model verifies them when asked to (deep) or when the draft failed a check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from tandem_lsp.languages import grammar_for
from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.tasks.chat import Progress, TaskCancelled, chat
from tandem_lsp.code_checks import LineRange, review_scope, split_lines
from tandem_lsp.tasks.answer_json import RawFinding, as_line, coerce_finding, load_json, read_findings
from tandem_lsp.tasks.findings import Checked, Finding, check_finding, dedupe, findings_schema, validate_findings
from tandem_lsp.tasks.likelihood.likely_findings import likelihood_findings
from tandem_lsp.tasks.prompts import CodeView, review_messages, verify_messages, verify_schema
from tandem_lsp.tasks.router import model_kind, plan_verification, role_for

# Longest stretch of code one review shows the model (the context window is small).
MAX_REVIEW_LINES = 250
# Lines of surrounding code shown around a short selection.
CONTEXT_LINES = 8
# A verifier that is the drafting model itself gets this share of the token budget.
CHEAP_SHARE = 0.5
# What the user is told when the drafting model's answer held no JSON at all.
UNREADABLE_NOTE = "the review model's answer could not be read (not valid JSON); no findings shown"
# New findings a verifier may add.
MAX_NEW_FINDINGS = 3


@dataclass
class ReviewResult:
    findings: list[Finding]
    # Reasoning text of the models, for the user to read on request; never code.
    reasoning: str = ""
    # Role -> model file name that did the work.
    models: dict[str, str] = field(default_factory=dict)
    scope: LineRange = (0, 0)
    verified: bool = False
    # Why verification ran or did not, or why there is nothing to show.
    note: str = ""
    # False when the drafting model's answer held no JSON: not the same as "no findings".
    readable: bool = True


def code_view(text: str, language: str, path: str, focus: LineRange) -> tuple[CodeView, LineRange]:
    """What the model sees: the focus (capped) with a little context around a short one."""
    lines = split_lines(text)
    focus = (focus[0], min(focus[1], focus[0] + MAX_REVIEW_LINES - 1))
    pad = CONTEXT_LINES if focus[1] - focus[0] < 2 * CONTEXT_LINES else 0
    window = (max(0, focus[0] - pad), min(len(lines) - 1, focus[1] + pad))
    return CodeView(language, path, lines, window), focus


async def review(
    registry: ModelRegistry,
    text: str,
    path: str,
    language: str,
    selection: LineRange | None = None,
    deep: bool = False,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
) -> ReviewResult:
    """The chat review, joined by the likelihood pass's findings (when enabled and the model can score)."""
    cancel = cancel or threading.Event()
    result = await _chat_review(registry, text, path, language, selection, deep, cancel, progress)
    if not registry.settings.review.likelihood_scan:
        return result
    if progress is not None:
        progress("scanning for unlikely code", 0)
    scanned, model = await likelihood_findings(registry, text, grammar_for(language, path), result.scope, deep, cancel)
    if cancel.is_set():
        raise TaskCancelled()
    if scanned:
        result.findings = dedupe(scanned + result.findings, registry.settings.review.max_findings)
        result.models["likelihood"] = model
    return result


async def _chat_review(
    registry: ModelRegistry,
    text: str,
    path: str,
    language: str,
    selection: LineRange | None,
    deep: bool,
    cancel: threading.Event,
    progress: Progress | None,
) -> ReviewResult:
    """Findings the general model drafts in JSON, verified when the plan says so."""
    settings = registry.settings
    limit = settings.review.max_findings
    grammar = grammar_for(language, path)
    view, focus = code_view(text, language, path, review_scope(text, grammar, selection, path))

    role = role_for("review")
    kind = model_kind(settings, role)
    draft = await chat(
        registry, role, kind, review_messages(kind, view, focus, limit), findings_schema(limit), settings.review.max_tokens, cancel,
        progress=progress, stage="drafting review",
    )
    drafted, readable = read_findings(draft.content)
    checked = validate_findings(drafted, text, grammar, focus, limit)
    result = ReviewResult(checked.findings, draft.reasoning, {role: draft.model}, focus)

    plan = plan_verification(settings, deep, checked.failed_checks or not readable, bool(checked.findings))
    result.note = plan.reason if readable else UNREADABLE_NOTE
    result.readable = readable
    # The drafting model checking an empty draft again finds nothing new; skip it.
    if not plan.verify or (plan.cheap and not checked.findings):
        return result

    drafts = [(f, _broken_text(f, checked.broken)) for f in checked.findings]
    verifier = role_for("verify")
    vkind = model_kind(settings, verifier)
    budget = settings.review.max_tokens
    if plan.cheap:
        budget = max(64, int(budget * CHEAP_SHARE))
    answer = await chat(
        registry,
        verifier,
        vkind,
        verify_messages(vkind, view, drafts, focus),
        verify_schema(0 if plan.cheap else MAX_NEW_FINDINGS),
        budget,
        cancel,
        progress=progress,
        stage="verifying findings",
    )
    result.models[verifier] = answer.model
    result.reasoning = "\n\n".join(r for r in (result.reasoning, answer.reasoning) if r)
    verdicts = load_json(answer.content)
    if not isinstance(verdicts, dict):
        result.note += "; the verifier's answer could not be read, showing the draft"
        return result
    result.findings = apply_verdicts(verdicts, drafts, text, grammar, focus, limit)
    result.verified = True
    return result


def _broken_text(finding: Finding, broken: list[Checked]) -> str | None:
    return next((c.broken_replacement for c in broken if c.finding is finding), None)


def apply_verdicts(
    answer: dict[str, Any],
    drafts: list[tuple[Finding, str | None]],
    text: str,
    grammar: str | None,
    focus: LineRange,
    limit: int,
) -> list[Finding]:
    """Draft findings after the verifier's verdicts, plus the ones it added.

    A draft without a verdict stays (unverified); a rejected one goes; a
    correction is checked like any finding and, if it fails, the draft stays.
    """
    verdicts: dict[int, dict] = {}
    for item in answer.get("verdicts") or []:
        if isinstance(item, dict) and as_line(item.get("id")) is not None:
            verdicts.setdefault(as_line(item.get("id")), item)
    kept: list[Finding] = []
    for index, (finding, _) in enumerate(drafts, start=1):
        verdict = verdicts.get(index)
        word = str(verdict.get("verdict", "")).lower() if verdict else ""
        if word == "reject":
            continue
        if word == "confirm":
            kept.append(replace(finding, status="confirmed"))
        elif word == "correct":
            kept.append(_corrected(finding, verdict, text, grammar, focus))
        else:
            kept.append(finding)
    for item in answer.get("new_findings") or []:
        raw = coerce_finding(item)
        checked = check_finding(raw, text, grammar, focus, status="new") if raw else None
        if checked is not None and not checked.noop:
            kept.append(checked.finding)
    return dedupe(kept, limit)


def _corrected(finding: Finding, verdict: dict, text: str, grammar: str | None, focus: LineRange) -> Finding:
    line = as_line(verdict.get("line"))
    end_line = as_line(verdict.get("end_line"))
    message = verdict.get("message")
    replacement = verdict.get("replacement")
    raw = RawFinding(
        line=line if line is not None else finding.start_line + 1,
        end_line=end_line if end_line is not None else (line if line is not None else finding.end_line + 1),
        severity=finding.severity,
        message=message.strip() if isinstance(message, str) and message.strip() else finding.message,
        replacement=replacement if isinstance(replacement, str) else finding.replacement,
    )
    checked = check_finding(raw, text, grammar, focus, status="corrected")
    if checked is None or checked.noop:
        return replace(finding, status="confirmed")
    return checked.finding
