"""Line ranges of code, found with tree-sitter: what to review, and whether an edit still parses.

A task reviews a selection, else the function or class around the cursor,
else the whole file. A proposed replacement is only trusted when the edited
document parses no worse than the original did. Completion asks the same of a
suggestion (syntax_guard.py), and which names a Python file reads unbound
(needed_names.py); so this module sits beside both, under neither.
"""

from __future__ import annotations

import ast
import builtins
import functools
import os
import re
import symtable
import warnings
from collections.abc import Iterator

import tree_sitter as ts

from tandem_lsp.context.grammars import parser_for
from tandem_lsp.context.symbols import parse_source

# Definition kinds that make a sensible unit to review, innermost first.
_SCOPE_KINDS = ("function", "method", "class", "struct", "interface", "enum")

LineRange = tuple[int, int]  # 0-based, inclusive


def split_lines(text: str) -> list[str]:
    """Lines without their endings; a final newline does not add an empty line."""
    return text.splitlines() or [""]


# A document is asked several questions (its errors, its line's statements), and the unchanged one
# again for every answer weighed at one cursor (or every fix of one review): parse each once.
@functools.lru_cache(maxsize=4)
def _parsed(text: str, grammar: str) -> ts.Tree:
    return parser_for(grammar).parse(text.encode("utf-8", errors="replace"))


def _error_nodes(text: str, grammar: str) -> list[ts.Node]:
    """The syntax errors tree-sitter finds (ERROR and MISSING nodes), outermost only."""
    tree = _parsed(text, grammar)
    found: list[ts.Node] = []
    stack = [tree.root_node] if tree.root_node.has_error else []
    while stack:
        node: ts.Node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
        elif node.has_error:
            stack.extend(node.children)
    return found


def error_count(text: str, grammar: str) -> int:
    """How many syntax errors tree-sitter finds (ERROR and MISSING nodes)."""
    return len(_error_nodes(text, grammar))


def error_rows(text: str, grammar: str) -> frozenset[int]:
    """The 0-based lines on which a syntax error starts."""
    return frozenset(node.start_point.row for node in _error_nodes(text, grammar))


# Node type endings of statements and declarations (a line split into two shows as one more of them).
_STATEMENT_ENDS = ("statement", "declaration")


def statements_starting_on(text: str, grammar: str, row: int) -> int:
    """How many statements (or declarations) start on line `row` (0-based), those inside one of them not counted.

    A `for`'s declaration or an arrow function's body belongs to the statement
    that holds it; `return f(x);(g(x));` is two statements side by side.
    """
    count = 0
    stack = [_parsed(text, grammar).root_node]
    while stack:
        node = stack.pop()
        if node.start_point.row > row or node.end_point.row < row:
            continue
        if node.start_point.row == row and node.is_named and node.type.endswith(_STATEMENT_ENDS):
            count += 1
            continue
        stack.extend(node.children)
    return count


# Nodes that hold no behaviour: comments, and strings standing alone as statements (docstrings).
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
_STRING_TYPES = frozenset({"string", "string_literal", "template_string", "raw_string_literal", "interpreted_string_literal"})


def _holds_no_behaviour(node: ts.Node) -> bool:
    if node.type in _COMMENT_TYPES:
        return True
    return node.type == "expression_statement" and node.named_child_count == 1 and node.named_children[0].type in _STRING_TYPES


def _code_leaves(text: str, grammar: str) -> Iterator[ts.Node]:
    """The syntax tree's leaves in source order, skipping comments and docstrings."""
    stack = [parser_for(grammar).parse(text.encode("utf-8", errors="replace")).root_node]
    while stack:
        node = stack.pop()
        if _holds_no_behaviour(node):
            continue
        if node.child_count == 0:
            yield node
        else:
            stack.extend(reversed(node.children))


@functools.lru_cache(maxsize=16)
def code_lines(text: str, grammar: str | None) -> frozenset[int] | None:
    """Lines that hold code (not only comments or docstrings); None when the language is unknown."""
    if grammar is None:
        return None
    return frozenset(line for leaf in _code_leaves(text, grammar) for line in range(leaf.start_point[0], leaf.end_point[0] + 1))


@functools.lru_cache(maxsize=16)
def comment_columns(text: str, grammar: str | None) -> dict[int, int]:
    """Line -> character column where a comment starts on it (the first one), for the lines that have one."""
    if grammar is None:
        return {}
    data = text.encode("utf-8", errors="replace")
    tree = parser_for(grammar).parse(data)
    lines = text.split("\n")
    found: dict[int, int] = {}
    stack = [tree.root_node]
    while stack:
        node: ts.Node = stack.pop()
        if node.type in _COMMENT_TYPES:
            row, byte_column = node.start_point
            if row < len(lines):
                column = len(lines[row].encode("utf-8", errors="replace")[:byte_column].decode("utf-8", errors="replace"))
                found[row] = min(found.get(row, column), column)
            continue
        stack.extend(node.children)
    return found


def replace_lines(lines: list[str], start: int, end: int, new_text: str) -> list[str]:
    """`lines` with lines start..end (inclusive) replaced by `new_text`'s lines."""
    new_lines = new_text.splitlines() if new_text else []
    return lines[:start] + new_lines + lines[end + 1 :]


def edit_parses(text: str, grammar: str | None, start: int, end: int, new_text: str) -> bool:
    """True when replacing lines start..end leaves no more syntax errors than before.

    Unknown languages pass: we cannot check them, and refusing every fix would be worse.
    """
    return parses_no_worse(text, _edited(text, start, end, new_text), grammar)


