"""A rejected first answer (it breaks the code, leaves code below unreachable, is nothing on a fresh line, or leaves the names the code below reads unbound) is replaced by the model's next choice (rejected.py, engine.py)."""

from __future__ import annotations

from documents import request_at_mark
from fakes import Script, ScriptedBackend, ScriptedRegistry, settings_with

from tandem_lsp.completion.engine import CompletionEngine
from tandem_lsp.completion.needed_names import leaves_needed_names_unbound
from tandem_lsp.completion.block_structure import indents_past_the_user, leaves_body_without_header, steps_out_to_column_0
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.syntax_guard import breaks_code, breaks_its_line
from tandem_lsp.completion.unreachable import leaves_code_unreachable
from tandem_lsp.models.backend import GenerationRequest, GenerationResult

BEFORE = "def scale(x):\n    y = x + 1\n"
AFTER = "\n    return y\n"
REQUEST = CompletionRequest(text=BEFORE + AFTER, offset=len(BEFORE), language="python", path="/work/scale.py", document_key="k")


class ChoosingBackend(ScriptedBackend):
    """Answers by the rank of the first token it is asked for; it can be steered like a local model."""

    constrains_start = True

    def __init__(self, by_choice: list[str], stop_reason: str = "eos", ends_at_once: bool = False) -> None:
        super().__init__(Script())
        # Answers by the rank of the first token among those that do not end the output.
        self.by_choice = by_choice
        # Sampled as usual, the model picks an end token first (its answer is empty).
        self.ends_at_once = ends_at_once
        self.stop_reason = stop_reason
        self.choices: list[int | None] = []
        self.required_starts: list[str] = []

    def generate(self, request: GenerationRequest) -> GenerationResult:
        self.choices.append(request.first_choice)
        self.required_starts.append(request.required_start)
        if request.first_choice is None and self.ends_at_once:
            text = ""
        else:
            # Sampling as usual writes the best first token (choice 0), like greedy decoding.
            text = self.by_choice[min(request.first_choice or 0, len(self.by_choice) - 1)]
        # An empty answer wrote no token at all: the model ended at once.
        return GenerationResult(text=text, stop_reason=self.stop_reason, prompt_tokens=10, prompt_tokens_evaluated=10, generated_tokens=3 if text else 0)


async def suggest(backend: ScriptedBackend, request: CompletionRequest = REQUEST, **completion) -> str | None:
    # One answer unless rejected: comparing answers has its own tests (test_compared_candidates.py).
    settings = settings_with(**{"prefetch": False, "cache": False, "debounce_max_ms": 0, "compare_candidates": 1, **completion})
    registry = ScriptedRegistry(settings, general=backend)
    try:
        suggestion = await CompletionEngine(registry, lambda: settings.completion).complete(request)
    finally:
        registry.close()
    return suggestion.text if suggestion else None


def test_a_suggestion_breaks_the_code_when_it_adds_syntax_errors():
    assert breaks_code(REQUEST, "    y = y *")
    assert breaks_code(REQUEST, "  y = 2")  # an indentation the block does not have
    assert not breaks_code(REQUEST, "    y = y * 2")
    # Ending by opening a block or a bracket is unfinished, not broken.
    assert not breaks_code(REQUEST, "    if y > 3:")
    assert not breaks_code(REQUEST, "    y = max(")
    assert not breaks_code(request_at_mark("x = (█", language="", path="/a.txt"), ")))")  # no grammar: no judgement


# An expression missing in the middle of a line: the document has an error there before any answer.
JAVA_GAP = request_at_mark("class A {\n  Object f() {\n    int x = 1;\n    return █.firstEntry();\n  }\n}\n", language="java", path="/a/A.java")
JS_GAP = request_at_mark("function f() {\n  const t = 1\n  return █(Buffer.from(x));\n}\n", language="javascript", path="/a/f.js")


