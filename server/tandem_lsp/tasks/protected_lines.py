"""Lines a fix must leave alone: tests, assertions and example calls.

A model asked to make an error go away can "fix" the check instead of the
code: change the expected value of an example, the input of a test, or drop
an assertion. That makes the file quieter and the program no more correct.
So a proposed fix keeps its changes to the code under test and loses the
ones that touch these lines - unless the error really is in them (a test that
calls a function by a wrong name, say), which a failed comparison is not.
"""

from __future__ import annotations

import ast
import difflib
import re

from tandem_lsp.context.symbols import parse_source

_TEST_NAME = re.compile(r"^(test|Test)")
_ASSERT_LINE = re.compile(r"^\s*(assert\b|assert_|expect\(|EXPECT_|ASSERT_)")
# An error that is a failed check points at the check, but the fault is in the code it checks.
_FAILED_CHECK = re.compile(r"AssertionError|^E\s+assert\b|\bassert\w*\(|expected .* (got|but)", re.IGNORECASE | re.MULTILINE)


def _python_protected(text: str) -> set[int] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines: set[int] = set()

    def span(node: ast.AST) -> range:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return range(first - 1, node.end_lineno or node.lineno)

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _TEST_NAME.match(node.name):
            lines.update(span(node))
        elif isinstance(node, ast.Assert):
            lines.update(span(node))
    for node in tree.body:
        # Module-level calls are examples and checks; a `__main__` block is the script's demo.
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            lines.update(span(node))
        elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            lines.update(span(node))
    return lines


def protected_lines(text: str, grammar: str | None) -> set[int]:
    """0-based lines of tests, assertions and example calls in `text`."""
    if grammar == "python":
        found = _python_protected(text)
        if found is not None:
            return found
    lines = {i for i, line in enumerate(text.splitlines()) if _ASSERT_LINE.match(line)}
    if grammar:
        for definition in parse_source("<buffer>", text.encode("utf-8", errors="replace"), grammar).definitions:
            if _TEST_NAME.match(definition.name):
                lines.update(range(definition.start_line, definition.end_line + 1))
    return lines


def error_is_in(protected: set[int], error_line: int | None, error_text: str) -> bool:
    """True when the error is raised in a protected line for a reason other than a failed check."""
    return error_line is not None and error_line in protected and not _FAILED_CHECK.search(error_text)


def without_protected_changes(old_text: str, new_text: str, protected: set[int]) -> str:
    """`new_text` with every change that touches a protected line of `old_text` undone."""
    if not protected:
        return new_text
    old, new = old_text.splitlines(), new_text.splitlines()
    kept: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        touched = set(range(i1, i2)) if i2 > i1 else {i1 - 1, i1} if i1 > 0 else {i1}
        if tag == "equal" or not (touched & protected if i2 > i1 else touched <= protected):
            kept += new[j1:j2]
        else:
            kept += old[i1:i2]
    return "\n".join(kept) + ("\n" if new_text.endswith("\n") else "")
