"""Splitting a model's rewrite into its separate changes (tasks/likelihood/line_edits.py)."""

from tandem_lsp.tasks.likelihood.line_edits import one_change_versions


def test_each_change_of_a_line_is_applied_alone():
    assert one_change_versions("    for c in range(0, r):", "    for c in range(1, r + 1):") == [
        "    for c in range(1, r):",
        "    for c in range(0, r + 1):",
    ]
    # `))` holds two brackets: the change goes between them.
    assert one_change_versions("    return [1] + (len(d)) * [0] + [1]", "    return [1] + (len(d) - 1) * [0] + [9]")[0] == (
        "    return [1] + (len(d) - 1) * [0] + [1]"
    )


def test_one_change_spacing_or_another_statement_gives_no_versions():
    assert one_change_versions("x = a + 1", "x = a - 1") == []  # one change: the line itself is the candidate
    assert one_change_versions("x = a+1", "x = a + 1") == []  # spacing is no change
    assert one_change_versions("x = a + 1", "x = b + 2") == ["x = b + 1", "x = a + 2"]
    assert one_change_versions("    for child in node.children:", "    seen.add(node)") == []  # another statement