def test_in_the_middle_of_a_line_an_answer_that_leaves_the_line_broken_or_split_breaks_it():
    assert breaks_its_line(JAVA_GAP, "base.lastEntry();")  # `return base.lastEntry();.firstEntry();`
    assert not breaks_its_line(JAVA_GAP, "base")
    assert not breaks_its_line(JAVA_GAP, "this.base")
    # `return Buffer.from(x);(Buffer.from(x));` parses in JavaScript, as two statements where the user has one.
    assert breaks_its_line(JS_GAP, "Buffer.from(x);")
    assert not breaks_its_line(JS_GAP, "verify")
    python_condition = request_at_mark("def f(x):\n    if █:\n        return 2\n", path="/a/f.py")
    assert breaks_its_line(python_condition, "x >")
    assert not breaks_its_line(python_condition, "x > 1")
    # The start of a call is missing: the line holds no statement until the answer makes it one (a random span, infill.py j).
    broken_call = request_at_mark("def f(groups, u, v):\n    grou█[v])\n    return groups\n", path="/a/f.py")
    assert not breaks_its_line(broken_call, "ps[u].update(groups")
    assert breaks_its_line(broken_call, "ps[u].update(groups[u]); print(groups")


def test_statements_inside_the_lines_own_statement_do_not_split_it():
    java_for = request_at_mark("class A {\n  void f(int n) {\n    for (█; i < n; i++) {\n      g(i);\n    }\n  }\n}\n", language="java", path="/a/A.java")
    assert not breaks_its_line(java_for, "int i = 0")
    callback = request_at_mark("function f(items) {\n  items.forEach(█);\n}\n", language="javascript", path="/a/f.js")
    assert not breaks_its_line(callback, "(x) => { g(x); }")
    arrow = request_at_mark("function f() {\n  const g = (x) => █;\n}\n", language="javascript", path="/a/f.js")
    assert not breaks_its_line(arrow, "{ return x; }")


def test_the_line_is_not_judged_where_the_rest_of_the_file_is_broken_or_at_the_start_of_a_line():
    elsewhere = request_at_mark("def f(x):\n    if █:\n        return 2\n    y = (\n", path="/a/f.py")
    assert not breaks_its_line(elsewhere, "x >")
    line_above = request_at_mark("def f(x):\n█    return 2\n", path="/a/f.py")
    assert not breaks_its_line(line_above, "    y = (")
    at_the_end = request_at_mark("def f(x):\n    y = x +█\n", path="/a/f.py")
    assert not breaks_its_line(at_the_end, " (")


async def test_an_answer_that_splits_its_line_is_replaced_by_the_next_choice():
    backend = ChoosingBackend(["Buffer.from(x);", "verify"])
    assert await suggest(backend, JS_GAP) == "verify"
    assert backend.choices == [None, 1]


def test_a_python_header_breaks_the_code_where_neither_the_code_below_nor_a_body_to_come_fits_it():
    # At column 0 above a loop body indented twice: a header at the `for` level takes that body from the `for`.
    above_body = request_at_mark("def f(xs):\n    for x in xs:\n█            y = x\n", path="/p.py", document_key="k")
    assert breaks_code(above_body, "    if x:\n")
    assert not breaks_code(above_body, "        if x:\n")  # the code below is its body
    # Nothing below to be its body: the body comes next, as the user types on.
    assert not breaks_code(request_at_mark("def f(xs):\n    █\n", path="/p.py", document_key="k"), "for x in xs:")


async def test_a_breaking_suggestion_is_replaced_by_the_models_next_choice_that_does_not_break():
    backend = ChoosingBackend(["    y = y *", "  y = 2", "    y = y * 2"])
    assert await suggest(backend) == "    y = y * 2"
    assert backend.choices == [None, 1, 2]


async def test_when_only_later_lines_break_the_code_the_first_lines_are_the_answer():
    # The model wrote the missing line, then went on with a mangled copy of the code below.
    backend = ChoosingBackend(["    y = y * 2\n    return y for y in ys", "never asked"])
    assert await suggest(backend) == "    y = y * 2"
    assert backend.choices == [None]


async def test_when_every_choice_breaks_the_code_nothing_is_shown():
    backend = ChoosingBackend(["    y = y *", "  y = 2", "    y = )", "    y = y * 2"])
    assert await suggest(backend, alternatives=2) is None
    assert backend.choices == [None, 1, 2]


async def test_a_suggestion_that_keeps_the_code_whole_is_shown_at_once():
    backend = ChoosingBackend(["    y = y * 2", "never asked"])
    assert await suggest(backend) == "    y = y * 2"
    assert backend.choices == [None]


