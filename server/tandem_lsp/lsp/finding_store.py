"""Review findings per document, kept in step with the edits made after the review.

A finding remembers the text of its lines when it was reviewed. An edit above
it moves it; an edit that changes its own text makes it stale, and it is
dropped. What the store holds is what the editor shows as tandem diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

from lsprotocol import types
from pygls.workspace import TextDocument

from tandem_lsp.lsp.convert import line_range
from tandem_lsp.code_checks import LineRange
from tandem_lsp.tasks.findings import Finding

SOURCE = "tandem"
# Reasoning text kept on a diagnostic (the full text goes to the log).
MAX_REASONING_CHARS = 4000
# Replaces the whole text: only findings whose lines are untouched in place survive.
_WHOLE_TEXT_LINES = 1 << 30

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


@dataclass
class StoredFinding:
    finding: Finding
    id: str
    # The reviewed text of the finding's lines: when it changes, the finding is stale.
    snapshot: list[str]
    reasoning: str = ""


class LineEdit(NamedTuple):
    """One edit as lines: it replaced lines start..end and added `delta` lines."""

    start: int
    end: int
    delta: int


def line_edits(changes: Sequence[types.TextDocumentContentChangeEvent]) -> list[LineEdit]:
    """A didChange's content changes as line edits, in the order they apply."""
    edits = []
    for change in changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            removed = change.range.end.line - change.range.start.line
            edits.append(LineEdit(change.range.start.line, change.range.end.line, change.text.count("\n") - removed))
        else:
            edits.append(LineEdit(0, _WHOLE_TEXT_LINES, 0))
    return edits


def shifted(stored: StoredFinding, lines: list[str], edits: Sequence[LineEdit]) -> StoredFinding | None:
    """The finding after `edits` in the edited `lines`, or None when its text changed."""
    start, end = stored.finding.start_line, stored.finding.end_line
    candidates = [start]
    for edit in edits:
        if edit.end < start:
            candidates = [c + edit.delta for c in candidates]
        elif edit.start <= end:
            # An edit touching the finding's lines: it survives only if its text is intact (e.g. a line added above).
            candidates = [c + d for c in candidates for d in (0, edit.delta)]
    for new_start in dict.fromkeys(candidates):
        new_end = new_start + (end - start)
        if 0 <= new_start and new_end < len(lines) and lines[new_start : new_end + 1] == stored.snapshot:
            finding = stored.finding
            moved = Finding(new_start, new_end, finding.severity, finding.message, finding.replacement, finding.status)
            return StoredFinding(moved, stored.id, stored.snapshot, stored.reasoning)
    return None


class FindingStore:
    def __init__(self) -> None:
        self._by_uri: dict[str, list[StoredFinding]] = {}

    def findings(self, uri: str) -> list[StoredFinding]:
        return self._by_uri.get(uri, [])

    def replace_scope(self, uri: str, scope: LineRange, new: list[StoredFinding]) -> None:
        """The reviewed lines get the new verdict; findings outside them stay."""
        low, high = scope
        others = [s for s in self.findings(uri) if s.finding.end_line < low or s.finding.start_line > high]
        self._by_uri[uri] = others + new

    def follow_edits(self, uri: str, lines: list[str], edits: Sequence[LineEdit]) -> bool:
        """Move the document's findings with its edits and drop the stale ones. True when anything changed."""
        stored = self._by_uri.get(uri)
        if not stored:
            return False
        kept = [s for s in (shifted(s, lines, edits) for s in stored) if s is not None]
        self._by_uri[uri] = kept
        return [s.finding for s in kept] != [s.finding for s in stored]

    def forget(self, uri: str) -> bool:
        """Drop a closed document's findings. True when it had any."""
        return bool(self._by_uri.pop(uri, None))

    def publication(self, uri: str, document: TextDocument | None) -> types.PublishDiagnosticsParams:
        """The diagnostics to publish for `uri` (none when the document is not open)."""
        diagnostics = [to_diagnostic(document, s) for s in self.findings(uri)] if document else []
        return types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version if document else None)


def to_diagnostic(document: TextDocument, stored: StoredFinding) -> types.Diagnostic:
    f = stored.finding
    data: dict[str, Any] = {"id": stored.id, "status": f.status, "replacement": f.replacement}
    if stored.reasoning:
        data["reasoning"] = stored.reasoning[:MAX_REASONING_CHARS]
    return types.Diagnostic(
        range=line_range(document, f.start_line, f.end_line),
        message=f.message,
        severity=_SEVERITY[f.severity],
        source=SOURCE,
        code="review",
        data=data,
    )
