"""Prompts for review, verification, explanation and debugging.

Two styles, by model kind: general instruction-tuned models get explicit
numbered steps; reasoning models get the goal in a few lines and think for
themselves. Code lines carry their 1-based numbers so answers can cite them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from tandem_lsp.models.backend import ChatMessage
from tandem_lsp.code_checks import LineRange
from tandem_lsp.tasks.findings import MAX_MESSAGE_CHARS, MAX_REPLACEMENT_CHARS, Finding, finding_item_schema
from tandem_lsp.tasks.router import ModelKind

SYSTEM_GENERAL = "You are a meticulous senior software engineer. You answer precisely and only with what is asked."
SYSTEM_REASONING = "You are an expert software engineer."
SYSTEM_FIX = "You are a helpful coding assistant."

# Field descriptions in prose: small models copy placeholder text from a JSON template verbatim.
_FINDINGS_FORMAT = (
    'Answer in JSON: an object with a "findings" list. Each finding has "line" and "end_line" (line numbers as shown), '
    '"severity" (error, warning, info or hint), "message" (one sentence) and "replacement" (the complete corrected '
    "source code for those lines, indented like the original)."
)
_FIX_FIELDS = (
    '"explanation" (1-3 sentences on the cause), "line" and "end_line" (numbers of the faulty lines as shown) and '
    '"replacement" (the complete corrected source code for those lines, indented like the original)'
)
_FIX_FORMAT = f"Answer in JSON: an object with {_FIX_FIELDS}."


def number_lines(lines: Sequence[str], start: int = 0, end: int | None = None) -> str:
    """Lines start..end (0-based, inclusive) prefixed with their 1-based numbers."""
    end = len(lines) - 1 if end is None else end
    width = len(str(end + 1))
    return "\n".join(f"{index + 1:>{width}} | {lines[index]}" for index in range(start, end + 1))


@dataclass(frozen=True)
class CodeView:
    """The code a prompt shows: a window of the document with its line numbers."""

    language: str
    path: str
    lines: Sequence[str]
    window: LineRange

    def block(self) -> str:
        name = self.path.rsplit("/", 1)[-1] if self.path else "the buffer"
        return f"File {name} ({self.language or 'text'}), lines {self.window[0] + 1}-{self.window[1] + 1}:\n```\n{number_lines(self.lines, *self.window)}\n```"


def _messages(kind: ModelKind, user: str) -> list[ChatMessage]:
    system = SYSTEM_REASONING if kind == "reasoning" else SYSTEM_GENERAL
    return [ChatMessage("system", system), ChatMessage("user", user)]


def review_messages(kind: ModelKind, code: CodeView, focus: LineRange, max_findings: int) -> list[ChatMessage]:
    where = f"lines {focus[0] + 1}-{focus[1] + 1}"
    if kind == "reasoning":
        user = (
            f"{code.block()}\n\nFind the real defects in {where}: bugs that make the code wrong, crash or hang. "
            f"At most {max_findings}; none if it is correct; no style remarks. Give each a fix.\n{_FINDINGS_FORMAT}"
        )
        return _messages(kind, user)
    user = f"""{code.block()}

Review {where} for bugs. Work through these steps:
1. Work out what the code is meant to do from its names, comments and docstrings.
2. Go through it line by line and check: comparisons and operators, off-by-one indexes and loop bounds, \
the right variable or argument order, base cases and return values, loops that never end, \
empty, zero or None inputs.
3. Keep only problems you are sure are real bugs, at most {max_findings}. No style, naming or documentation remarks. \
If the code is correct, return an empty list.
4. For each bug give the line number as shown, end_line (the same for a one-line bug), severity "error" for a bug \
("warning" for a risk), a one-sentence message, and replacement: the corrected text of those lines with their indentation.
{_FINDINGS_FORMAT}"""
    return _messages(kind, user)


def _describe_draft(index: int, finding: Finding, lines: Sequence[str], broken: str | None) -> str:
    span = f"line {finding.start_line + 1}" if finding.start_line == finding.end_line else f"lines {finding.start_line + 1}-{finding.end_line + 1}"
    text = f"#{index} {span} [{finding.severity}]: {finding.message}"
    fix = finding.replacement if finding.replacement is not None else broken
    if fix is not None:
        note = " (this replacement does not parse)" if broken is not None and finding.replacement is None else ""
        text += f"\n   proposed replacement{note}:\n   ```\n{fix}\n   ```"
    return text


def verify_messages(
    kind: ModelKind, code: CodeView, drafts: Sequence[tuple[Finding, str | None]], focus: LineRange
) -> list[ChatMessage]:
    """Ask for a verdict on each drafted finding (with its broken replacement, if any)."""
    listed = "\n".join(_describe_draft(i + 1, f, code.lines, broken) for i, (f, broken) in enumerate(drafts)) or "(none)"
    fmt = (
        'Answer in JSON: an object with "verdicts", a list with one entry per report: "id" (the report number), '
        '"verdict" (confirm, reject or correct) and, for a correction, "line", "end_line", "message" and "replacement" '
        '(the complete corrected source code for those lines); and "new_findings", a list of findings with "line", '
        '"end_line", "severity", "message" and "replacement".'
    )
    if kind == "reasoning":
        user = (
            f"{code.block()}\n\nA quick review of lines {focus[0] + 1}-{focus[1] + 1} reported:\n{listed}\n\n"
            "Verify each report against the code: confirm it, reject it if it is not a real bug, or correct its line, "
            "message or replacement. Add real bugs it missed as new_findings.\n" + fmt
        )
        return _messages(kind, user)
    user = f"""{code.block()}

