"""Review findings: the schema models answer in, and validation (reading answers is tasks/answer_json.py).

Models cite 1-based line numbers (the prompt numbers lines that way); a
`Finding` holds 0-based lines. Nothing a model says reaches the editor
before `validate_findings` has checked that its range exists and that its
replacement (if any) parses.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Iterable

from tandem_lsp.indentation import leading_whitespace
from tandem_lsp.models.reasoning import split_reasoning
from tandem_lsp.tasks.answer_json import FENCE, SEVERITIES, RawFinding, Severity
from tandem_lsp.code_checks import LineRange, changes_code, code_lines, edit_parses, keeps_definitions, split_lines

# Caps in the schema keep a looping small model from filling its whole token budget.
MAX_MESSAGE_CHARS = 240
MAX_REPLACEMENT_CHARS = 800
# A finding spanning more lines than this without a fix says "something is wrong somewhere": not actionable.
MAX_VAGUE_SPAN = 8

# A cited line this far outside the reviewed lines is clamped; further out it is dropped.
CLAMP_SLACK = 2
# How far a finding may be moved to the line its replacement obviously rewrites.
REANCHOR_SLACK = 2


@dataclass(frozen=True)
class Finding:
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, inclusive
    severity: Severity
    message: str
    # New text for lines start_line..end_line (whole lines, no trailing newline).
    replacement: str | None = None
    # "draft", "confirmed", "corrected" or "new" (added by the verifier), or
    # "likely" (from the likelihood pass, its fix weighed by the verifying model).
    status: str = "draft"


def finding_item_schema(with_replacement: bool = True) -> dict:
    properties: dict[str, Any] = {
        "line": {"type": "integer", "minimum": 1},
        "end_line": {"type": "integer", "minimum": 1},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "message": {"type": "string", "maxLength": MAX_MESSAGE_CHARS},
    }
    if with_replacement:
        properties["replacement"] = {"type": "string", "maxLength": MAX_REPLACEMENT_CHARS}
    required = ["line", "end_line", "severity", "message"] + (["replacement"] if with_replacement else [])
    return {"type": "object", "properties": properties, "required": required}


def findings_schema(max_findings: int) -> dict:
    """JSON schema for a review answer (for grammar-constrained decoding).

    Every finding carries a replacement: it keeps findings concrete, gives each
    a quick fix, and a "fix" equal to the current code unmasks a non-finding.
    """
    return {
        "type": "object",
        "properties": {"findings": {"type": "array", "items": finding_item_schema(), "maxItems": max_findings}},
        "required": ["findings"],
    }


_THINK_TAG = re.compile(r"</?(think|thinking|reasoning)>", re.IGNORECASE)


def clean_replacement(replacement: str | None, original: list[str]) -> str | None:
    """Strip fences and think blocks; restore indentation a model dropped; None for no-ops."""
    if replacement is None:
        return None
    text = replacement
    if _THINK_TAG.search(text):
        text, _ = split_reasoning(text)
    text = FENCE.sub("", text.strip("\n")).rstrip()
    if not text.strip():
        return None
    new_lines = _strip_line_numbers(text.split("\n"))
    old_indent = _min_indent(original)
    if old_indent and not _min_indent(new_lines):
        new_lines = [old_indent + line if line.strip() else line for line in new_lines]
    text = "\n".join(line.rstrip() for line in new_lines)
    if text == "\n".join(line.rstrip() for line in original):
        return None
    return text


_NUMBERED = re.compile(r"^\s*\d+ \| ?")


def _strip_line_numbers(lines: list[str]) -> list[str]:
    """Remove the "12 | " prefixes a model copied from the numbered listing in its prompt."""
    code = [line for line in lines if line.strip()]
    if code and all(_NUMBERED.match(line) for line in code):
        return [_NUMBERED.sub("", line, count=1) for line in lines]
    return lines


def numbered_range(replacement: str | None) -> tuple[int, int] | None:
    """0-based lines a replacement names when the model kept the listing's "12 | " prefixes on every line.

    Those numbers are more reliable than the line/end_line fields next to them.
    """
    if not replacement:
        return None
    code = [line for line in FENCE.sub("", replacement.strip("\n")).split("\n") if line.strip()]
    numbers = [int(m.group(1)) for m in (re.match(r"^\s*(\d+) \|", line) for line in code) if m]
    if not code or len(numbers) != len(code) or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return None
    return numbers[0] - 1, numbers[-1] - 1


def narrow(lines: list[str], start: int, end: int, replacement: str) -> tuple[int, int, str]:
    """Shrink a finding to the lines its replacement really changes.

    Models often return a whole function when one line changes; the finding
    should point at that line, and the quick fix should touch only it.
    Keeps at least one old and one new line, so the edit stays a replacement.
    """
    old = [line.rstrip() for line in lines[start : end + 1]]
    new = replacement.split("\n")
    head = 0
    while head < len(old) - 1 and head < len(new) - 1 and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < len(old) - head - 1 and tail < len(new) - head - 1 and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return start + head, end - tail, "\n".join(new[head : len(new) - tail])


def _min_indent(lines: list[str]) -> str:
    indents = [leading_whitespace(line) for line in lines if line.strip()]
    return min(indents, key=len) if indents else ""


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.strip(), b.strip()).ratio()


def reanchor(lines: list[str], start: int, end: int, replacement: str | None, scope: LineRange) -> tuple[int, int]:
    """Move a one-line finding to the nearby line its replacement clearly rewrites.

    Small models often cite a line or two off; a replacement that is a light
    edit of a neighbouring line tells us which line they meant.
    """
    if replacement is None or not replacement.strip() or start != end or "\n" in replacement:
        return start, end
    here = _similarity(lines[start], replacement)
    best, best_score = start, here
    for candidate in range(max(scope[0], start - REANCHOR_SLACK), min(scope[1], start + REANCHOR_SLACK) + 1):
        if not lines[candidate].strip():
            continue
        score = _similarity(lines[candidate], replacement)
        if score > best_score + 0.15 and score >= 0.6:
            best, best_score = candidate, score
    return best, best


def place(raw: RawFinding, lines: list[str], scope: LineRange) -> tuple[int, int] | None:
    """0-based range of a cited finding inside `scope`, clamped when a little off; None when made up."""
    start, end = sorted((raw.line - 1, raw.end_line - 1))
    low, high = scope
    if end < low - CLAMP_SLACK or start > high + CLAMP_SLACK:
        return None
    start, end = max(low, min(start, high)), max(low, min(end, high))
    return reanchor(lines, start, end, raw.replacement, scope)


@dataclass
class Checked:
    finding: Finding
    # The model proposed a replacement that breaks the syntax (verification may repair it).
    broken_replacement: str | None = None
    # The cited range had to be clamped or moved.
    repaired: bool = False
    # The proposed replacement equals the current code: not a finding.
    noop: bool = False


def check_finding(raw: RawFinding, text: str, grammar: str | None, scope: LineRange, status: str = "draft") -> Checked | None:
    lines = split_lines(text)
    placed = place(raw, lines, scope)
    if placed is None:
        return None
    start, end = placed
    cited = numbered_range(raw.replacement)
    if cited is not None and scope[0] <= cited[0] <= cited[1] <= scope[1]:
        start, end = cited
    code = code_lines(text, grammar)
    if code is not None and not any(line in code for line in range(start, end + 1)):
        return None  # only comments or docstrings under it: a bug lives in code
    replacement = clean_replacement(raw.replacement, lines[start : end + 1])
    if replacement is None and raw.replacement is not None and raw.replacement.strip():
        # The model's "fix" is the code as it stands: by its own account nothing is wrong here.
        return Checked(Finding(start, end, raw.severity, raw.message, None, status), noop=True)
    if replacement is not None:
        start, end, replacement = narrow(lines, start, end, replacement)
        if not changes_code("\n".join(lines[start : end + 1]), replacement, grammar):
            # Only whitespace or comments change: nothing is fixed (and deleting a comment is no review finding).
            return Checked(Finding(start, end, raw.severity, raw.message, None, status), noop=True)
    broken = None
    if replacement is not None and not edit_parses(text, grammar, start, end, replacement):
        broken, replacement = replacement, None
    if replacement is not None and not keeps_definitions(text, grammar, start, end, replacement):
        replacement = None  # a "fix" that deletes a function or class breaks its callers
    if replacement is None and end - start + 1 > MAX_VAGUE_SPAN:
        return None
    repaired = (start, end) != (raw.line - 1, raw.end_line - 1)
    finding = Finding(start, end, raw.severity, raw.message, replacement, status)
    return Checked(finding, broken, repaired)


_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def dedupe(findings: Iterable[Finding], limit: int) -> list[Finding]:
    """Drop repeats; keep the most severe `limit`, in line order.

    A repeat is a finding on overlapping lines with a similar message or the
    same fix, or the same message word for word on other lines (a small model
    stuck in a loop repeats its first finding down the file).
    """
    kept: list[Finding] = []
    for finding in findings:
        duplicate = any(
            (
                other.start_line <= finding.end_line
                and finding.start_line <= other.end_line
                and (_similarity(other.message, finding.message) > 0.6 or (other.replacement is not None and other.replacement == finding.replacement))
            )
            or other.message.strip().lower() == finding.message.strip().lower()
            for other in kept
        )
        if not duplicate:
            kept.append(finding)
    kept = sorted(kept, key=lambda f: _SEVERITY_RANK[f.severity])[:limit]
    return sorted(kept, key=lambda f: (f.start_line, f.end_line))


@dataclass
class Validation:
    findings: list[Finding]
    # Findings whose replacement broke the syntax (the replacement was removed).
    broken: list[Checked]
    # Findings dropped because their lines do not exist in the reviewed code.
    dropped: int = 0
    repaired: int = 0
    # Findings whose "fix" was the unchanged code (left out, not a failed check).
    noops: int = 0

    @property
    def failed_checks(self) -> bool:
        return bool(self.broken or self.dropped)


def validate_findings(
    raws: Iterable[RawFinding], text: str, grammar: str | None, scope: LineRange, limit: int, status: str = "draft"
) -> Validation:
    raws = list(raws)
    results = [check_finding(raw, text, grammar, scope, status) for raw in raws]
    checked = [c for c in results if c is not None and not c.noop]
    return Validation(
        findings=dedupe((c.finding for c in checked), limit),
        broken=[c for c in checked if c.broken_replacement is not None],
        dropped=sum(c is None for c in results),
        repaired=sum(c.repaired for c in checked),
        noops=sum(c is not None and c.noop for c in results),
    )
