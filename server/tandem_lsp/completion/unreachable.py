"""Does a suggestion leave the code below it unreachable? Then it is not the one to show.

A `return`, `break`, `continue`, `raise` or `throw` that the model wrote, with
existing statements after it in the same block, cuts those statements off:
the code the user already has would never run. A small model does this when
it mistakes where it is (`return depth == 0` on the first line of a function
that goes on). In infill.py's holes every such 0.5B suggestion was wrong and no
right one had this shape, so the engine tries the model's next choices instead.

A function or class the model opens above code the user already has, which
that code becomes the body of, cuts it off too when nothing in the file calls
it by name (`def knapsack_helper(i, capacity):` above the loop that fills the
table: the function around it then returns an empty table).

Statements the user typed themselves are not judged: only those that start
inside the suggestion.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.syntax_guard import grammar_to_check
from tandem_lsp.context.grammars import parser_for

# Statements after which nothing in the same block runs (tree-sitter node types, all grammars).
_ENDS_THE_BLOCK = {"return_statement", "break_statement", "continue_statement", "raise_statement", "throw_statement"}
# Siblings that are statements but still run or are not code: declarations JavaScript hoists, jump labels.
_STILL_REACHED = {"function_declaration", "generator_function_declaration", "labeled_statement"}
# What a statement's node type ends with, in every grammar (`else_clause`, comments and punctuation are not statements).
_STATEMENT_ENDINGS = ("_statement", "_declaration", "_definition")
# Definitions whose body is their indentation: one opened above existing lines takes them in (Python's node types).
_DEFINITIONS = {"function_definition", "class_definition"}


def leaves_code_unreachable(request: CompletionRequest, suggestion: str) -> bool:
    grammar = grammar_to_check(request, suggestion)
    if grammar is None:
        return False
    before = request.text[: request.offset].encode("utf-8", errors="replace")
    written = suggestion.encode("utf-8", errors="replace")
    tree = parser_for(grammar).parse(before + written + request.text[request.offset :].encode("utf-8", errors="replace"))
    if tree.root_node.has_error:
        return False  # a broken parse places statements anywhere; syntax_guard.py judges those
    start, end = len(before), len(before) + len(written)
    written_nodes = list(_nodes_starting_in(tree.root_node, start, end))
    if any(node.type in _ENDS_THE_BLOCK and _cut_off_after(node) for node in written_nodes):
        return True
    # A definition whose body runs on past the suggestion takes in the code below.
    source = tree.root_node.text or b""
    return any(node.type in _DEFINITIONS and node.end_byte > end and _never_called(node, source) for node in written_nodes)


def _nodes_starting_in(root: ts.Node, start: int, end: int):
    """Named nodes that begin within [start, end)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if node.start_byte >= start:
            yield node
        stack.extend(node.named_children)


def _never_called(definition: ts.Node, source: bytes) -> bool:
    """Whether the file mentions the definition's name only where something of that name is defined (`def knapsack` in `def knapsack`)."""
    name = definition.child_by_field_name("name")
    if name is None or not name.text:
        return False
    word = re.escape(name.text)
    mentions = len(re.findall(rb"(?<![\w$])" + word + rb"(?![\w$])", source))
    definitions = len(re.findall(rb"\b(?:def|class)\s+" + word + rb"(?![\w$])", source))
    return mentions <= definitions


def _cut_off_after(node: ts.Node) -> bool:
    sibling = node.next_named_sibling
    while sibling is not None:
        if _is_statement(sibling.type) and sibling.type not in _STILL_REACHED:
            return True
        sibling = sibling.next_named_sibling
    return False


def _is_statement(node_type: str) -> bool:
    return node_type == "declaration" or node_type.endswith(_STATEMENT_ENDINGS)
