"""Golden cases for post-processing: document with cursor (█), raw model output, expected suggestion."""

from __future__ import annotations

import pytest
from documents import request_at_mark

from tandem_lsp.completion.filters import postprocess, reached_end

CASES = [
    # Mid-line (text after the cursor): one line only, closing bracket not doubled.
    ("mid-line stops at newline", "print(█)\n", "'hi')\nprint('more')", "'hi'"),
    ("partial closer overlap", "foo(bar(█))\n", "1, 2))", "1, 2"),
    ("suffix overlap keeps words", "x = █ + 1\n", "y", "y"),
    # A random span ending inside an indentation: the rest of the line goes on a line of its own.
    ("span into an indentation", "def f(lo, hi):\n    whi█    mid = 1\n", "le lo < hi:\n    ", "le lo < hi:\n    "),
    ("span from an indentation", "def f(n):\n    for i in n:\n       █ i)\n", " if g(i):\n            return h(i //", " if g(i):\n            return h(i //"),
    # End of a statement line: the rest of the line only.
    ("statement line", "total = █\n", "a + b\nprint(total)\n", "a + b"),
    # Lines inserted above a line that leave its block and come back with its header: not that line again.
    (
        "above a line, back with its header",
        "def lcs(a, b):\n    if not a or not b:\n        return ''\n█        return a[0] + lcs(a[1:], b[1:])\n",
        "        return a\n\n    elif a[0] == b[0]:\n        return a[0] + lcs(a[1:], b[1:])\n",
        "        return a\n\n    elif a[0] == b[0]:\n",
    ),
    # ... or with the bracket that line goes on inside, then that line again.
    (
        "above a line, back with the bracket it is inside",
        "def f(node):\n    if node in seen:\n        return False\n█            g(n) for n in node.next\n        )\n",
        "        return True\n    else:\n        seen.add(node)\n        return any(\n            g(n) for n in node.next\n",
        "        return True\n    else:\n        seen.add(node)\n        return any(\n",
    ),
    # ... unless the code below is indented deeper: the lines missing up to it, not that code again.
    (
        "statement above deeper code",
        "def bitcount(n):\n    count = █\n        count += 1\n    return count\n",
        "0\n    while n:\n        n ^= n - 1\n        count += 1\n",
        "0\n    while n:\n        n ^= n - 1",
    ),
    # A line opening a block: its body, but not the code after it.
    (
        "block body",
        "def area(r):█\n",
        "\n    return 3.14 * r * r\n\ndef other():\n    pass\n",
        "\n    return 3.14 * r * r",
    ),
    (
        "brace block with its closing brace",
        "function f(x) {█\n",
        "\n  return x + 1;\n}\nfunction g() {}\n",
        "\n  return x + 1;\n}",
    ),
    # An empty line inside a block: statements at that indentation, stop at dedent.
    (
        "empty line in a block",
        "def f(items):\n    total = 0\n    █\n",
        "for item in items:\n        total += item\n    return total\n\nclass X:\n    pass\n",
        "for item in items:\n        total += item\n    return total",
    ),
    # Repeating the next line of the file is dropped.
    (
        "repeats next line",
        "def f(x):\n    █\n    return result\n",
        "result = x * 2\n    return result\n",
        "result = x * 2",
    ),
    # On a blank line the first line may already be the next line again: nothing to add.
    ("first line repeats next line", "def f(x):\n    █\n    return result\n", "return result\n    return result\n", ""),
    # Column 0 before an existing line: a whole line above it, its newline kept,
    # so that accepting it does not glue it onto the existing line.
    ("insert line above", "def f(x):\n█    return y\n", "    y = x * 2\n    return y\n", "    y = x * 2\n"),
    ("insert line above without a newline from the model", "def f(x):\n█    return y\n", "    y = x * 2", "    y = x * 2\n"),
    ("insert line above that re-types the existing line", "def f(x):\n█    return y\n", "    return y\n", ""),
    ("insert line above ending like the line below", "def f(x):\n█    y\n", "    z = y\n", "    z = y\n"),
    # At column 0 of an empty line the model writes the indentation: its first line sets the scope.
    (
        "column 0 of an empty line",
        "def f(n):\n█\n    return memo[n]\n",
        "    memo = {}\n\n    return f(n)\n",
        "    memo = {}",
    ),
    # After the missing line the model goes on with a near copy of the code below.
    (
        "near copy of a line below",
        "def visit(node):\n    █\n    return any(search(n) for n in node.successors)\n",
        "seen.add(node)\n    return search(n) for n in node.successors\n",
        "seen.add(node)",
    ),
    # The same statement at another indentation is another statement: a loop body above the loop's twin below.
    (
        "line like one below but in a deeper block",
        "def f(ops, out):\n    if ops:\n        █\n\n    while ops:\n        out.append(ops.pop())\n",
        "while ops and ops[-1] > 0:\n            out.append(ops.pop())\n        ops.append(0)\n",
        "while ops and ops[-1] > 0:\n            out.append(ops.pop())\n        ops.append(0)",
    ),
    # Loops on one line are cut.
    ("repetition", "def f():\n    █\n", "x = 1\n    x = 1\n    x = 1\n    x = 1\n", "x = 1\n    x = 1"),
    # Whitespace only is no suggestion.
    ("blank", "x = █\n", "   \n  ", ""),
    # A blank line followed by a dedent ends the suggestion.
    (
        "blank line then dedent",
        "class A:\n    def f(self):█\n",
        "\n        return 1\n\n    def g(self):\n        return 2\n",
        "\n        return 1",
    ),
    # A chat model leaving the code block: the fence and what follows go.
    ("closing fence", "def f(x):\n    █\n", "return x * 2\n```\n\nThis function doubles x.", "return x * 2"),
    ("fence first", "def f(x):\n    █\n", "```\n\nThis code defines f.", ""),
]


