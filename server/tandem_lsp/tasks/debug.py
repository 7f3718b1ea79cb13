"""Explain an error and propose a fix: the general model drafts, the reasoning model decides.

Policy (why the pair beats either model alone):
- The general model drafts a fix (fast); the reasoning model writes its own
  fix independently, so a weak draft cannot lead it astray.
- When both fixes give the same code, that is the answer. When they differ,
  the reasoning model judges the two candidates against the error - choosing
  between concrete fixes is easier than writing one, so a right draft can
  rescue a wrong own fix.
- Mechanical checks come first: a fix must cite lines that exist and must
  parse; a candidate that fails them is out, so a bad answer from either model
  never hides a good one from the other.
- Candidates are weighed by likelihood when the reasoning model runs in
  process: the general model adds its own versions of the lines it finds
  unlikely (tasks/surprise.py), the reasoning model adds its own from the pass
  it makes anyway, and it scores the whole file under each candidate; one that
  makes the file clearly more likely wins. A chat fix that rewrites a function
  is weighed as its changed lines, each alone (tasks/line_edits.py).
  Scoring reads the code after each change too, and unlike a judging chat it
  cannot be talked into a wrong choice by a confident explanation.
- When both roles are one model, there is a single chat pass (a model judging
  its own fix against itself adds a wait, not a second opinion), still weighed
  against the lines it finds unlikely.
The user's program is never run.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field
from typing import Sequence

from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.tasks.chat import ChatOutcome, Progress, chat
from tandem_lsp.tasks.code_ranges import LineRange, changes_code, edit_parses, grammar_name, keeps_definitions, replace_lines, split_lines
from tandem_lsp.tasks.line_edits import changed_blocks, one_change_versions
from tandem_lsp.tasks.likely_findings import MIN_GAIN
from tandem_lsp.tasks.findings import RawFinding, as_line, check_finding, load_json
from tandem_lsp.models.backend import ChatMessage, ModelBackend
from tandem_lsp.tasks.prompts import CodeView, FixProposal, debug_messages, fix_schema, judge_messages, judge_schema, repair_request
from tandem_lsp.tasks.router import model_kind, role_for, same_model
from tandem_lsp.tasks.surprise import draft_candidates, likelihood_gains

# Files up to this many lines are shown whole; longer ones as a window around the fault.
WHOLE_FILE_LINES = 200
WINDOW_LINES = 60
MAX_ERROR_CHARS = 3000
MAX_CONTEXT_CHARS = 4000


@dataclass
class DebugResult:
    explanation: str
    fix: FixProposal | None = None
    # The whole document with the fix applied (None when no usable fix).
    new_text: str | None = None
    reasoning: str = ""
    models: dict[str, str] = field(default_factory=dict)
    # Which proposal was used: "agreed", "reasoning fix", "draft chosen", "draft", "single pass" or "none".
    source: str = "none"

    def diff(self, old_text: str, path: str = "file") -> str:
        if self.new_text is None:
            return ""
        return unified_diff(old_text, self.new_text, path)


def unified_diff(old_text: str, new_text: str, path: str = "file") -> str:
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True), new_text.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )


def apply_fix(text: str, fix: FixProposal) -> str:
    lines = replace_lines(split_lines(text), fix.start_line, fix.end_line, fix.replacement)
    return "\n".join(lines) + ("\n" if text.endswith("\n") or not text else "")


def error_lines(error_text: str, path: str, line_count: int) -> LineRange | None:
    """Lines of this file that a traceback or compiler message points at (0-based)."""
    name = re.escape(path.rsplit("/", 1)[-1]) if path else None
    numbers: list[int] = []
    if name:
        patterns = (rf'{name}", line (\d+)', rf"{name}:(\d+)")
        for pattern in patterns:
            numbers += [int(n) for n in re.findall(pattern, error_text)]
    numbers = [n - 1 for n in numbers if 1 <= n <= line_count]
    if not numbers:
        return None
    # The innermost frame of a Python traceback is the last one listed.
    return (numbers[-1], numbers[-1])


def code_window(lines: Sequence[str], focus: LineRange | None) -> LineRange:
    last = len(lines) - 1
    if last < WHOLE_FILE_LINES:
        return (0, last)
    if focus is None:
        return (0, WHOLE_FILE_LINES - 1)
    return (max(0, focus[0] - WINDOW_LINES), min(last, focus[1] + WINDOW_LINES))


def parse_fix(answer: ChatOutcome, text: str, grammar: str | None, window: LineRange) -> tuple[FixProposal | None, dict]:
    """A checked fix from a model answer (None when unusable) and the raw answer object.

    The answer object gets "_retry" set to (start, end, problem) when its replacement did not parse or
    changed nothing: usually a right idea badly written, worth one retry.
    """
    value = load_json(answer.content)
    if not isinstance(value, dict):
        return None, {}
    explanation = value.get("explanation")
    explanation = explanation.strip() if isinstance(explanation, str) else ""
    line = as_line(value.get("line"))
    end_line = as_line(value.get("end_line"))
    replacement = value.get("replacement")
    if line is None or not isinstance(replacement, str):
        return None, value
    raw = RawFinding(line, end_line if end_line is not None else line, "error", explanation or "fix", replacement)
    checked = check_finding(raw, text, grammar, window)
    if checked is not None and (checked.broken_replacement is not None or checked.noop):
        problem = "changes nothing" if checked.noop else "does not parse"
        value["_retry"] = (checked.finding.start_line, checked.finding.end_line, problem)
    if checked is None or checked.finding.replacement is None:
        return None, value
    finding = checked.finding
    return FixProposal(finding.start_line, finding.end_line, finding.replacement, explanation), value


def _explanation(value: dict) -> str:
    text = value.get("explanation") if isinstance(value, dict) else None
    return text.strip() if isinstance(text, str) else ""


async def debug(
    registry: ModelRegistry,
    text: str,
    path: str,
    language: str,
    error_text: str,
    line_range: LineRange | None = None,
    cancel: threading.Event | None = None,
    context_snippets: Sequence[str] = (),
    draft_first: bool | None = None,
    progress: Progress | None = None,
) -> DebugResult:
    """Explain `error_text` and propose a fix. `draft_first` None applies the policy above."""
    cancel = cancel or threading.Event()
    settings = registry.settings
    grammar = grammar_name(language, path)
    lines = split_lines(text)
    error = error_text.strip()[-MAX_ERROR_CHARS:]
    snippets = _trim_snippets(context_snippets)
    focus = line_range or error_lines(error, path, len(lines))
    window = code_window(lines, focus)
    view = CodeView(language, path, lines, window)
    budget = settings.review.max_tokens

    general, reasoner = role_for("review"), role_for("debug")
    if draft_first is None:
        draft_first = not same_model(settings, general, reasoner)
    result = DebugResult(explanation="")

    draft: FixProposal | None = None
    draft_value: dict = {}
    if draft_first:
        kind = model_kind(settings, general)
        answer = await chat(
            registry, general, kind, debug_messages(kind, view, error, snippets, focus), fix_schema(), budget, cancel,
            progress=progress, stage="drafting a fix",
        )
        result.models[general] = answer.model
        result.reasoning = answer.reasoning
        draft, draft_value = parse_fix(answer, text, grammar, window)

    kind = model_kind(settings, reasoner)
    answer = await chat(
        registry, reasoner, kind, debug_messages(kind, view, error, snippets, focus), fix_schema(), budget, cancel,
        progress=progress, stage="finding a fix",
    )
    result.models[reasoner] = answer.model
    result.reasoning = "\n\n".join(r for r in (result.reasoning, answer.reasoning) if r)
    own, own_value = parse_fix(answer, text, grammar, window)
    if own is None and "_retry" in own_value:
        retry = debug_messages(kind, view, error, snippets, focus) + [
            ChatMessage("assistant", answer.content),
            ChatMessage("user", repair_request(language, *own_value["_retry"])),
        ]
        again = await chat(registry, reasoner, kind, retry, fix_schema(), budget, cancel, progress=progress, stage="repairing the fix")
        own, repaired_value = parse_fix(again, text, grammar, window)
        own_value = repaired_value or own_value

    # Weighing by likelihood: the reasoning model scores the whole file under each
    # candidate (the chat fixes and the general model's own versions of the lines it
    # found unlikely) and the clearly most likely one wins without a judging chat.
    weighed: tuple[FixProposal, str] | None = None
    if settings.review.likelihood_scan and not (own is not None and draft is not None and _same_code(apply_fix(text, own), apply_fix(text, draft))):
        scanned = await registry.run(general, lambda backend: draft_candidates(backend, text, window, grammar, cancel), cancel) or []

        def weigh(backend: ModelBackend) -> tuple[FixProposal, str] | None:
            chat_fixes = [(own, "reasoning fix" if draft_first else "single pass"), (draft, "draft chosen")]
            candidates = [(part, label) for fix, label in chat_fixes if fix is not None for part in _with_single_changes(text, fix, grammar)]
            found = list(scanned)
            if draft_first:
                # A second model: it reads the file to weigh the fixes anyway, so its own suspects come cheap.
                found += draft_candidates(backend, text, window, grammar, cancel, scanned) or []
            candidates += [(FixProposal(c.suspect.line, c.suspect.line, c.replacement(text), f"Line {c.suspect.line + 1}: {c.describe(text)}"), "likely line") for c in found]
            return _most_likely(backend, text, candidates, cancel)

        weighed = await registry.run(reasoner, weigh, cancel)

    if weighed is not None:
        result.fix, result.source = weighed
    elif own is not None and draft is not None:
        if _same_code(apply_fix(text, own), apply_fix(text, draft)):
            result.fix, result.source = own, "agreed"
        else:
            verdict = await chat(
                registry, reasoner, kind, judge_messages(kind, view, error, snippets, (own, draft)), judge_schema(),
                budget, cancel, progress=progress, stage="comparing fixes",
            )
            result.reasoning = "\n\n".join(r for r in (result.reasoning, verdict.reasoning) if r)
            choice = load_json(verdict.content)
            picked_draft = isinstance(choice, dict) and str(choice.get("choice", "")).strip().upper() == "B"
            result.fix, result.source = (draft, "draft chosen") if picked_draft else (own, "reasoning fix")
    elif own is not None:
        result.fix, result.source = own, ("reasoning fix" if draft_first else "single pass")
    elif draft is not None:
        result.fix, result.source = draft, "draft"
    result.explanation = (
        (result.fix.explanation if result.fix else "")
        or _explanation(own_value)
        or _explanation(draft_value)
        or "The model proposed no usable fix."
    )
    if result.fix is not None:
        result.new_text = apply_fix(text, result.fix)
    return result


def _most_likely(
    backend: ModelBackend, text: str, candidates: list[tuple[FixProposal, str]], cancel: threading.Event
) -> tuple[FixProposal, str] | None:
    """The candidate that makes the file clearly more likely to `backend` than it is now, if any (None when it cannot score).

    Only local edits are weighed: a file's likelihood rises with every token
    removed, so a "fix" that rewrites a block into fewer lines (dropping a
    docstring, say) would win by deleting text.
    """
    candidates = [(fix, label) for fix, label in candidates if _local_edit(fix)]
    if not candidates:
        return None
    gains = likelihood_gains(backend, text, [apply_fix(text, fix) for fix, _ in candidates], cancel)
    if not gains:
        return None
    best = max(range(len(candidates)), key=lambda i: gains[i])
    return candidates[best] if gains[best] >= MIN_GAIN else None


# Weighed fixes replace at most this many lines, and keep their number within one.
MAX_WEIGHED_LINES = 3


def _local_edit(fix: FixProposal) -> bool:
    replaced = fix.end_line - fix.start_line + 1
    return replaced <= MAX_WEIGHED_LINES and abs(len(fix.replacement.splitlines()) - replaced) <= 1


def _with_single_changes(text: str, fix: FixProposal, grammar: str | None) -> list[FixProposal]:
    """`fix`, then each of its changed blocks alone and each change of a one-line block alone (line_edits.py says why).

    A chat fix that rewrites a function to change one line becomes that
    one-line change, which can be weighed; parts that no longer parse, change
    no code or drop a definition are left out.
    """
    lines = split_lines(text)
    parts = [fix]
    for first, last, new_lines in changed_blocks(lines[fix.start_line : fix.end_line + 1], fix.replacement.splitlines()):
        start, end = fix.start_line + first, fix.start_line + last
        versions = ["\n".join(new_lines)]
        if start == end and len(new_lines) == 1:
            versions += one_change_versions(lines[start], new_lines[0])
        for version in versions:
            part = FixProposal(start, end, version, fix.explanation)
            old = "\n".join(lines[start : end + 1])
            if (
                all((p.start_line, p.end_line, p.replacement) != (start, end, version) for p in parts)
                and changes_code(old, version, grammar)
                and edit_parses(text, grammar, start, end, version)
                and keeps_definitions(text, grammar, start, end, version)
            ):
                parts.append(part)
    return parts


def _same_code(a: str, b: str) -> bool:
    return [line.rstrip() for line in a.splitlines()] == [line.rstrip() for line in b.splitlines()]


def _trim_snippets(snippets: Sequence[str]) -> list[str]:
    kept: list[str] = []
    used = 0
    for snippet in snippets:
        if used + len(snippet) > MAX_CONTEXT_CHARS:
            break
        kept.append(snippet)
        used += len(snippet)
    return kept
