"""Does a suggestion break the code? Then it is not the one to show.

A suggestion that leaves the file with more syntax errors than it had is
wrong in a way the server can see and the bare model cannot: a line at the
wrong indentation, a statement cut in half, a closing bracket too many. The
engine then asks the model for its next choices instead (engine.py).

A suggestion that ends by opening a block or a bracket is unfinished, not
broken: the body comes with the next suggestion, as the user types on. A
Python header is still judged: its body is the code below it or the one to
come, and a header at an indentation where neither fits breaks the block
around it (`for …:` at the level of the `for` above it, taking its body away;
infill.py a-c, 0.5B: 16 such answers shown, none passed). Lines inserted above
an existing line are an answer the model finished, not the start of one: a
header at their end needs that line for its body (`return arr` and an `else:`
of its own above `pivot = arr[0]`).

In the middle of a line (code after the cursor) the document already has an
error there, the gap being filled, so a count of errors cannot tell an answer
that closes it from one that leaves the line broken (`return base.lastEntry();`
before the user's `.firstEntry();`). There the line itself is judged: when the
rest of the file parses, an answer after which an error starts on the cursor's
line, or which splits it into two statements (`x;(y)` parses in JavaScript),
is not the one to show (infill.py / infill_languages.py g).
"""

from __future__ import annotations

import re

from tandem_lsp.code_checks import error_rows, parses_no_worse, python_syntax_error_line, statements_starting_on
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.indentation import indent_width, leading_whitespace
from tandem_lsp.languages import grammar_for

# Larger files are not parsed twice per suggestion: the check must stay a few milliseconds.
MAX_CHECKED_CHARS = 200_000
_OPENERS = (":", "{", "(", "[", ",", "\\")
# A whole Python line that opens a block of statements.
_PYTHON_HEADER = re.compile(r"\s*(async\s+)?(if|elif|else|for|while|try|except|finally|with|def|class|match|case)\b.*:$")


def grammar_to_check(request: CompletionRequest, suggestion: str) -> str | None:
    """The grammar a suggestion is checked in; None when it is not checked (nothing written, no grammar, a huge file)."""
    return document_grammar_to_check(request) if suggestion.strip() else None


def document_grammar_to_check(request: CompletionRequest) -> str | None:
    """The grammar the request's document is checked in; None when it is not checked (no grammar, a huge file)."""
    return None if len(request.text) > MAX_CHECKED_CHARS else grammar_for(request.language, request.path)


def breaks_code(request: CompletionRequest, suggestion: str) -> bool:
    grammar = grammar_to_check(request, suggestion)
    if grammar is None:
        return False
    last_line = suggestion.rstrip().splitlines()[-1].rstrip()
    python_header = grammar == "python" and _PYTHON_HEADER.match(last_line) and (suggestion.endswith("\n") or not request.line_suffix.strip())
    if python_header and request.inserting_above and "\n" in suggestion.rstrip("\n") and indent_width(request.line_suffix) <= indent_width(last_line):
        # Lines inserted above an existing line are the model's whole answer, no start of one: the header at
        # their end has no body to come, and the existing line is no deeper than it (infill.py k).
        return True
    if last_line.endswith(_OPENERS) and not python_header:
        return False
    before, after = request.text[: request.offset], request.text[request.offset :]
    with_suggestion = before + suggestion + after
    if grammar == "python" and _compiles(request.text):
        # Python's own parser, stricter than tree-sitter (a dedent to no known level).
        if not python_header:
            return not _compiles(with_suggestion)
        # A header's body is the code below, or the one the user writes next: broken only when neither will do.
        written = suggestion.rstrip("\n")
        body_to_come = "\n" + leading_whitespace(last_line) + "    pass"
        with_body_to_come = before + written + body_to_come + suggestion[len(written) :] + after
        return not (_compiles(with_suggestion) or _compiles(with_body_to_come))
    if python_header:
        return False  # in a file that does not compile, a header stays unfinished, as any opener
    return not parses_no_worse(request.text, with_suggestion, grammar)


def breaks_its_line(request: CompletionRequest, suggestion: str) -> bool:
    """In the middle of a line: whether the line is left broken, or split in two, by a one-line suggestion."""
    if "\n" in suggestion or not request.line_prefix.strip() or not request.line_suffix.strip():
        return False
    grammar = grammar_to_check(request, suggestion)
    if grammar is None:
        return False
    row = request.cursor_line
    if not error_rows(request.text, grammar) <= {row}:
        return False  # errors elsewhere: the parse of this line cannot be trusted either
    with_suggestion = request.text[: request.offset] + suggestion + request.text[request.offset :]
    if row in error_rows(with_suggestion, grammar):
        return True
    # A line too broken to hold a statement (`grou[v])`) that the answer makes one is mended, not split.
    return statements_starting_on(with_suggestion, grammar, row) > max(statements_starting_on(request.text, grammar, row), 1)


def _compiles(source: str) -> bool:
    return python_syntax_error_line(source) is None