async def test_switched_off_or_a_backend_that_cannot_be_steered_shows_the_first_answer():
    backend = ChoosingBackend(["    y = y *", "    y = y * 2"])
    assert await suggest(backend, alternatives=0) == "    y = y *"
    assert backend.choices == [None]
    backend = ChoosingBackend(["    y = y *", "    y = y * 2"])
    backend.constrains_start = False
    assert await suggest(backend) == "    y = y *"


# The user pressed Enter, or put the cursor at the start of a line to insert one: they are there to write a line.
FRESH_LINE = request_at_mark("def scale(x):\n    y = x + 1\n    █\n    return y\n", path="/work/scale.py", document_key="k")
LINE_ABOVE = request_at_mark("def scale(x):\n    y = x + 1\n█    return y\n", path="/work/scale.py", document_key="k")


async def test_nothing_on_a_fresh_line_is_replaced_by_the_models_best_choice_that_does_not_end_at_once():
    backend = ChoosingBackend(["y = y * 2", "never asked"], ends_at_once=True)
    assert await suggest(backend, FRESH_LINE) == "y = y * 2"
    # The model ended at once: its best token that does not end the text comes first.
    assert backend.choices == [None, 0]


async def test_re_typing_the_next_line_above_it_is_nothing_too_and_the_runner_up_is_shown():
    backend = ChoosingBackend(["    return y", "    y = y * 2"])
    assert await suggest(backend, LINE_ABOVE) == "    y = y * 2\n"
    assert backend.choices == [None, 1]
    # At column 0 the runner-up of the first token is another indentation: the choice is taken after the one the model chose.
    assert backend.required_starts == ["", "    "]


async def test_nothing_is_an_answer_in_the_middle_of_a_line_and_after_a_time_cut():
    typed = request_at_mark("def scale(x):\n    y = x + 1█\n", path="/work/scale.py", document_key="k")
    backend = ChoosingBackend(["never asked"], ends_at_once=True)
    assert await suggest(backend, typed) is None
    assert backend.choices == [None]
    # A second try would hit the same limit and make the user wait twice.
    backend = ChoosingBackend(["never asked"], stop_reason="time", ends_at_once=True)
    assert await suggest(backend, FRESH_LINE) is None
    assert backend.choices == [None]


# The user pressed Enter on the first line of a function that goes on below.
FIRST_LINE = request_at_mark("def depth_ok(s):\n    █\n    for c in s:\n        depth += 1\n    return depth == 0\n", path="/work/p.py", document_key="k")


def test_a_return_or_break_the_model_writes_before_existing_statements_leaves_them_unreachable():
    assert leaves_code_unreachable(FIRST_LINE, "return depth == 0")
    assert leaves_code_unreachable(FIRST_LINE, "depth = 0\n    return depth")  # the suggestion's own later line too
    assert not leaves_code_unreachable(FIRST_LINE, "depth = 0")
    # At the end of a block, or before an `else`, nothing is cut off.
    end = request_at_mark("def f(x):\n    y = x\n    █\n\nz = 1\n", path="/p.py", document_key="k")
    assert not leaves_code_unreachable(end, "return y")
    branch = request_at_mark("def f(x):\n    if x:\n        █\n    else:\n        x = 1\n", path="/p.py", document_key="k")
    assert not leaves_code_unreachable(branch, "return 1")
    # What the user typed is theirs: `ret` typed, `urn 1` suggested.
    typed = request_at_mark("def f(x):\n    ret█\n    x = 2\n", path="/p.py", document_key="k")
    assert not leaves_code_unreachable(typed, "urn 1")


