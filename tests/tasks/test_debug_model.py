"""Debug with the real embedded model, and the debug helpers it relies on."""

import pytest
from fakes import Reply, Script, ScriptedBackend, ScriptedRegistry

from tandem_lsp.config import Settings
from tandem_lsp.models.embedded import default_model_path
from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.code_checks import error_count
from tandem_lsp.tasks.debug import debug, error_lines, fault_view, fix_from_texts, unified_diff
from tandem_lsp.tasks.source import SourceFile

CODE = """def total_price(items):
    total = 0
    for item in items:
        total += item.price * item.qty
    return totl
"""
TRACEBACK = """Traceback (most recent call last):
  File "/home/me/shop/cart.py", line 12, in <module>
    print(total_price(cart))
  File "/home/me/shop/cart.py", line 5, in total_price
    return totl
NameError: name 'totl' is not defined. Did you mean: 'total'?"""


def test_error_lines_pick_the_innermost_frame_of_this_file():
    assert error_lines(TRACEBACK, "/home/me/shop/cart.py", 5) == (4, 4)
    assert error_lines("src/main.c:3:5: error: expected ';'", "main.c", 10) == (2, 2)
    assert error_lines(TRACEBACK, "other.py", 5) is None
    # A test file whose name ends like the program's is not the program.
    assert error_lines("tests/test_cart.py:3: AssertionError", "cart.py", 10) is None
    assert error_lines("python_programs/cart.py:4: in total_price", "/w/cart.py", 10) == (3, 3)


def test_the_fault_view_shows_short_files_whole_and_names_the_line_the_error_is_raised_at():
    view = fault_view(SourceFile(CODE, "cart.py", "python"), (4, 4))
    assert view.code == CODE and view.raised_at == "line 5: `return totl`" and not view.part_of


def test_the_fault_view_of_a_long_file_is_the_function_around_the_fault():
    filler = "".join(f"def f{i}():\n    return {i}\n\n" for i in range(100))
    source = SourceFile(filler + CODE, "cart.py", "python")
    view = fault_view(source, (304, 304))
    assert view.code == CODE.rstrip("\n") and view.part_of == "cart.py, lines 301-305"


def test_a_fix_is_the_span_of_changed_lines_and_an_insertion_keeps_a_line_to_replace():
    fixed = CODE.replace("totl", "total")
    fix = fix_from_texts(CODE, fixed, "typo")
    assert (fix.start_line, fix.end_line, fix.replacement) == (4, 4, "    return total")
    inserted = CODE.replace("    total = 0\n", "    total = 0\n    items = list(items)\n")
    fix = fix_from_texts(CODE, inserted, "copy")
    assert (fix.start_line, fix.end_line, fix.replacement) == (1, 1, "    total = 0\n    items = list(items)")
    deleted = CODE.replace("    total = 0\n", "")
    fix = fix_from_texts(CODE, deleted, "drop")
    assert (fix.start_line, fix.end_line, fix.replacement) == (0, 1, "def total_price(items):")
    assert fix_from_texts(CODE, CODE, "same") is None


def test_unified_diff_shape():
    diff = unified_diff(CODE, CODE.replace("totl", "total"), "cart.py")
    assert diff.startswith("--- a/cart.py\n+++ b/cart.py\n")
    assert "-    return totl\n+    return total\n" in diff


# One model whose chat answer rewrites the function with the typo fixed.
TYPO_MODEL = Script(
    replies=[],
    chat=[Reply(["`totl` is a typo for `total`.\n\n```python\n", CODE.replace("totl", "total"), "```"])],
)


async def test_debug_places_a_rewritten_function_as_a_one_line_edit():
    registry = ScriptedRegistry(Settings(), general=ScriptedBackend(TYPO_MODEL))
    try:
        result = await debug(registry, SourceFile(CODE, "/home/me/shop/cart.py", "python"), TRACEBACK)
    finally:
        registry.close()
    assert result.models == {"reasoning": "scripted"}  # one model: no draft
    assert result.source == "agreed" and result.explanation == "`totl` is a typo for `total`."
    assert (result.fix.start_line, result.fix.end_line, result.fix.replacement) == (4, 4, "    return total")
    assert "-    return totl\n+    return total\n" in result.diff(CODE, "cart.py")


@pytest.mark.model
@pytest.mark.skipif(default_model_path() is None, reason="embedded model not installed")
async def test_debug_with_the_embedded_model_returns_a_checked_edit_or_says_why():
    # Whatever the model proposes: an explanation, and a fix only if it applies and parses.
    registry = ModelRegistry(Settings().merged({"review": {"maxTokens": 160}, "completionModel": {"threads": 1}}))
    try:
        source = SourceFile(CODE, "/home/me/shop/cart.py", "python")
        result = await debug(registry, source, TRACEBACK, context_snippets=["class Item: price: float; qty: int"])
    finally:
        registry.close()
    assert result.models == {"reasoning": result.models["reasoning"]}  # one model: no draft
    assert result.explanation.strip() and result.why
    if result.fix is not None:
        assert error_count(result.new_text, "python") == 0
        assert result.new_text != CODE
        assert result.diff(CODE, "cart.py").startswith("--- a/cart.py")
    else:
        assert result.source == "none" and result.new_text is None
