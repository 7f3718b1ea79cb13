"""Golden cases per filter, each rule on its own: document with cursor (█), text in, text out.

test_postprocess_filters.py runs the whole pipeline; here a case fails in the
one filter whose rule it pins.
"""

from __future__ import annotations

import pytest
from documents import request_at_mark

from tandem_lsp.completion.filters import cut_at_fence, drop_blank, drop_repetition, insert_line_above, limit_scope, trim_suffix_overlap

CASES = [
    # limit_scope: where a suggestion may end.
    (limit_scope, "text after the cursor: this line only", "f(█)\n", "x)\ny = 1", "x)"),
    (limit_scope, "ending a statement: its line only", "total = █\n", "a + b\nprint(total)", "a + b"),
    (
        limit_scope,
        "ending a statement above deeper code: the lines missing up to it",
        "def f(n):\n    count = █\n        count += 1\n",
        "0\n    while n:\n        n &= n - 1",
        "0\n    while n:\n        n &= n - 1",
    ),
    (
        limit_scope,
        "ending a statement above deeper code: not the code below written again",
        "def f(n):\n    count = █\n        count += 1\n",
        "0\n    while n:\n        count += 1\n    return count",
        "0\n    while n:",
    ),
    (
        limit_scope,
        "ending a statement above deeper code: a model that goes on gets its first line",
        "def f(n):\n    count = █\n        count += 1\n",
        "0\n" + "    n = n\n" * (limit_scope.MAX_SPAN_LINES + 1),
        "0",
    ),
    (
        limit_scope,
        "ending a statement that leaves names the code below reads unbound: the lines that bind them",
        "def f(coins, total):\n    if not coins:\n        return █\n    return f(rest, total - first)\n",
        "0\n    first = coins[0]\n    rest = coins[1:]",
        "0\n    first = coins[0]\n    rest = coins[1:]",
    ),
    (
        limit_scope,
        "ending a statement that leaves names unbound: the model's lines up to where the file is whole, not what it goes on to",
        "def f(coins, total):\n    if not coins:\n        return █\n    return f(rest, total - first)\n",
        "0\n\n    first = coins[0]\n    rest = coins[1:]\n    return f(first, rest)",
        "0\n\n    first = coins[0]\n    rest = coins[1:]",
    ),
    (
        limit_scope,
        "ending a statement that leaves names unbound: lines that bind none of them are not kept",
        "def f(coins, total):\n    if not coins:\n        return █\n    return f(rest, total - first)\n",
        "0\n    total -= 1",
        "0",
    ),
    (
        limit_scope,
        "ending a statement inside a bracket opened above and left open: the lines that close it",
        "def f(a, b):\n    m = min(\n        a + █\n\n    return m\n",
        "1,\n        b\n    )",
        "1,\n        b\n    )",
    ),
    (
        limit_scope,
        "ending a statement after which the file is whole: its line only",
        "def f(coins):\n    first = █\n    return first\n",
        "coins[0]\n    rest = coins[1:]",
        "coins[0]",
    ),
    (
        limit_scope,
        "ending a statement in a file broken elsewhere: its line only",
        "def g(:\n    pass\n\ndef f(a, b):\n    m = min(\n        a + █\n\n    return m\n",
        "1,\n        b\n    )",
        "1,",
    ),
    (
        limit_scope,
        "text after the cursor: a span across lines ends where a line re-types that text",
        "def f(n):\n    count█ - 1\n",
        " = 0\n    while n:\n        n &= n - 1\n        count += 1",
        " = 0\n    while n:\n        n &= n - 1",
    ),
    (limit_scope, "text after the cursor: no line re-types it, the model goes on: the first line", "def f(n):\n    count█ - 1\n", " = 0\n    while n:\n        n += 1\n        m = 2\n        k = 3", " = 0"),
    (limit_scope, "text after the cursor: a span the model ended within a few lines", "def f(n):\n    count█ - 1\n", " = 0\n    while n:\n        n &= n", " = 0\n    while n:\n        n &= n"),
    (limit_scope, "text after the cursor: the next line again ends the search", "x = f(█ + 1)\ny = x\n", "a\ny = x\nz = 2 + 1)", "a"),
    (limit_scope, "text after the cursor: the first line re-types it, that line", "if █ > b:\n", "a > b:\n    return a > b:", "a > b:"),
    (limit_scope, "text after the cursor without a word is no span's end: the model goes on, the first line", "f(█)\n", "a,\n  g(b)\n  h(c)\n  k(d)\n  m(e)", "a,"),
    (
        limit_scope,
        "only blanks before the cursor, text after it: a span the model ended (it began inside the indentation)",
        "def f(n):\n    for i in n:\n       █ i)\n",
        " if g(i):\n            return h(i //",
        " if g(i):\n            return h(i //",
    ),
    (limit_scope, "column 0 before a line's rest without its indentation: a span the model ended", "def gcd(a, b):\n█return a\n", "    if b == 0:\n        ", "    if b == 0:\n        "),
    (limit_scope, "column 0 before an indented line: no span, the lines to insert above it", "def f():\n█    return 1\n", "    x = 1\n    y = 2\n", "    x = 1\n    y = 2\n"),
    (limit_scope, "column 0 before an indented line: out as far as that line", "def f(a):\n    if a:\n        if a > 1:\n█        return 0\n", "            a += 1\n        a -= 1\n    b = 2\n", "            a += 1\n        a -= 1"),
    (limit_scope, "column 0 before an indented line: the header whose body it is ends the lines", "def f(a):\n    if a:\n█        return 2\n", "        return 1\n    else:\n        return 2", "        return 1\n    else:"),
    (
        limit_scope,
        "column 0 before an indented line: out of its block and back with the header whose body it is",
        "def f(xs):\n    counts = [0]\n    for x in xs:\n█        out.extend(x)\n",
        "        counts[x] += 1\n\n    out = []\n    for x in counts:\n",
        "        counts[x] += 1\n\n    out = []\n    for x in counts:\n",
    ),
    (
        limit_scope,
        "column 0 before an indented line: out of its block and back with its header, then that line itself again",
        "def f(a, b):\n    if not a:\n        return b\n█        return a[0]\n",
        "        return ''\n\n    elif a[0] == b[0]:\n        return a[0]\n",
        "        return ''\n\n    elif a[0] == b[0]:\n        return a[0]\n",
    ),
    (
        limit_scope,
        "column 0 before an indented line: out of its block and back with the bracket it goes on inside",
        "def f(node):\n    if node:\n        return True\n█            g(n) for n in node.next\n        )\n",
        "        return True\n    else:\n        seen.add(node)\n        return any(\n",
        "        return True\n    else:\n        seen.add(node)\n        return any(\n",
    ),
    (
        limit_scope,
        "column 0 before an indented line: a header two steps above it is not its header",
        "def f(xs):\n    counts = [0]\n    for x in xs:\n        if x:\n█            out.extend(x)\n",
        "            counts[x] += 1\n    for x in counts:\n",
        "            counts[x] += 1",
    ),
    (
        limit_scope,
        "column 0 before an indented line: out of its block without that header, cut where the block ends",
        "def f(xs):\n    counts = [0]\n    for x in xs:\n█        out.extend(x)\n",
        "        counts[x] += 1\n\n    out = []\n",
        "        counts[x] += 1",
    ),
    (
        limit_scope,
        "column 0 before a deeper line: a header and the first lines of its body",
        "def f(xs):\n    t = 0\n█        t += x\n",
        "    for x in xs:\n        x *= 2\n",
        "    for x in xs:\n        x *= 2\n",
    ),
    (
        limit_scope,
        "above a deeper line: a header with a body of its own goes on when another branch of it follows",
        "def gcd(a, b):\n    █\n        return gcd(b, a % b)\n",
        "if b == 0:\n        return a\n    else:\n",
        "if b == 0:\n        return a\n    else:",
    ),
    (
        limit_scope,
        "above a deeper line: a header nested in the header goes on",
        "def f(g, n):\n    seen = set()\n    █\n            return False\n",
        "def search(node):\n        if node in seen:\n            return True\n",
        "def search(node):\n        if node in seen:",
    ),
    (limit_scope, "text after the cursor: a span takes at most MAX_SPAN_LINES more lines", "x = █ + 1\n", "1\n" * (limit_scope.MAX_SPAN_LINES + 1) + "y + 1", "1"),
    (limit_scope, "a block opener: its body, deeper than the opener", "def f():█\n", "\n    return 1\nx = 2", "\n    return 1"),
    (limit_scope, "a brace block keeps its closing brace", "if (a) {█\n", "\n  b();\n}\nc();", "\n  b();\n}"),
    (limit_scope, "a fresh line: statements at its indentation, not the dedent", "def f():\n    █\n", "a = 1\n    b = 2\nc = 3", "a = 1\n    b = 2"),
    (limit_scope, "two blank lines end it", "def f():\n    █\n", "a = 1\n\n\n    b = 2", "a = 1"),
    (
        limit_scope,
        "the rest of a function's body, nothing of it below: a blank line between its steps goes on",
        "def f(xs):\n    █\n\ndef g():\n    pass\n",
        "t = 0\n\n    for x in xs:\n        t += x\n\n    return t\n\ndef h():",
        "t = 0\n\n    for x in xs:\n        t += x\n\n    return t",
    ),
    (limit_scope, "a blank line then a statement, with the function going on below: it ends", "def f(xs):\n    █\n    return t\n", "t = 0\n\n    u = 1", "t = 0"),
    (limit_scope, "two blank lines before a new definition", "x = 1\n█\n", "y = 2\n\n\ndef g():\n    pass\n", "y = 2"),
    (limit_scope, "a blank line then a dedent end it", "class A:\n    def f(self):█\n", "\n        return 1\n\n    def g(self):", "\n        return 1"),
    (limit_scope, "column 0: the first line sets the indentation", "def f():\n█\n", "    a = 1\n    b = 2\nc = 3", "    a = 1\n    b = 2"),
    (
        limit_scope,
        "a blank line before else: at the same level goes on",
        "def f(x):\n    if x > 1:\n        return 1\n    █\n",
        "elif x < 0:\n        return 0\n\n    else:\n        return 2\nprint(f(1))",
        "elif x < 0:\n        return 0\n\n    else:\n        return 2",
    ),
    (limit_scope, "above a deeper block: a header ends it, the body is below", "def f(xs):\n    █\n        t += x\n    return t\n", "for x in xs:\n        t += 1", "for x in xs:"),
    (limit_scope, "above a deeper block: lines before the header stay", "def f(xs):\n    █\n        t += x\n", "t = 0\n    for x in xs:\n        y = x", "t = 0\n    for x in xs:"),
    (limit_scope, "above a deeper block: a brace header too", "function f(xs) {\n  █\n    t += x;\n  }\n}", "for (const x of xs) {\n    t += 1;", "for (const x of xs) {"),
    (limit_scope, "a typed header above a deeper block: its line only", "def f(xs):\n    for x in █\n        t += x\n", "xs:\n        t += 1", "xs:"),
    (limit_scope, "a typed header above a block no deeper keeps its body", "def f(xs):\n    for x in █\n    return t\n", "xs:\n        t += x", "xs:\n        t += x"),
    (limit_scope, "above a block no deeper: a header keeps its body", "def f(xs):\n    █\n    return t\n", "for x in xs:\n        t += x", "for x in xs:\n        t += x"),
    (limit_scope, "at most MAX_LINES lines", "def f():\n    █\n", "\n    ".join(f"x{i} = {i}" for i in range(40)), "\n    ".join(f"x{i} = {i}" for i in range(limit_scope.MAX_LINES))),
    # trim_suffix_overlap: nothing the document already has after the cursor.
    (trim_suffix_overlap, "a closing bracket already there", "f(█)\n", "x)", "x"),
    (trim_suffix_overlap, "a partial overlap of punctuation", "f(g(█))\n", "1))", "1"),
    (trim_suffix_overlap, "the answer's own closing bracket stays", "f(█)\n", "g.pop()", "g.pop()"),
    (trim_suffix_overlap, "a closing bracket too many goes, its own stays", "f(█)\n", "g.pop())", "g.pop()"),
    (trim_suffix_overlap, "an auto-closed quote", 'f("█")\n', 'hi")', "hi"),
    (trim_suffix_overlap, "a bracket opened on the line above", "f(\n    a, █)\n", "b)", "b"),
    (trim_suffix_overlap, "braces on the line are text, not a template", "const o = {a: f(█)};\n", "g())", "g()"),
    (trim_suffix_overlap, "words are not trimmed", "f(█bar)\n", "x, bar", "x, bar"),
    (trim_suffix_overlap, "a span across lines loses the re-typed rest of the line", "def f(n):\n    count█ - 1\n", " = 0\n    while n:\n        n &= n - 1", " = 0\n    while n:\n        n &= n"),
    (trim_suffix_overlap, "the next line again", "def f():\n    █\n    return r\n", "r = 1\n    return r", "r = 1"),
    (trim_suffix_overlap, "column 0: the short line it goes above, as it stands", "def f(a, b):\n    x = min(\n        a,\n█    )\n", "        b,\n    )\n", "        b,"),
    (trim_suffix_overlap, "column 0: the cursor's line again", "def f():\n█    return r\n", "    r = 1\n    return r", "    r = 1"),
    (trim_suffix_overlap, "the next line again with other spacing", "def f():\n    █\n    r = a + b\n", "r=a+b", ""),
    (trim_suffix_overlap, "a near copy of a line below", "def f():\n    █\n    return any(g(n) for n in ns)\n", "seen = 1\n    return g(n) for n in ns\n", "seen = 1"),
    (
        trim_suffix_overlap,
        "entries of a table above its last one, which has no comma, are twins, no copies",
        "ops = {\n█    '/': lambda a, b: a / b\n}\n",
        "    '+': lambda a, b: a + b,\n    '-': lambda a, b: a - b,\n",
        "    '+': lambda a, b: a + b,\n    '-': lambda a, b: a - b,\n",
    ),
    (trim_suffix_overlap, "a twin with other names is no copy", "def f():\n    if a:\n        █\n    else:\n        out.append(r[j])\n        j += 1\n", "out.append(l[i])\n        i += 1\n", "out.append(l[i])\n        i += 1\n"),
    (trim_suffix_overlap, "a twin with other operators is no copy", "ops = {\n    █\n    '/': lambda a, b: a / b,\n}\n", "'-': lambda a, b: a - b,\n    '*': lambda a, b: a * b,\n", "'-': lambda a, b: a - b,\n    '*': lambda a, b: a * b,\n"),
    (trim_suffix_overlap, "the same line in a deeper block is no copy", "def f():\n    if a:\n        █\n    out.append(x)\n", "b = 1\n        out.append(x)", "b = 1\n        out.append(x)"),
    # insert_line_above: column 0 before an existing line.
    (insert_line_above, "whole lines with their newline", "def f():\n█    return y\n", "    y = 2\n    y += 1", "    y = 2\n    y += 1\n"),
    (insert_line_above, "re-typing the existing line is nothing", "def f():\n█    return y\n", "    return y", ""),
    (insert_line_above, "re-typing it with other spacing is nothing too", "def to_base(n):\n█    alphabet = digits + letters\n", "    alphabet=digits + letters", ""),
    (insert_line_above, "elsewhere it does nothing", "def f():\n    █\n", "y = 2", "y = 2"),
    (insert_line_above, "before a line's rest without its indentation, the model's indentation: the line's start", "def f(a, b):\n    if b:\n        return a\n█lse:\n", "    e", "    e"),
    (
        insert_line_above,
        "before a line's rest without its indentation, a span that begins with a blank line: kept as written",
        "def f(queue):\n    while queue:\n        node = queue.pop()\n█turn True\n",
        "\n        if node:\n            re",
        "\n        if node:\n            re",
    ),
    (
        insert_line_above,
        "the same for a span that ends with the next line's indentation",
        "def gcd(a, b):\n█return a\n",
        "    if b == 0:\n        ",
        "    if b == 0:\n        ",
    ),
    (insert_line_above, "at the top level an unindented answer is a line to insert", "x = 1\n█print(x)\n", "y = 2", "y = 2\n"),
    # drop_repetition: a line repeated more than twice in a row ends the suggestion.
    (drop_repetition, "a loop on one line", "def f():\n    █\n", "x()\n    x()\n    x()\n    x()", "x()\n    x()"),
    (drop_repetition, "two repeats are allowed", "def f():\n    █\n", "x()\n    x()\n    y()", "x()\n    x()\n    y()"),
    # cut_at_fence: a Markdown fence line ends the code, except in prose.
    (cut_at_fence, "a closing fence", "def f():\n    █\n", "return 1\n```\nDone.", "return 1\n"),
    # drop_blank: whitespace is no suggestion, trailing blanks go.
    (drop_blank, "whitespace only", "x = █\n", "  \n ", ""),
    (drop_blank, "trailing blank lines", "x = █\n", "1\n\n", "1"),
    (drop_blank, "the space before text that follows the cursor at once stays", "if x:\n    █True\n", "return ", "return "),
    (drop_blank, "not before text that begins with a space", "x = █ + 1\n", "y ", "y"),
    (drop_blank, "a newline and an indentation before the rest of the line stay: it goes on its own line", "def f(lo, hi):\n    whi█    mid = 1\n", "le lo < hi:\n    ", "le lo < hi:\n    "),
    (drop_blank, "a newline alone before the rest of the line goes", "if █ and y:\n", "x\n", "x"),
    (drop_blank, "a newline before a rest that is an indented line stays", "def f():\n    y█    return y\n", " = 2\n", " = 2\n"),
    (drop_blank, "a newline that ends lines written at column 0 before a closing brace stays", "function f() {\n█};\n", "    return 1;\n", "    return 1;\n"),
    (drop_blank, "at column 0 the trailing indentation goes (insert_line_above decides)", "def f():\n█    return 1\n", "    x = 1\n    ", "    x = 1"),
]