A first reviewer reported these possible problems in lines {focus[0] + 1}-{focus[1] + 1}:
{listed}

Check each report against the code:
1. Read the cited line and the lines around it.
2. Decide: "confirm" if it is a real bug and the replacement fixes it; "correct" if it is a real bug but the line \
number or replacement is wrong (then give the right line, end_line and replacement); "reject" if it is not a bug.
3. If you are sure of a bug nobody reported, add it to new_findings (otherwise leave new_findings empty).
{fmt}"""
    return _messages(kind, user)


def verify_schema(max_new: int) -> dict:
    verdict = {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "verdict": {"type": "string", "enum": ["confirm", "reject", "correct"]},
            "line": {"type": "integer", "minimum": 1},
            "end_line": {"type": "integer", "minimum": 1},
            "message": {"type": "string", "maxLength": MAX_MESSAGE_CHARS},
            "replacement": {"type": "string", "maxLength": MAX_REPLACEMENT_CHARS},
        },
        "required": ["id", "verdict"],
    }
    return {
        "type": "object",
        "properties": {
            "verdicts": {"type": "array", "items": verdict},
            "new_findings": {"type": "array", "items": finding_item_schema(), "maxItems": max_new},
        },
        "required": ["verdicts", "new_findings"],
    }


def explain_messages(kind: ModelKind, code: CodeView, focus: LineRange) -> list[ChatMessage]:
    where = f"lines {focus[0] + 1}-{focus[1] + 1}"
    if kind == "reasoning":
        return _messages(kind, f"{code.block()}\n\nExplain what {where} do and anything surprising or risky in them. Be concise.")
    user = f"""{code.block()}

Explain {where} to a colleague:
1. One sentence on the purpose.
2. How it works, step by step, in a few short points (cite line numbers).
3. Inputs, outputs and side effects.
4. Edge cases or risks worth knowing, if any.
Plain text, concise, no code rewrite."""
    return _messages(kind, user)


@dataclass(frozen=True)
class FixProposal:
    """A fix as lines of the document: 0-based inclusive lines and their new text."""

    start_line: int
    end_line: int
    replacement: str
    explanation: str


def _context_block(snippets: Sequence[str]) -> str:
    if not snippets:
        return ""
    return "Definitions from the workspace that the code uses:\n```\n" + "\n\n".join(snippets) + "\n```\n\n"


@dataclass(frozen=True)
class FaultView:
    """What a fix prompt shows: the code (whole, or the part around the fault) and where the error is raised."""

    language: str
    code: str
    # "line 12: `return text[len(text) - i]`" when a traceback names a line of this file.
    raised_at: str = ""
    # Set when the code is a part of a longer file (its name and lines).
    part_of: str = ""


def fix_messages(view: FaultView, error: str, snippets: Sequence[str], explain_first: bool = True) -> list[ChatMessage]:
    """Ask for the corrected code as a whole block: how small code models are trained to fix code.

    The same plain request serves general and reasoning models (a reasoning
    model thinks first; its answer is read the same way). No line numbers:
    the answer is placed by what it defines (tasks/code_answer.py).
    With `explain_first` the model says what was wrong before the code (the
    explanation the user reads); without it, it answers with the code alone:
    another framing, so another answer under greedy decoding (the retry).
    """
    fence = view.language or ""
    where = f" (part of {view.part_of})" if view.part_of else ""
    raised = f"The error is raised at {view.raised_at}.\n\n" if view.raised_at else ""
    user = (
        f"{_context_block(snippets)}This code{where} fails with this error.\n\n```{fence}\n{view.code.rstrip()}\n```\n\n"
        f"Error:\n```\n{error.strip()}\n```\n\n{raised}"
        "Find the bug in the code (not in the tests or examples) and fix it. "
        + ("Say in one or two sentences what was wrong, then reply" if explain_first else "Reply")
        + f" with the whole corrected code in one ```{fence} block."
    )
    return [ChatMessage("system", SYSTEM_FIX), ChatMessage("user", user)]


def plain_fix_messages(view: FaultView, error: str) -> list[ChatMessage]:
    """The barest form of the request: the code, the error, the corrected code wanted.

    A second framing of the same question gives the model a second answer under
    greedy decoding, and this one is how a user would ask it in a chat, the
    code pasted exactly as the file holds it: its answer is then the one the
    model gives when asked alone (one blank line less at the end lost the
    model's own passing fix on a dev-set bug). The debug policy keeps
    whichever answer the model itself finds more likely.
    """
    fence = view.language or ""
    user = (
        f"This code fails with this error.\n\n```{fence}\n{view.code}\n```\n\n"
        f"Error:\n```\n{error.strip()}\n```\n\nReply with the whole corrected code in one ```{fence} block."
    )
    return [ChatMessage("system", SYSTEM_FIX), ChatMessage("user", user)]