def test_a_function_opened_above_existing_code_that_nothing_calls_leaves_that_code_unreachable():
    # infill.py a, 1.5B: the loop's header missing, the model wrote a helper's header: the loop became its body.
    table = "def knapsack(capacity, items):\n    memo = {}\n\n    █\n        weight, value = items[i - 1]\n        memo[i] = weight\n    return memo\n"
    request = request_at_mark(table, path="/p.py", document_key="k")
    assert leaves_code_unreachable(request, "def knapsack_helper(i, capacity):")
    assert not leaves_code_unreachable(request, "for i in range(1, len(items) + 1):")
    assert leaves_code_unreachable(request, "def knapsack(i, j):")  # the function around it has that name: no call
    # A helper the code further down calls runs: its body is meant to be there.
    called = "def f(start):\n    seen = set()\n\n    █\n        if node in seen:\n            return False\n        return True\n\n    return search_from(start)\n"
    assert not leaves_code_unreachable(request_at_mark(called, path="/p.py", document_key="k"), "def search_from(node):")
    # A whole function of the model's own, above code that is not its body, takes nothing in.
    own = "def f(x):\n    █\n    return g(x)\n"
    assert not leaves_code_unreachable(request_at_mark(own, path="/p.py", document_key="k"), "def h(y):\n        return y\n")


def test_unreachable_code_is_judged_in_other_grammars_too():
    request = request_at_mark("function f(x) {\n  █\n  x += 1;\n  return x;\n}\n", language="javascript", path="/p.js", document_key="k")
    assert leaves_code_unreachable(request, "return 0;")
    hoisted = request_at_mark("function f() {\n  █\n  function g() {}\n}\n", language="javascript", path="/p.js", document_key="k")
    assert not leaves_code_unreachable(hoisted, "return g();")  # function declarations are hoisted


async def test_an_answer_that_leaves_code_unreachable_is_replaced_by_the_next_choice():
    backend = ChoosingBackend(["return depth == 0", "depth = 0"])
    assert await suggest(backend, FIRST_LINE) == "depth = 0"
    assert backend.choices == [None, 1]


async def test_when_only_a_later_line_ends_the_block_early_the_first_lines_are_the_answer():
    # The model wrote the missing line, then a `return` of its own above the user's loop.
    backend = ChoosingBackend(["depth = 0\n    return depth", "never asked"])
    assert await suggest(backend, FIRST_LINE) == "depth = 0"
    assert backend.choices == [None]


def test_lines_inserted_above_an_existing_line_that_end_with_a_header_need_that_line_for_its_body():
    # The model wrote its whole answer: a header at its end with no body below is no body to come.
    request = request_at_mark("def f(arr):\n    n = 1\n█    pivot = arr[0]\n", path="/p.py", document_key="k")
    assert breaks_code(request, "    n += 1\n    if arr:\n")
    assert not breaks_code(request, "    n += 1\n")
    assert not breaks_code(request, "    if arr:\n")  # one line: the user may write its body next


async def test_lines_inserted_above_that_end_with_a_header_without_a_body_keep_the_lines_before_it():
    # quicksort: `return arr` then an `else:` of its own above `pivot = ...`, no deeper than the `else:`.
    request = request_at_mark("def f(arr):\n    if not arr:\n█    pivot = arr[0]\n    return pivot\n", path="/p.py", document_key="k")
    backend = ChoosingBackend(["        return arr\n    else:\n", "never asked"])
    assert await suggest(backend, request) == "        return arr\n"
    assert backend.choices == [None]


async def test_above_a_body_without_its_header_a_header_with_a_body_of_its_own_keeps_the_header():
    # sieve: above `if m:`, the model writes its `for` and a body of its own that the `if` does not go on from.
    request = request_at_mark("def f(m):\n    primes = []\n█        if m:\n            primes.append(m)\n    return primes\n", path="/p.py", document_key="k")
    backend = ChoosingBackend(["    for n in range(m):\n        primes.append(n)\n", "never asked"])
    assert await suggest(backend, request) == "    for n in range(m):\n"
    assert backend.choices == [None]


async def test_a_next_choice_rejected_only_for_its_later_lines_shows_its_first_lines():
    # detect_cycle: the first answer breaks the loop; the next writes the `if` and a `return False` of its own above `return True`.
    request = request_at_mark("def f(a, b):\n    while a:\n█            return True\n    return False\n", path="/p.py", document_key="k")
    backend = ChoosingBackend(["        return False\n", "        if a == b:\n            return False\n"])
    assert await suggest(backend, request) == "        if a == b:\n"
    assert backend.choices == [None, 1]


