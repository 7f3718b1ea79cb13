"""Debug with the real embedded model, and the debug helpers it relies on."""

import pytest
from fakes import Reply, Script, ScriptedBackend, ScriptedRegistry

from tandem_lsp.config import Settings
from tandem_lsp.models.embedded import default_model_path
from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.tasks.chat import ChatOutcome
from tandem_lsp.tasks.code_ranges import error_count
from tandem_lsp.tasks.debug import apply_fix, code_window, debug, error_lines, parse_fix, unified_diff
from tandem_lsp.tasks.prompts import FixProposal

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


def test_code_window_shows_small_files_whole_and_long_ones_around_the_fault():
    assert code_window(["x"] * 30, (4, 4)) == (0, 29)
    assert code_window(["x"] * 1000, (500, 500)) == (440, 560)
    assert code_window(["x"] * 1000, None) == (0, 199)


def test_parse_fix_checks_range_and_syntax():
    good = ChatOutcome('{"explanation": "typo", "line": 5, "end_line": 5, "replacement": "    return total"}', "", "m", "eos")
    fix, _ = parse_fix(good, CODE, "python", (0, 4))
    assert fix == FixProposal(4, 4, "    return total", "typo")
    assert apply_fix(CODE, fix).endswith("    return total\n")
    broken = ChatOutcome('{"explanation": "x", "line": 5, "end_line": 5, "replacement": "    return (total"}', "", "m", "eos")
    assert parse_fix(broken, CODE, "python", (0, 4))[0] is None
    nowhere = ChatOutcome('{"explanation": "x", "line": 90, "end_line": 90, "replacement": "    return total"}', "", "m", "eos")
    assert parse_fix(nowhere, CODE, "python", (0, 4))[0] is None


def test_unified_diff_shape():
    diff = unified_diff(CODE, CODE.replace("totl", "total"), "cart.py")
    assert diff.startswith("--- a/cart.py\n+++ b/cart.py\n")
    assert "-    return totl\n+    return total\n" in diff


# A model that finds `totl` unlikely where it expects `total`, writes the rest of that line, and whose chat answer is unusable.
TYPO_MODEL = Script(
    replies=[Reply(["\n"], when="return total")],
    chat=[Reply(['{"explanation": "I am not sure.", "line": 90, "end_line": 90, "replacement": "pass"}'])],
    unlikely=[[" totl", " total"]],
)


async def test_debug_weighs_the_line_the_model_finds_unlikely():
    registry = ScriptedRegistry(Settings().merged({"review": {"maxTokens": 160}}), general=ScriptedBackend(TYPO_MODEL))
    try:
        result = await debug(registry, CODE, "/home/me/shop/cart.py", "python", TRACEBACK)
    finally:
        registry.close()
    assert result.models == {"reasoning": "scripted"}  # one model: a single chat pass
    # The chat answer was unusable; the likelihood of the model's own line decided.
    assert result.source == "likely line"
    assert result.fix is not None and result.fix.replacement == "    return total"
    assert error_count(result.new_text, "python") == 0
    assert "-    return totl\n+    return total\n" in result.diff(CODE, "cart.py")


@pytest.mark.model
@pytest.mark.skipif(default_model_path() is None, reason="embedded model not installed")
async def test_debug_with_the_embedded_model_returns_a_checked_edit_or_says_why():
    # Whatever the model proposes: an explanation, and a fix only if it applies and parses.
    registry = ModelRegistry(Settings().merged({"review": {"maxTokens": 160}, "completionModel": {"threads": 1}}))
    try:
        result = await debug(registry, CODE, "/home/me/shop/cart.py", "python", TRACEBACK, context_snippets=["class Item: price: float; qty: int"])
    finally:
        registry.close()
    assert result.models == {"reasoning": result.models["reasoning"]}  # one model: a single chat pass
    assert result.explanation.strip()
    if result.fix is not None:
        assert error_count(result.new_text, "python") == 0
        assert result.new_text != CODE
        assert result.diff(CODE, "cart.py").startswith("--- a/cart.py")
    else:
        assert result.source == "none" and result.new_text is None