@pytest.mark.parametrize("name,document,raw,expected", CASES, ids=[c[0] for c in CASES])
def test_postprocess_golden(name, document, raw, expected):
    assert postprocess(request_at_mark(document), raw) == expected


def test_fences_are_text_in_markdown():
    assert postprocess(request_at_mark("Example:\n█\n", language="markdown"), "```python\nx = 1\n```") == "```python\nx = 1\n```"


def test_streaming_stops_at_a_fence():
    req = request_at_mark("def f(x):\n    █\n")
    assert not reached_end(req, "return x * 2\n    ``")
    assert reached_end(req, "return x * 2\n    ```")


def test_streaming_stops_once_the_scope_is_closed():
    req = request_at_mark("def area(r):█\n")
    assert not reached_end(req, "\n    return 3.14")
    assert not reached_end(req, "\n    return 3.14 * r * r\n")
    assert reached_end(req, "\n    return 3.14 * r * r\n\ndef")
    assert reached_end(request_at_mark("print(█)\n"), "'hi')\n")
    assert not reached_end(request_at_mark("print(█)\n"), "'hi'")


def test_streaming_stops_when_the_output_repeats_the_next_line():
    req = request_at_mark("def f(x):\n    █\n    return result\n")
    assert reached_end(req, "result = x * 2\n    return result")


def test_streaming_after_a_statement_above_deeper_code_waits_for_the_lines_missing_up_to_it():
    req = request_at_mark("def bitcount(n):\n    count = █\n        count += 1\n")
    assert not reached_end(req, "0\n")
    assert not reached_end(req, "0\n    while n:\n        n ^= n - 1\n")
    assert reached_end(req, "0\n    while n:\n        n ^= n - 1\n        count += 1\n")
    # Above code no deeper than the statement, its line is the answer at once.
    assert reached_end(request_at_mark("def f(n):\n    count = █\n    return count\n"), "0\n")


def test_streaming_waits_for_a_word_that_may_continue_the_statement_after_a_blank_line():
    req = request_at_mark("def f(x):\n    if x > 1:\n        return 1\n    █\n    return x\n")
    assert not reached_end(req, "elif x < 0:\n        return 0\n\n    e")
    assert not reached_end(req, "elif x < 0:\n        return 0\n\n    else:")
    assert reached_end(req, "elif x < 0:\n        return 0\n\n    x = 2\n")


def test_streaming_above_a_body_waits_for_what_follows_a_header_with_a_body_of_its_own():
    # On a fresh line above `return gcd(...)`, indented deeper: the header's own body may be followed by an `else:` heading it.
    req = request_at_mark("def gcd(a, b):\n    █\n        return gcd(b, a % b)\n")
    assert not reached_end(req, "if b == 0:\n")
    assert not reached_end(req, "if b == 0:\n        return a\n    el")
    assert reached_end(req, "if b == 0:\n        return a\n    else:\n        return gcd(b, a % b)\n")
    # Another statement after the header's own body: the code below was the header's body, the answer ends at the header.
    assert reached_end(req, "if b == 0:\n        return a\n    x")
    assert postprocess(req, "if b == 0:\n        return a\n    x = 1\n") == "if b == 0:"