async def test_the_line_break_that_ends_lines_inserted_above_the_cursors_line_is_no_line_of_its_own():
    # At column 0 before a body whose header is missing: the answer's line break is where it ends, not a second line.
    request = request_at_mark("def f(x):\n    y = x\n█        return y\n", path="/p.py", document_key="k")
    backend = ChoosingBackend(["    return 0\n", "    if y:\n"])
    assert await suggest(backend, request) == "    if y:\n"
    assert backend.choices == [None, 1]


# The user pressed Enter above a loop that fills `ret`, which nothing binds yet.
BEFORE_THE_LOOP = request_at_mark("def evens(xs):\n    █\n    for x in xs:\n        ret.append(x * 2)\n    return ret\n", path="/work/p.py", document_key="k")


def test_an_answer_that_binds_none_of_the_names_only_the_code_below_reads_leaves_them_unbound():
    assert leaves_needed_names_unbound(BEFORE_THE_LOOP, "if not xs:\n        return []")
    assert not leaves_needed_names_unbound(BEFORE_THE_LOOP, "ret = []")
    # Inserting a line above the loop at column 0 is the same place.
    above = request_at_mark("def evens(xs):\n█    for x in xs:\n        ret.append(x * 2)\n    return ret\n", path="/work/p.py", document_key="k")
    assert leaves_needed_names_unbound(above, "    total = 0\n")
    assert not leaves_needed_names_unbound(above, "    ret = []\n")
    # A name the code above reads too is not waited for here (a helper still to be written), nor is a builtin.
    helper = request_at_mark("def f(x):\n    y = helper(x)\n    █\n    return helper(y) + len(y)\n", path="/p.py", document_key="k")
    assert not leaves_needed_names_unbound(helper, "y += 1")
    # Nor a name every module has without binding it.
    module_name = request_at_mark("def here():\n    █\n    return os.path.dirname(__file__)\n\nimport os\n", path="/p.py", document_key="k")
    assert not leaves_needed_names_unbound(module_name, "pass")
    # A statement the user has begun is theirs.
    begun = request_at_mark("def evens(xs):\n    total█\n    for x in xs:\n        ret.append(x * 2)\n    return ret\n", path="/work/p.py", document_key="k")
    assert not leaves_needed_names_unbound(begun, " = 0")
    # Outside Python, or a file that does not compile: no judgement.
    js = request_at_mark("function f() {\n  █\n  return ret;\n}\n", language="javascript", path="/p.js", document_key="k")
    assert not leaves_needed_names_unbound(js, "let x = 1;")


async def test_an_answer_that_leaves_needed_names_unbound_gives_way_to_a_next_choice_that_binds_them():
    backend = ChoosingBackend(["if not xs:\n        return []", "total = 0", "ret = []"])
    assert await suggest(backend, BEFORE_THE_LOOP) == "ret = []"
    assert backend.choices == [None, 1, 2]


async def test_when_no_choice_binds_the_needed_names_the_first_answer_is_shown_after_all():
    backend = ChoosingBackend(["total = 0", "count = 0", "n = len(xs)", "x = 1"])
    assert await suggest(backend, BEFORE_THE_LOOP) == "total = 0"
    assert backend.choices == [None, 1, 2, 3]


def test_an_answer_indented_deeper_than_the_fresh_line_with_no_block_opened_for_it_is_rejected():
    # `def` opened the block and the editor indented into it: four more spaces are the model's mistake.
    body = request_at_mark("def f(xs):\n    █\n    return xs\n", path="/p.py", document_key="k")
    assert indents_past_the_user(body, "    for x in xs:")
    assert not indents_past_the_user(body, "for x in xs:")
    # After a line that opens a block, an editor that did not indent leaves the model to do it.
    not_indented = request_at_mark("def f(xs):\n    if xs:\n    █\n", path="/p.py", document_key="k")
    assert not indents_past_the_user(not_indented, "    return xs")
    # At column 0 the model writes the whole indentation.
    assert not indents_past_the_user(LINE_ABOVE, "    y = y * 2\n")


async def test_an_answer_indented_past_the_fresh_line_gives_way_to_the_next_choice():
    backend = ChoosingBackend(["    y = y * 2", "y = y * 3"])
    assert await suggest(backend, FRESH_LINE) == "y = y * 3"


