"""Think-tag stripping on recorded model outputs: reasoning never reaches code."""

from tandem_lsp.models.reasoning import split_reasoning
from tandem_lsp.tasks.answer_json import load_json, read_findings
from tandem_lsp.tasks.findings import clean_replacement

# Recorded shapes of real answers (DeepSeek-R1 distills, Qwen3, QwQ).
R1_FULL = """<think>
The loop starts at 1, so values[0] is skipped. That is the bug.
</think>

{"findings": [{"line": 3, "end_line": 3, "severity": "error", "message": "Loop skips the first element", "replacement": "    for i in range(len(values)):"}]}"""

# The chat template opened <think> itself: only the closing tag is generated.
QWEN3_CLOSE_ONLY = """Okay, the user wants a fix. The recursion swaps the arguments wrongly.
</think>

{"explanation": "gcd must recurse on (b, a % b).", "line": 5, "end_line": 5, "replacement": "        return gcd(b, a % b)"}"""

# Truncated while still thinking (max_tokens hit): nothing is an answer.
TRUNCATED = "Some preamble <think>Let me check line 4. Actually the comparison should be <= because"

TWO_BLOCKS = "<thinking>first idea</thinking>The answer<think>second thought</think> is 42."


def test_full_think_block_is_separated():
    answer, reasoning = split_reasoning(R1_FULL)
    assert answer.startswith("{") and "<think>" not in answer
    assert "values[0] is skipped" in reasoning
    assert read_findings(R1_FULL)[0][0].line == 3


def test_close_tag_only_treats_the_prefix_as_reasoning():
    answer, reasoning = split_reasoning(QWEN3_CLOSE_ONLY)
    assert reasoning.startswith("Okay, the user wants a fix")
    assert load_json(QWEN3_CLOSE_ONLY)["line"] == 5
    assert "</think>" not in answer


def test_truncated_thinking_yields_no_answer():
    answer, reasoning = split_reasoning(TRUNCATED)
    assert answer == "Some preamble"
    assert reasoning.startswith("Let me check line 4")
    assert read_findings(TRUNCATED)[0] == []


def test_several_blocks_and_tag_variants():
    answer, reasoning = split_reasoning(TWO_BLOCKS)
    assert answer == "The answer is 42."
    assert reasoning == "first idea\n\nsecond thought"


def test_reasoning_inside_a_replacement_never_reaches_code():
    replacement = "<think>should it be <=?</think>\n    if weight <= j:"
    assert clean_replacement(replacement, ["    if weight < j:"]) == "    if weight <= j:"


def test_plain_answer_is_untouched():
    assert split_reasoning('{"findings": []}') == ('{"findings": []}', "")