@pytest.mark.parametrize("rule,name,document,text,expected", CASES, ids=[f"{c[0].__name__.rsplit('.', 1)[-1]}: {c[1]}" for c in CASES])
def test_each_filter_on_its_own(rule, name, document, text, expected):
    assert rule.apply(request_at_mark(document), text) == expected


def test_fences_are_text_in_prose():
    assert cut_at_fence.apply(request_at_mark("Example:\n█\n", language="markdown"), "```py\nx = 1\n```") == "```py\nx = 1\n```"


def test_a_statement_above_deeper_code_is_its_line_only_where_indentation_is_layout():
    # A deeper line after a C statement may continue it: no lines are known to be missing.
    c = request_at_mark("int f() {\n  x = █\n    + y;\n", language="c")
    assert limit_scope.apply(c, "1\n  if (a) {\n  }") == "1"


def test_a_first_line_indented_past_the_editor_stays_in_the_cursors_block_where_indentation_is_layout():
    # infill_languages.py f (0.5B): the model indented its first line 2 more and the rest of the block was cut.
    javascript = request_at_mark("function f() {\n    █\n}\n", language="javascript")
    assert limit_scope.apply(javascript, "  super(options)\n    this.x = [];\n}") == "  super(options)\n    this.x = [];"
    # In Python the deeper first line is a block of its own: a line at the cursor's indentation leaves it.
    python = request_at_mark("def f():\n    █\n", language="python")
    assert limit_scope.apply(python, "    a = 1\n    b = 2") == "    a = 1"