async def test_after_a_broken_first_answer_a_choice_rejected_only_for_unbound_names_is_shown_when_none_is_better():
    backend = ChoosingBackend(["return []", "total = 0", "return xs"])
    assert await suggest(backend, BEFORE_THE_LOOP) == "total = 0"
    assert backend.choices == [None, 1, 2, 3]


# A loop body with no loop: the user is at column 0 on the line where its header goes.
BEFORE_THE_BODY = request_at_mark("def total(xs):\n    t = 0\n█\n        t += x\n    return t\n", path="/work/p.py", document_key="k")


def test_an_answer_that_does_not_open_the_block_whose_header_is_missing_leaves_the_body_without_it():
    assert leaves_body_without_header(BEFORE_THE_BODY, "    print(t)")
    assert not leaves_body_without_header(BEFORE_THE_BODY, "    for x in xs:")
    assert not leaves_body_without_header(BEFORE_THE_BODY, "    t = 1\n    for x in xs:")  # its last line heads the body
    # At column 0 before the body's own line (insert above it): the same.
    at_the_body = request_at_mark("def total(xs):\n    t = 0\n█        t += x\n", path="/p.py", document_key="k")
    assert leaves_body_without_header(at_the_body, "    t = 2\n")
    # The deeper code may go on from the answer's last line instead: the arguments of the call it opens.
    inside_the_call = request_at_mark("def f(xs):\n    if not xs:\n        return 0\n█            g(x) for x in xs\n        )\n", path="/p.py", document_key="k")
    assert not leaves_body_without_header(inside_the_call, "    else:\n        return any(\n")
    assert leaves_body_without_header(inside_the_call, "    return 1\n")
    # Code below no deeper than above, or a block the line above opens: no header is missing.
    assert not leaves_body_without_header(LINE_ABOVE, "    y = y * 2\n")
    opened = request_at_mark("def f(xs):\n    for x in xs:\n\n█        t += x\n", path="/p.py", document_key="k")
    assert not leaves_body_without_header(opened, "        t = 0")


async def test_a_next_choice_that_heads_the_body_below_is_shown_and_else_the_first_answer():
    backend = ChoosingBackend(["    print(t)", "    for x in xs:"])
    assert await suggest(backend, BEFORE_THE_BODY) == "    for x in xs:"
    backend = ChoosingBackend(["    print(t)", "    print(xs)"])
    assert await suggest(backend, BEFORE_THE_BODY) == "    print(t)"


def test_an_answer_at_column_0_inside_a_block_steps_out_of_it():
    # Column 0 between two lines of a function body: a new `def` or a module comment ends the function.
    assert steps_out_to_column_0(LINE_ABOVE, "def main():\n")
    assert steps_out_to_column_0(LINE_ABOVE, "# Example usage:\n")
    assert steps_out_to_column_0(LINE_ABOVE, "    y = 2\nprint(y)\n")  # a later line too
    assert not steps_out_to_column_0(LINE_ABOVE, "    y = y * 2\n")
    # Right after `def ...:` the body must be indented.
    after_def = request_at_mark("def f(xs):\n█\n    return xs\n", path="/p.py", document_key="k")
    assert steps_out_to_column_0(after_def, "xs = list(xs)")
    # At the end of a function (code below at column 0) or above a body whose header is missing, column 0 is right.
    at_the_end = request_at_mark("def f(xs):\n    return xs\n\n█\nprint(f(1))\n", path="/p.py", document_key="k")
    assert not steps_out_to_column_0(at_the_end, "def g():\n    pass")
    header_missing = request_at_mark("xs = [1]\n█\n    print(x)\n", path="/p.py", document_key="k")
    assert not steps_out_to_column_0(header_missing, "for x in xs:")


async def test_a_next_choice_that_stays_in_the_block_is_shown_instead_of_one_at_column_0():
    backend = ChoosingBackend(["def main():\n", "    y = y * 2\n"])
    assert await suggest(backend, LINE_ABOVE) == "    y = y * 2\n"


async def test_a_file_too_deep_for_pythons_parser_is_judged_without_it():
    # A long chain of operators makes Python's parser and symbol table recurse past their limit.
    deep = request_at_mark("def f():\n    x = " + "1 + " * 30_000 + "1\n    return █\n", path="/work/p.py", document_key="k")
    assert await suggest(ChoosingBackend(["x\n    y = 2"]), deep) == "x"
