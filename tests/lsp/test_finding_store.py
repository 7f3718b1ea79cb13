"""The finding store alone: findings follow the edits made after a review (no server)."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument

from tandem_lsp.lsp.finding_store import FindingStore, LineEdit, StoredFinding, line_edits, shifted
from tandem_lsp.tasks.findings import Finding

LINES = ["def largest(items):", "    best = items[0]", "    for item in items:", "        if item < best:", "            best = item", "    return best"]
URI = "file:///work/stats.py"


def stored(start: int, end: int, lines: list[str] = LINES, replacement: str | None = None) -> StoredFinding:
    finding = Finding(start, end, "error", f"lines {start}-{end}", replacement)
    return StoredFinding(finding, f"id{start}", lines[start : end + 1], "because")


def store_with(*findings: StoredFinding) -> FindingStore:
    store = FindingStore()
    store.replace_scope(URI, (0, len(LINES) - 1), list(findings))
    return store


def partial(start: int, end: int, text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=start, character=0), end=types.Position(line=end, character=0)), text=text
    )


def test_a_line_added_above_moves_the_finding_down() -> None:
    store = store_with(stored(3, 4))
    edited = ["# a new first line", *LINES]
    assert store.follow_edits(URI, edited, line_edits([partial(0, 0, "# a new first line\n")]))
    (moved,) = store.findings(URI)
    assert (moved.finding.start_line, moved.finding.end_line) == (4, 5)
    assert (moved.id, moved.reasoning, moved.snapshot) == ("id3", "because", LINES[3:5])


def test_lines_removed_above_move_the_finding_up() -> None:
    store = store_with(stored(3, 3))
    edited = [LINES[0], *LINES[2:]]
    assert store.follow_edits(URI, edited, [LineEdit(1, 2, -1)])
    assert store.findings(URI)[0].finding.start_line == 2


def test_a_change_to_its_own_lines_drops_the_finding_and_keeps_the_others() -> None:
    store = store_with(stored(0, 0), stored(3, 3))
    edited = [*LINES[:3], "        if item <= best:", *LINES[4:]]
    assert store.follow_edits(URI, edited, line_edits([partial(3, 4, "        if item <= best:\n")]))
    assert [s.finding.start_line for s in store.findings(URI)] == [0]


def test_an_edit_below_changes_nothing() -> None:
    store = store_with(stored(1, 2))
    edited = [*LINES, "", "print(largest([1, 2]))"]
    assert not store.follow_edits(URI, edited, line_edits([partial(6, 6, "\nprint(largest([1, 2]))")]))
    assert store.findings(URI)[0].finding.start_line == 1


def test_a_line_inserted_at_the_findings_first_line_keeps_it_when_its_text_is_intact() -> None:
    store = store_with(stored(3, 4))
    edited = [*LINES[:3], "        # compare", *LINES[3:]]
    assert store.follow_edits(URI, edited, line_edits([partial(3, 3, "        # compare\n")]))
    assert store.findings(URI)[0].finding.start_line == 4


def test_a_whole_text_change_keeps_only_findings_whose_lines_did_not_move() -> None:
    store = store_with(stored(0, 0), stored(5, 5))
    edited = [*LINES[:5], "    return best  # largest"]
    whole = types.TextDocumentContentChangeWholeDocument(text="\n".join(edited))
    assert store.follow_edits(URI, edited, line_edits([whole]))
    assert [s.finding.start_line for s in store.findings(URI)] == [0]


def test_a_finding_whose_lines_left_the_document_is_dropped() -> None:
    assert shifted(stored(4, 5), LINES[:3], [LineEdit(3, 6, -3)]) is None


def test_a_new_review_replaces_only_the_findings_in_its_scope() -> None:
    store = store_with(stored(0, 0), stored(3, 3), stored(5, 5))
    store.replace_scope(URI, (2, 4), [stored(4, 4)])
    assert [s.finding.start_line for s in store.findings(URI)] == [0, 5, 4]


def test_forgetting_a_document_says_whether_it_had_findings() -> None:
    store = store_with(stored(0, 0))
    assert store.forget(URI)
    assert not store.forget(URI)
    assert store.findings(URI) == []


def test_publication_covers_the_whole_lines_with_the_findings_data() -> None:
    store = store_with(stored(3, 4, replacement="        if item > best:"))
    document = TextDocument(URI, "\n".join(LINES) + "\n", version=7)
    published = store.publication(URI, document)
    assert published.version == 7
    (diagnostic,) = published.diagnostics
    assert diagnostic.range == types.Range(start=types.Position(3, 0), end=types.Position(4, len(LINES[4])))
    assert (diagnostic.source, diagnostic.severity) == ("tandem", types.DiagnosticSeverity.Error)
    assert diagnostic.data == {"id": "id3", "status": "draft", "replacement": "        if item > best:", "reasoning": "because"}
    assert store.publication(URI, None).diagnostics == []
