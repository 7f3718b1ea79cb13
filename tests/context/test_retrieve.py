"""Retrieval alone: a view built from a few in-memory files, no index, lock or watcher."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from tandem_lsp.context.postings import Postings
from tandem_lsp.context.resolve import path_key
from tandem_lsp.context.retrieve import ALL_KINDS, ContextSnippet, IndexView, cursor_at, parse_unindexed, retrieve
from tandem_lsp.context.symbols import Definition, Import, parse_source
from tandem_lsp.languages import grammar_for_path, language_for_path

ROOT = "/w"


@dataclass(frozen=True)
class SourceFile:
    path: str
    rel: str
    language: str
    grammar: str
    key: str
    text: str
    definitions: Sequence[Definition]
    imports: Sequence[Import]
    chunks: Sequence[tuple[int, int]]


def view_of(sources: dict[str, str], recent: Sequence[tuple[str, int, int]] = ()) -> IndexView:
    """What the index would hold for `sources` (workspace-relative path -> text)."""
    files: dict[str, SourceFile] = {}
    by_name: dict[str, list[Definition]] = {}
    postings = Postings()
    owners: list[str | None] = []
    term_counts: list[int] = []
    for rel, text in sources.items():
        path = f"{ROOT}/{rel}"
        grammar = grammar_for_path(path)
        assert grammar is not None
        symbols = parse_source(path, text.encode(), grammar)
        files[path] = SourceFile(
            path, rel, language_for_path(path), grammar, path_key(path), text, symbols.definitions, symbols.imports, symbols.chunks
        )
        for definition in symbols.definitions:
            by_name.setdefault(definition.name, []).append(definition)
        postings.add(len(owners), symbols.terms)
        owners.append(path)
        term_counts.append(len(symbols.terms))
    return IndexView(files, by_name, postings, owners, term_counts, sum(term_counts), list(recent))


def retrieve_at(
    view: IndexView, rel: str, text: str, marker: str, seconds: float = 5.0, kinds: Sequence[str] = ALL_KINDS
) -> list[ContextSnippet]:
    """Retrieve for a cursor placed right after the first `marker` in `text`."""
    path = f"{ROOT}/{rel}"
    cursor = cursor_at(path, text, text.index(marker) + len(marker))
    local = None if path in view.files else parse_unindexed(path, text)
    return retrieve(view, cursor, time.perf_counter() + seconds, local, kinds)


SHAPES = '''def area_of_circle(radius):
    """Area of a circle."""
    return 3.14159 * radius * radius


def perimeter_of_square(side):
    return 4 * side
'''

MAIN = '''from shapes import area_of_circle, perimeter_of_square


def report(r):
    total = area_of_circle(r)
    return total
'''


def test_definition_of_the_name_used_at_the_cursor_comes_first() -> None:
    # A second area_of_circle that main.py does not import must not be taken for it.
    view = view_of({"shapes.py": SHAPES, "main.py": MAIN, "other/copy.py": "def area_of_circle(d):\n    return d * d\n"})
    snippets = retrieve_at(view, "main.py", MAIN, "area_of_circle(")
    first = snippets[0]
    assert (first.kind, first.path, first.start_line) == ("definition", "shapes.py", 0)
    assert first.text.startswith("def area_of_circle(radius):") and "3.14159" in first.text
    assert all(s.path != "other/copy.py" for s in snippets if s.kind == "definition")
    # The other imported name is only on the import line: further from the cursor, ranked after.
    definitions = [s for s in snippets if s.kind == "definition"]
    assert [s.text.split("\n")[0] for s in definitions] == ["def area_of_circle(radius):", "def perimeter_of_square(side):"]
    assert definitions[0].score > definitions[1].score


def test_a_buffer_the_view_does_not_hold_is_parsed_on_the_spot() -> None:
    view = view_of({"shapes.py": SHAPES})
    snippets = retrieve_at(view, "unsaved.py", MAIN, "area_of_circle(")
    assert snippets[0].path == "shapes.py" and snippets[0].text.startswith("def area_of_circle(radius):")


def test_similar_code_prefers_the_file_sharing_rare_identifiers() -> None:
    # Every file uses `value` and `result`; only widgets.py uses the registry's names.
    common = "def step_{n}(value):\n    result = value + {n}\n    return result\n"
    sources = {f"common_{n}.py": common.format(n=n) for n in range(8)}
    sources["widgets.py"] = (
        "def frobnicate_widget(widget_registry, value):\n"
        "    result = widget_registry.lookup_widget(value)\n"
        "    return result\n"
    )
    text = "def handle(value):\n    result = widget_registry.lookup_widget(value)\n    frobnicate_widget(widget_registry, result)\n    "
    snippets = retrieve_at(view_of(sources), "handler.py", text, text)
    similar = [s for s in snippets if s.kind == "similar"]
    assert similar and similar[0].path == "widgets.py"
    assert similar[0].score > max((s.score for s in similar[1:]), default=0.0)


def test_code_the_prompt_already_shows_is_not_repeated() -> None:
    text = "def frobnicate_widget(widget_registry, value):\n    return widget_registry.lookup_widget(value)\n"
    view = view_of({"copy.py": text, "handler.py": text})
    assert retrieve_at(view, "handler.py", text, text) == []


def test_recent_edits_of_other_files_only() -> None:
    notes = "".join(f"note_{n} = {n}\n" for n in range(20))
    view = view_of({"notes.py": notes, "main.py": MAIN}, recent=[("/w/notes.py", 10, 10), ("/w/main.py", 0, 0)])
    recent = [s for s in retrieve_at(view, "main.py", MAIN, "return total") if s.kind == "recent"]
    assert [(s.path, s.start_line) for s in recent] == [("notes.py", 7)]
    assert recent[0].text.splitlines()[0] == "note_7 = 7" and "note_10 = 10" in recent[0].text


def test_only_the_kinds_asked_for_are_looked_for() -> None:
    notes = "".join(f"note_{n} = {n}\n" for n in range(20))
    text = MAIN + "\nwidget = frobnicate_widget(widget_registry)\n"
    sources = {"shapes.py": SHAPES, "notes.py": notes, "widgets.py": "def frobnicate_widget(widget_registry):\n    return widget_registry\n"}
    view = view_of(sources, recent=[("/w/notes.py", 10, 10)])
    every_kind = {s.kind for s in retrieve_at(view, "main.py", text, "area_of_circle(")}
    assert every_kind == {"definition", "similar", "recent"}
    for kinds in (["definition"], ["similar", "recent"], []):
        assert {s.kind for s in retrieve_at(view, "main.py", text, "area_of_circle(", kinds=kinds)} == set(kinds)


def test_nothing_once_the_deadline_has_passed() -> None:
    view = view_of({"shapes.py": SHAPES, "main.py": MAIN})
    assert retrieve_at(view, "main.py", MAIN, "area_of_circle(", seconds=-1.0) == []
