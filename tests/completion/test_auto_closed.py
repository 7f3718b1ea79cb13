"""The editor's auto-closed brackets: left out of the prompt, replaced by a suggestion that closes them itself."""

from __future__ import annotations

import pytest
from documents import request_at_mark

from tandem_lsp.completion.auto_closed import closed_by, without_auto_closed


@pytest.mark.parametrize(
    "document, closers",
    [
        ("this.debug(█)\nnext();\n", ")"),
        ('print("█")\n', '")'),
        ("ret += str[█]  \n", "]  "),
        ("const o = {█}\n", "}"),
        # Anything else after the cursor is the user's text: the request stays as it is.
        ("f(█);\n", ""),
        ("f(█) + 1\n", ""),
        ("f(█x)\n", ""),
        ("f(█\n", ""),
    ],
)
def test_closers_after_the_cursor_are_left_out(document, closers):
    request = request_at_mark(document, language="javascript")
    without, found = without_auto_closed(request)
    assert found == closers
    assert without.text == request.text[: request.offset] + request.text[request.offset + len(closers) :]
    assert without.offset == request.offset


@pytest.mark.parametrize(
    "document, suggestion, replaces",
    [
        # The model wrote the rest of the line, the statement's end with it.
        ("this.debug(█)\n", "this.a, this.b);", ")"),
        ("ret += str[█]\n", "i];", "]"),
        ('print("█")\n', 'hi")', '")'),
        ("hi = len(█)\n", "arr) - 1", ")"),
        # An answer whose own bracket closes a call of its own, then the editor's.
        ("f(█)\n", "g.pop());", ")"),
        # A callback written over several lines, closed on its last.
        ("items.forEach(█)\n", "function (item) {\n  use(item);\n});", ")"),
        # A bracket opened on the line above: the answer closes it, or leaves it to the editor.
        ("f(\n    a, █)\n", "b);", ")"),
        ("f(\n    a, █)\n", "b", ""),
        # Inside an outer call left open above, only the innermost is the editor's.
        ("foo(\n  bar(█)\n", "x", ""),
        ("foo(\n  bar(█)\n", "x)", ")"),
        # Of a string and a call, it may close only the string: that part is replaced.
        ('print("█")\n', 'hi"', '"'),
        # Left to the editor's closer: inserted before it.
        ("this.debug(█)\n", "this.a, this.b", ""),
        ("f(█)\n", "g.pop()", ""),
        ("f(█)\n", "g.pop();", ""),
        ("f(█)\n", "", ""),
    ],
)
def test_a_suggestion_replaces_the_closers_it_closes_itself(document, suggestion, replaces):
    request, closers = without_auto_closed(request_at_mark(document, language="javascript"))
    assert closed_by(request, suggestion, closers) == replaces
