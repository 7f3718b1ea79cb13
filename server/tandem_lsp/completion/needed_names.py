"""Does a suggestion leave unbound the names the code below it is waiting for?

When the code below the cursor reads a name that nothing in the file binds,
and nothing above the cursor reads it either, the line the user is writing is
most likely the one that binds it (`ret = []` above the loop that fills `ret`).
A small model that writes some other plausible line there (the loop again, an
early return) leaves the code below broken in a way the server can see. The
engine then tries the model's next choices, and shows the first answer again
when none of them binds such a name either (the user may well be writing
something else first): this rule changes which answer is shown, never whether
one is.

Python only: its symbol table says what is bound, as the compiler sees it.
"""

from __future__ import annotations

import ast
import functools

from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.syntax_guard import grammar_to_check
from tandem_lsp.code_checks import python_unbound_names


def leaves_needed_names_unbound(request: CompletionRequest, suggestion: str) -> bool:
    # Only a fresh line: once the user has begun a statement, what it binds is their choice.
    if request.line_prefix.strip() or grammar_to_check(request, suggestion) != "python":
        return False
    needed = names_waited_for(request.text, request.cursor_line, len(request.line_prefix.encode("utf-8")))
    if not needed:
        return False
    after = python_unbound_names(request.text[: request.offset] + suggestion + request.text[request.offset :])
    return after is not None and needed <= after


# The same document is judged for every answer the engine weighs at one cursor.
@functools.lru_cache(maxsize=8)
def names_waited_for(text: str, cursor_line: int, cursor_byte: int) -> frozenset[str]:
    """Unbound names that the code reads only after the cursor (0-based line, byte in it), in the function around it."""
    unbound = python_unbound_names(text)
    if not unbound:
        return frozenset()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    cursor = (cursor_line + 1, cursor_byte)  # ast counts lines from 1, columns in bytes
    scope = _innermost_function(tree, cursor[0])
    if scope is None:
        return frozenset()
    reads = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id in unbound]
    read_before = {node.id for node in reads if (node.lineno, node.col_offset) < cursor}
    in_scope = {id(node) for node in ast.walk(scope)}
    read_after = {node.id for node in reads if id(node) in in_scope and (node.lineno, node.col_offset) >= cursor}
    return frozenset(read_after - read_before)


def _innermost_function(tree: ast.AST, line: int) -> ast.AST | None:
    found = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno < line <= (node.end_lineno or node.lineno):
            if found is None or node.lineno > found.lineno:
                found = node
    return found
