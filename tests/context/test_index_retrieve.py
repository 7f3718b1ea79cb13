"""Cross-file context retrieval, open buffers and incremental re-parsing."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from tandem_lsp.config import IndexSettings
from tandem_lsp.context.index import WorkspaceIndex
from tandem_lsp.context.grammars import parser_for
from tandem_lsp.context.tree_edit import edit_for_change

GEOMETRY = '''"""Shapes."""


def area_of_circle(radius: float) -> float:
    """Area of a circle."""
    return 3.14159 * radius * radius


class Polygon:
    """A closed shape."""

    def __init__(self, points):
        self.points = points

    def perimeter(self) -> float:
        return sum(self.points)
'''

MAIN = '''from geometry import area_of_circle, Polygon


def report(r):
    total = area_of_circle(r)
    return total
'''


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "geometry.py").write_text(GEOMETRY)
    (tmp_path / "main.py").write_text(MAIN)
    (tmp_path / "other").mkdir()
    # A second definition of the same name, not the one main.py imports.
    (tmp_path / "other" / "geometry_copy.py").write_text("def area_of_circle(d):\n    return d * d  # wrong one\n")
    return tmp_path


def build(root: Path) -> WorkspaceIndex:
    index = WorkspaceIndex([root], IndexSettings())
    index.build()
    return index


def test_call_site_gets_the_callees_definition_from_the_imported_file(workspace: Path) -> None:
    index = build(workspace)
    text = MAIN
    offset = text.index("area_of_circle(r)") + len("area_of_circle(")
    snippets = index.retrieve(str(workspace / "main.py"), text, offset)
    first = snippets[0]
    assert first.kind == "definition" and first.path == "geometry.py"
    assert first.text.startswith("def area_of_circle(radius: float) -> float:")
    assert "3.14159" in first.text
    assert first.start_line == 3
    assert all("wrong one" not in s.text for s in snippets if s.kind == "definition")
    # Imported names count even when not used near the cursor.
    assert any(s.kind == "definition" and s.text.startswith("class Polygon") for s in snippets)


def test_unsaved_buffer_without_index_entry_still_resolves(workspace: Path) -> None:
    index = build(workspace)
    text = "import geometry\n\nprint(geometry.area_of_circle(2))\n"
    snippets = index.retrieve(str(workspace / "scratch.py"), text, len(text) - 3)
    assert snippets and snippets[0].path == "geometry.py" and "def area_of_circle" in snippets[0].text


def test_current_file_and_window_are_not_repeated(workspace: Path) -> None:
    index = build(workspace)
    # A buffer holding a copy of geometry.py gets none of geometry.py's text again.
    text = GEOMETRY + "\nvalue = area_of_circle(2) + Polygon([1]).perimeter()\n"
    snippets = index.retrieve(str(workspace / "paste.py"), text, len(text) - 2)
    assert not any(s.path == "geometry.py" for s in snippets)
    # The file's own definitions are never context for itself.
    snippets = index.retrieve(str(workspace / "geometry.py"), GEOMETRY, GEOMETRY.index("return sum"))
    assert all(s.path != "geometry.py" for s in snippets)


def test_long_classes_are_outlined_and_long_functions_cut(tmp_path: Path) -> None:
    methods = "\n".join(f"    def method_{n}(self, x):\n        y = x + {n}\n        return y\n" for n in range(12))
    (tmp_path / "big.py").write_text(f"class Big:\n    '''Many methods.'''\n\n{methods}\n")
    body = "\n".join(f"    step_{n} = {n}" for n in range(40))
    (tmp_path / "long.py").write_text(f"def long_function(a):\n{body}\n    return a\n")
    index = build(tmp_path)
    text = "from big import Big\nfrom long import long_function\nBig().method_1(long_function(3))\n"
    snippets = {s.text.split("\n")[0]: s for s in index.retrieve(str(tmp_path / "use.py"), text, len(text) - 1)}
    outline = snippets["class Big:"].text.split("\n")
    assert "    def method_11(self, x):" in outline and "        y = x + 1" not in outline
    cut = snippets["def long_function(a):"].text.split("\n")
    assert len(cut) <= 14 and cut[-1].strip() == "# ..."


def test_similar_chunks_from_other_files(tmp_path: Path) -> None:
    (tmp_path / "parser_utils.py").write_text(
        "def tokenize_markdown_heading(line):\n    level = line.count('#')\n"
        "    heading_text = line.strip('# ')\n    return level, heading_text\n"
    )
    (tmp_path / "unrelated.py").write_text("def add(a, b):\n    return a + b\n")
    index = build(tmp_path)
    text = "def render(line):\n    level = line.count('#')\n    heading_text = "
    snippets = index.retrieve(str(tmp_path / "render.py"), text, len(text))
    similar = [s for s in snippets if s.kind == "similar"]
    assert similar and similar[0].path == "parser_utils.py"
    assert all(s.path != "unrelated.py" for s in similar)


def test_recent_edits_in_other_files(workspace: Path) -> None:
    index = build(workspace)
    geometry = str(workspace / "geometry.py")
    index.record_edit(geometry, 14, 15)
    index.record_edit(geometry, 15, 15)  # merges with the previous edit
    snippets = index.retrieve(str(workspace / "new.py"), "x = 1\n", 5)
    recent = [s for s in snippets if s.kind == "recent"]
    assert len(recent) == 1 and "def perimeter" in recent[0].text and recent[0].path == "geometry.py"
    # Not offered to the file that was edited itself.
    assert not [s for s in index.retrieve(geometry, GEOMETRY, 10) if s.kind == "recent"]


def test_open_buffer_overrides_disk_until_closed(workspace: Path) -> None:
    index = build(workspace)
    geometry = str(workspace / "geometry.py")
    edited = GEOMETRY.replace("def area_of_circle(radius", "def area_of_disc(radius")
    index.update_document(geometry, edited)
    assert [d.path for d in index.definitions_named("area_of_disc")] == [geometry]
    assert all(d.path != geometry for d in index.definitions_named("area_of_circle"))
    # Several keystrokes: each re-parse reuses the previous tree.
    for n in range(3):
        edited = re.sub(r"def perimeter\d*\(", f"def perimeter{n}(", edited)
        index.update_document(geometry, edited)
    assert index.definitions_named("perimeter2")
    index.close_document(geometry)
    assert not index.definitions_named("area_of_disc")
    assert any(d.path == geometry for d in index.definitions_named("area_of_circle"))


def test_documents_outside_roots_or_languages_are_ignored(workspace: Path, tmp_path_factory) -> None:
    index = build(workspace)
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "x.py"
    index.update_document(str(elsewhere), "def outside(): pass\n")
    index.update_document(str(workspace / "notes.txt"), "def text(): pass\n")
    assert not index.definitions_named("outside") and not index.definitions_named("text")
    assert not index.contains(elsewhere) and index.contains(workspace / "main.py")
    index.close_document(str(elsewhere))  # never opened: a quiet no-op


def test_incremental_edit_matches_a_fresh_parse() -> None:
    parser = parser_for("python")
    old = "def f(a):\n    return a  # café\n\nx = 1\n"
    new = "def f(a, b):\n    return a + b  # café\n\nx = 1\ny = 2\n"
    tree = parser.parse(old.encode())
    tree.edit(**edit_for_change(old, new))
    reparsed = parser.parse(new.encode(), tree)
    assert str(reparsed.root_node) == str(parser.parse(new.encode()).root_node)
    assert edit_for_change("abc", "abc")["old_end_byte"] == edit_for_change("abc", "abc")["new_end_byte"]


def test_workspace_symbols_ranking(workspace: Path) -> None:
    index = build(workspace)
    names = [d.name for d in index.workspace_symbols("area")]
    assert names[:2] == ["area_of_circle", "area_of_circle"]
    assert [d.name for d in index.workspace_symbols("perim")] == ["perimeter"]
    assert [d.name for d in index.workspace_symbols("ply")] == ["Polygon"]  # fuzzy subsequence
    assert len(index.workspace_symbols("", limit=3)) == 3
    assert index.workspace_symbols("zzzz") == []


def test_retrieve_respects_its_budget_and_is_thread_safe(tmp_path: Path) -> None:
    for n in range(60):
        (tmp_path / f"mod{n}.py").write_text(
            "\n".join(f"def helper_{n}_{k}(value):\n    return value * {k}\n" for k in range(30))
        )
    index = build(tmp_path)
    text = "".join(f"helper_{n}_{n % 30}(1)\n" for n in range(60))
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for n in range(20):
                index.update_document(str(tmp_path / "mod0.py"), f"def helper_0_0(value):\n    return {n}\n")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    for _ in range(20):
        snippets = index.retrieve(str(tmp_path / "use.py"), text, len(text), budget_ms=30)
        assert all(s.kind in ("definition", "similar", "recent") for s in snippets)
    thread.join()
    assert not errors
    assert index.retrieve(str(tmp_path / "use.py"), text, len(text), budget_ms=0) == []


def test_bad_input_is_a_quiet_no_op(workspace: Path) -> None:
    index = build(workspace)
    assert isinstance(index.retrieve(str(workspace / "main.py"), "", 10**6), list)
    assert isinstance(index.retrieve(str(workspace / "main.py"), MAIN, -5), list)
    assert index.retrieve(str(workspace / "image.png"), "\x00\x01", 1) == []
    index.record_edit(str(workspace / "main.py"), 9, 2)  # reversed range
    index.update_document(str(workspace / "main.py"), "def (((\n")
    assert index.contains(workspace / "main.py")


def test_signatures_of_imported_names_the_file_uses_come_first(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        "".join(f"def helper_{n}(value, option={n}):\n    return value + {n}\n\n\n" for n in range(30))
    )
    names = ", ".join(f"helper_{n}" for n in range(30))
    filler = "".join(f"    total_{n} = {n}\n" for n in range(300))
    # helper_29 is used far below the cursor; the other 29 imported names are never used.
    text = f"from helpers import ({names})\n\n\ndef run(value):\n{filler}    \n{filler}    return helper_29(value)\n"
    offset = text.index("    \n") + 4
    stubs = "\n".join(s.text for s in build(tmp_path).retrieve(str(tmp_path / "main.py"), text, offset, 1000))
    # Signatures are offered for at most MAX_STUBS names: the used one is among them, the last unused ones are not.
    assert "def helper_29(value, option=29):" in stubs
    assert "def helper_0(value, option=0):" in stubs and "def helper_28(" not in stubs
    # A member reached through an imported module counts as a use too.
    text = "import helpers\n\n\ndef run(value):\n" + filler + "    \n" + filler + "    return helpers.helper_7(value)\n"
    snippets = build(tmp_path).retrieve(str(tmp_path / "main.py"), text, text.index("    \n") + 4, 1000)
    assert any(s.text.startswith("def helper_7(value, option=7):") for s in snippets if s.kind == "definition")


def test_python_names_without_an_import_are_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "ops.py").write_text("def index(a):\n    return a.__index__()\n\n\ndef sorted(x):\n    return x\n")
    (tmp_path / "stars.py").write_text("def starred_helper(a):\n    return a\n")
    # `index` is a local variable and `sorted` the builtin: ops.py, beside this file, is not what they mean.
    text = "index = 3\nvalues = sorted([index, 2])\nprint(values)\n"
    snippets = build(tmp_path).retrieve(str(tmp_path / "main.py"), text, len(text) - 1, 1000)
    assert not any(s.path == "ops.py" for s in snippets if s.kind == "definition")
    # A name a star import brings in still resolves to the module it names.
    text = "from stars import *\n\nstarred_helper(1)\n"
    snippets = build(tmp_path).retrieve(str(tmp_path / "main.py"), text, len(text) - 1, 1000)
    assert any(s.path == "stars.py" and s.kind == "definition" for s in snippets)


def test_a_name_imported_but_not_used_yet_ranks_before_module_members(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("".join(f"def helper_{n}(value):\n    return value + {n}\n\n\n" for n in range(40)))
    (tmp_path / "fresh.py").write_text("def just_imported(a, b):\n    return a\n")
    uses = "".join(f"    helpers.helper_{n}(value)\n" for n in range(40))
    # The file reaches 40 members of `helpers`; `just_imported` was imported and not used yet.
    text = f"import helpers\nfrom fresh import just_imported\n\n\ndef run(value):\n{uses}    \n"
    snippets = build(tmp_path).retrieve(str(tmp_path / "main.py"), text, len(text) - 1, 1000)
    assert any(s.text.startswith("def just_imported(a, b):") for s in snippets if s.path == "fresh.py")
