"""Placing a model's code answer in the file (tasks/code_answer.py)."""

from tandem_lsp.tasks.code_answer import code_block, merge_answer, prose

FILE = """import math


class Shape:
    def area(self):
        return 0

    def name(self):
        return "shape"


def average(values):
    return sum(values) / (len(values) - 1)


print(average([1, 2]))
"""


def test_the_longest_fenced_block_is_the_code_and_the_rest_is_the_explanation():
    answer = "Use len.\n```python\nx = 1\n```\nor\n```python\ndef f():\n    return 2\n```\nDone."
    assert code_block(answer) == "def f():\n    return 2\n"
    assert prose(answer) == "Use len.\n\nor\n\nDone."
    assert code_block("The fix:\n```python\ndef f():\n    return 2\n") == "def f():\n    return 2\n"  # cut off before its fence closed
    assert code_block("no code here") is None


def test_a_function_replaces_the_definition_of_the_same_name():
    fixed = merge_answer(FILE, "def average(values):\n    return sum(values) / len(values)\n", "python")
    assert fixed == FILE.replace("(len(values) - 1)", "len(values)")


def test_a_method_answered_at_column_zero_goes_back_to_its_indentation():
    fixed = merge_answer(FILE, "def name(self):\n    return 'Shape'\n", "python")
    assert "    def name(self):\n        return 'Shape'\n" in fixed and fixed.count("def name") == 1


def test_a_new_import_of_the_answer_goes_after_the_files_imports():
    fixed = merge_answer(FILE, "import statistics\n\ndef average(values):\n    return statistics.mean(values)\n", "python")
    assert fixed.startswith("import math\nimport statistics\n") and "statistics.mean(values)" in fixed


def test_a_fragment_without_definitions_replaces_the_lines_it_resembles():
    fixed = merge_answer(FILE, "return sum(values) / len(values)\n", "python")
    assert "    return sum(values) / len(values)\n" in fixed and "- 1" not in fixed


def test_code_that_matches_nothing_in_the_file_is_not_placed():
    assert merge_answer(FILE, "while True:\n    launch_rockets()\n", "python") is None
    assert merge_answer(FILE, "   \n", "python") is None


def test_a_helper_the_fix_needs_goes_in_beside_the_function_it_came_with():
    answer = (
        "def _count(values):\n    return len(values)\n\n\n"
        "def average(values):\n    return sum(values) / _count(values)\n\n\n"
        "def _total(values):\n    return sum(values)\n"
    )
    fixed = merge_answer(FILE, answer, "python")
    # Before it, as in the answer; one the fix does not use (`_total`) is not part of the fix.
    assert "def _count(values):\n    return len(values)\n\n\ndef average(values):\n    return sum(values) / _count(values)\n" in fixed
    assert "_total" not in fixed and fixed.count("def average") == 1
    assert fixed.endswith("\n\nprint(average([1, 2]))\n")


def test_a_helper_after_the_fixed_function_follows_it_and_a_new_test_is_left_out():
    answer = (
        "def average(values):\n    return sum(values) / count(values)\n\n\n"
        "def count(values):\n    return len(values)\n\n\n"
        "def test_average():\n    assert average([1, 3]) == 2\n"
    )
    fixed = merge_answer(FILE, answer, "python")
    assert "    return sum(values) / count(values)\n\n\ndef count(values):\n    return len(values)\n\n\nprint(" in fixed
    assert "test_average" not in fixed


def test_a_helper_method_answered_at_column_zero_goes_into_the_class_one_blank_line_apart():
    answer = "def _label(self):\n    return 'shape'\n\ndef name(self):\n    return self._label()\n"
    fixed = merge_answer(FILE, answer, "python")
    assert "    def _label(self):\n        return 'shape'\n\n    def name(self):\n        return self._label()\n" in fixed
