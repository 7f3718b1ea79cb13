"""Tests, assertions and examples a fix leaves alone (tasks/protected_lines.py)."""

from tandem_lsp.tasks.protected_lines import error_is_in, protected_lines, without_protected_changes

SOURCE = """def double(x):
    assert isinstance(x, int)
    return x + x


def test_double():
    assert double(2) == 4


print(double(3))

if __name__ == "__main__":
    double(5)
"""


def test_tests_assertions_example_calls_and_the_main_block_are_protected():
    assert protected_lines(SOURCE, "python") == {1, 5, 6, 9, 11, 12}


def test_other_languages_protect_test_functions_and_assert_lines():
    js = "function add(a, b) {\n  return a - b;\n}\nfunction testAdd() {\n  check(add(1, 2));\n}\nassert(add(1, 1) === 2);\n"
    assert protected_lines(js, "javascript") == {3, 4, 5, 6}


def test_changes_to_protected_lines_are_undone_and_the_rest_kept():
    changed = SOURCE.replace("x + x", "2 * x").replace("== 4", "== 5").replace("print(double(3))", "")
    kept = without_protected_changes(SOURCE, changed, protected_lines(SOURCE, "python"))
    assert kept == SOURCE.replace("x + x", "2 * x")


def test_a_failed_check_is_not_an_error_in_the_test_but_a_crash_in_it_is():
    protected = protected_lines(SOURCE, "python")
    assert not error_is_in(protected, 6, "E   AssertionError: assert 5 == 4")
    assert error_is_in(protected, 6, "NameError: name 'doubel' is not defined")
    assert not error_is_in(protected, 2, "NameError: name 'y' is not defined")