def parses_no_worse(before: str, after: str, grammar: str | None) -> bool:
    """True when `after` has no more syntax errors than `before` (unknown languages pass, as in edit_parses)."""
    if grammar is None:
        return True
    return error_count(after, grammar) <= error_count(before, grammar)


def _edited(text: str, start: int, end: int, new_text: str) -> str:
    """`text` with lines start..end replaced by `new_text`, for checking the result."""
    return "\n".join(replace_lines(split_lines(text), start, end, new_text)) + "\n"


def code_tokens(text: str, grammar: str | None) -> list[str]:
    """The code's tokens, without comments, docstrings or whitespace (tree-sitter leaves; words and symbols without a grammar)."""
    if grammar is None:
        return _WORDS.findall(text)
    return [leaf.text.decode("utf-8", errors="replace") if leaf.text is not None else "" for leaf in _code_leaves(text, grammar)]


_WORDS = re.compile(r"\w+|[^\w\s]")


def changes_code(old: str, new: str, grammar: str | None) -> bool:
    """False when `new` differs from `old` only in whitespace, comments or docstrings: an edit that fixes nothing.

    (A model asked for a fix sometimes swaps a docstring for a comment that restates the code.)
    """
    return code_tokens(old, grammar) != code_tokens(new, grammar)


@functools.lru_cache(maxsize=16)
def defined_names(text: str, grammar: str | None) -> frozenset[str]:
    """Names the file defines (functions, classes, top-level variables)."""
    if grammar is None:
        return frozenset()
    return frozenset(d.name for d in parse_source("<buffer>", text.encode("utf-8", errors="replace"), grammar).definitions)


def keeps_definitions(text: str, grammar: str | None, start: int, end: int, new_text: str) -> bool:
    """True when replacing lines start..end leaves every function, class and variable the file defines defined,
    and (in Python) binds every name the code reads that was bound before.

    A fix that deletes a definition (a `def` line turned into a statement) breaks
    every caller; one that drops a local's assignment (`first, *rest = arr` made
    `first = arr[0]`) breaks the next line that reads it.
    """
    if grammar is None:
        return True
    edited = _edited(text, start, end, new_text)
    if not defined_names(text, grammar) <= defined_names(edited, grammar):
        return False
    if grammar == "python":
        before, after = python_unbound_names(text), python_unbound_names(edited)
        return before is None or after is None or after <= before
    return True


@functools.lru_cache(maxsize=32)
def python_syntax_error_line(source: str) -> int | None:
    """The 0-based line of the first syntax error Python's own parser reports, or None when the source compiles.

    Python's parser also sees what tree-sitter forgives, such as a dedent to no known level.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # `1if x` and the like: judged, not reported
            ast.parse(source)
    except SyntaxError as error:
        return max((error.lineno or 1) - 1, 0)
    except (ValueError, RecursionError, MemoryError):  # null bytes; an expression too deep for the parser
        return 0
    return None


_STAR_IMPORT = re.compile(r"^\s*from\s+\S+\s+import\s+\*", re.MULTILINE)
# Names every module has without binding them (`__file__` is not a builtin).
_MODULE_NAMES = frozenset({"__file__", "__name__", "__doc__", "__spec__", "__loader__", "__package__", "__path__", "__cached__", "__builtins__", "__annotations__"})


@functools.lru_cache(maxsize=16)
def python_unbound_names(text: str) -> frozenset[str] | None:
    """Names Python code reads that nothing binds (no assignment, import, parameter or builtin); None when it does not compile.

    The standard library's symbol table resolves scopes as the compiler does.
    """
    if _STAR_IMPORT.search(text):
        return None  # `from m import *` binds names no table lists
    try:
        module = symtable.symtable(text, "<buffer>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    module_names = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    unbound: set[str] = set()
    tables = [module]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if (
                symbol.is_referenced()
                and symbol.is_global()
                and not symbol.is_declared_global()
                and name not in module_names
                and not hasattr(builtins, name)
                and name not in _MODULE_NAMES
            ):
                unbound.add(name)
    return frozenset(unbound)


def enclosing_scope(text: str, grammar: str | None, line: int, path: str = "") -> LineRange | None:
    """The innermost function (else class-like definition) containing `line`, or None."""
    if grammar is None:
        return None
    data = text.encode("utf-8", errors="replace")
    definitions = parse_source(os.fspath(path) or "<buffer>", data, grammar).definitions
    best: LineRange | None = None
    for kinds in (_SCOPE_KINDS[:2], _SCOPE_KINDS[2:]):
        for definition in definitions:
            if definition.kind in kinds and definition.start_line <= line <= definition.end_line:
                candidate = (definition.start_line, definition.end_line)
                if best is None or candidate[1] - candidate[0] < best[1] - best[0]:
                    best = candidate
        if best is not None:
            return best
    return None


def review_scope(text: str, grammar: str | None, selection: LineRange | None, path: str = "") -> LineRange:
    """The lines a review covers: a real selection, else the whole file.

    A selection of a single line (a cursor) widens to its enclosing function or class.
    """
    last = len(split_lines(text)) - 1
    if selection is None:
        return (0, last)
    start, end = sorted((max(0, min(selection[0], last)), max(0, min(selection[1], last))))
    if start == end:
        return enclosing_scope(text, grammar, start, path) or (0, last)
    return (start, end)
