"""Does a suggestion break the code? Then it is not the one to show.

A suggestion that leaves the file with more syntax errors than it had is
wrong in a way the server can see and the bare model cannot: a line at the
wrong indentation, a statement cut in half, a closing bracket too many. The
engine then asks the model for its next choices instead (engine.py).

A suggestion that ends by opening a block or a bracket is unfinished, not
broken: the body comes with the next suggestion, as the user types on.
"""

from __future__ import annotations

import ast

from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.languages import grammar_for
from tandem_lsp.code_checks import parses_no_worse

# Larger files are not parsed twice per suggestion: the check must stay a few milliseconds.
MAX_CHECKED_CHARS = 200_000
_OPENERS = (":", "{", "(", "[", ",", "\\")


def grammar_to_check(request: CompletionRequest, suggestion: str) -> str | None:
    """The grammar a suggestion is checked in; None when it is not checked (nothing written, no grammar, a huge file)."""
    if not suggestion.strip() or len(request.text) > MAX_CHECKED_CHARS:
        return None
    return grammar_for(request.language, request.path)


def breaks_code(request: CompletionRequest, suggestion: str) -> bool:
    grammar = grammar_to_check(request, suggestion)
    if grammar is None:
        return False
    last_line = suggestion.rstrip().splitlines()[-1].rstrip()
    if last_line.endswith(_OPENERS):
        return False
    with_suggestion = request.text[: request.offset] + suggestion + request.text[request.offset :]
    if grammar == "python" and _compiles(request.text):
        # Python's own parser also sees what tree-sitter forgives, such as a dedent to no known level.
        return not _compiles(with_suggestion)
    return not parses_no_worse(request.text, with_suggestion, grammar)


def _compiles(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True
