"""Prompt assembly: FIM layouts per family, budget, cache-friendly layout, context blocks."""

from __future__ import annotations

from dataclasses import dataclass

from tandem_lsp.completion.prompt import PREFIX_LINE_STRIDE, PromptBudget, TokenCounter, build_prompt
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.config import ModelSettings
from tandem_lsp.models.backend import SpecialToken
from tandem_lsp.models.fim import template_for_family
from tandem_lsp.models.llama_backend import LlamaBackend


def words(text: str) -> int:
    """A stand-in tokenizer: one token per whitespace-separated word (+1 per line)."""
    return len(text.split()) + text.count("\n")


COUNT = TokenCounter(words)
DOC = "import os\n\ndef area(r):\n    return 3.14 * r * r\n\nprint(ar)\nprint('done')\n"
CURSOR = DOC.index("ar)") + 2
REQUEST = CompletionRequest(text=DOC, offset=CURSOR, language="python", path="/w/geo.py")


def test_qwen_layout_puts_the_typed_line_after_the_middle_token():
    built = build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(window=500), COUNT)
    assert built.render() == (
        "<|fim_prefix|>import os\n\ndef area(r):\n    return 3.14 * r * r\n\n"
        "<|fim_suffix|>)\nprint('done')\n<|fim_middle|>print(ar"
    )
    # Control tokens travel as tokens, never as text to be parsed.
    assert [p.text for p in built.pieces if isinstance(p, SpecialToken)] == ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]


def test_codestral_layout_is_suffix_first():
    built = build_prompt(template_for_family("codestral"), REQUEST, PromptBudget(window=500), COUNT)
    assert built.render().startswith("[SUFFIX])\nprint('done')\n[PREFIX]import os")
    assert built.render().endswith("print(ar")


def test_prefix_only_model_gets_the_text_before_the_cursor_inside_a_code_fence():
    built = build_prompt(template_for_family("none-such"), REQUEST, PromptBudget(window=500), COUNT)
    assert built.render() == "```python\n" + DOC[:CURSOR]


def test_prefix_only_prompt_keeps_the_indent_but_its_last_space():
    doc = "def f(x):\n    \n"
    request = CompletionRequest(text=doc, offset=len("def f(x):\n    "), language="python")
    built = build_prompt(template_for_family("none-such"), request, PromptBudget(window=500), COUNT)
    assert built.render() == "```python\ndef f(x):\n   "
    assert built.align_output(" return x") == "return x"


def test_typing_on_a_line_changes_only_the_end_of_the_prompt():
    fim = template_for_family("qwen")
    before = build_prompt(fim, REQUEST, PromptBudget(window=500), COUNT).render()
    typed = CompletionRequest(text=DOC[:CURSOR] + "ea" + DOC[CURSOR:], offset=CURSOR + 2, language="python")
    after = build_prompt(fim, typed, PromptBudget(window=500), COUNT).render()
    stable = before.index("<|fim_middle|>") + len("<|fim_middle|>")
    assert after[:stable] == before[:stable]
    assert after[stable:] == "print(area"


def test_budget_trims_far_away_lines_on_a_stride_boundary():
    lines = [f"value_{i} = compute({i})\n" for i in range(200)]
    text = "".join(lines) + "result = "
    request = CompletionRequest(text=text, offset=len(text), language="python")
    built = build_prompt(template_for_family("qwen"), request, PromptBudget(window=120), COUNT)
    prompt = built.render()
    first_line = prompt[len("<|fim_prefix|>") :].split("\n", 1)[0]
    first_index = int(first_line.split("_")[1].split(" ")[0])
    assert first_index % PREFIX_LINE_STRIDE == 0
    assert "value_199" in prompt and "value_0 " not in prompt
    assert built.token_count <= 120
    # One more line typed lower down does not move the window start.
    request2 = CompletionRequest(text=text + "1\nother = ", offset=len(text) + 10, language="python")
    prompt2 = build_prompt(template_for_family("qwen"), request2, PromptBudget(window=120), COUNT).render()
    assert prompt2.split("\n", 1)[0] == prompt.split("\n", 1)[0]


@dataclass
class _Snippet:
    path: str
    text: str


def test_context_as_repository_files_when_the_model_has_repo_tokens():
    snippet = _Snippet("shapes/circle.py", "def circle_area(r):\n    return 3.14 * r * r")
    built = build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(window=500), COUNT, [snippet], "geo.py")
    prompt = built.render()
    assert prompt.startswith("<|repo_name|>workspace\n<|file_sep|>shapes/circle.py\ndef circle_area(r):")
    assert "<|file_sep|>geo.py\n<|fim_prefix|>import os" in prompt
    assert built.context_paths == ["shapes/circle.py"]


def test_context_as_comments_without_repo_tokens():
    snippet = _Snippet("shapes/circle.py", "def circle_area(r):\n    return 3.14 * r * r")
    built = build_prompt(template_for_family("codellama"), REQUEST, PromptBudget(window=500), COUNT, [snippet], "geo.py")
    assert built.render().startswith("# shapes/circle.py\n# def circle_area(r):\n#     return 3.14 * r * r\n<PRE>")


def test_context_that_does_not_fit_is_left_out():
    big = _Snippet("big.py", "x = 1\n" * 400)
    built = build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(window=200), COUNT, [big], "geo.py")
    assert "big.py" not in built.render()


def test_embedded_model_is_prefix_only_and_counts_tokens_exactly(small_model):
    backend = LlamaBackend(str(small_model), ModelSettings(context_size=512, threads=2))
    try:
        assert not backend.fim.has_fim and backend.fim.family == "prefix-only"
        counter = TokenCounter(backend.count_tokens)
        built = build_prompt(backend.fim, REQUEST, PromptBudget(window=400), counter)
        assert built.token_count == len(backend.tokenize(built.render()))
    finally:
        backend.close()


def test_on_a_fresh_line_the_indentation_ends_the_prefix():
    # As in a plain FIM prompt: the model then writes the missing line, not the next one again.
    document = "def f(x):\n    \n    return y\n"
    request = CompletionRequest(text=document, offset=len("def f(x):\n    "), language="python")
    for heal in (None, lambda text: text[-2:]):
        built = build_prompt(template_for_family("qwen"), request, PromptBudget(window=500), COUNT, last_token=heal)
        assert built.render() == "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y\n<|fim_middle|>"
        assert built.held_back == "" and built.required_start == ""
        assert built.align_output("y = x") == "y = x"


def test_with_token_healing_the_prompt_stops_at_the_last_token_boundary():
    document = "def f(x):\n    return x  \n"
    request = CompletionRequest(text=document, offset=len("def f(x):\n    return x  "), language="python")
    built = build_prompt(template_for_family("qwen"), request, PromptBudget(window=500), COUNT, last_token=lambda text: text[-1:])
    assert built.render().endswith("<|fim_middle|>    return x")
    # All trailing whitespace is held back (it may span several tokens), and the
    # backend is told that the output must begin with it.
    assert built.held_back == "  " and built.required_start == "  "
    assert built.align_output("  + 1") == "+ 1"
    assert built.align_output(" ") == ""  # still re-typing the held-back text


def test_healing_backs_up_over_a_partial_word():
    document = "def f(tortoise):\n    return tort"
    request = CompletionRequest(text=document, offset=len(document), language="python")
    built = build_prompt(template_for_family("qwen"), request, PromptBudget(window=500), COUNT, last_token=lambda text: " tort")
    assert built.render().endswith("<|fim_middle|>    return")
    assert built.held_back == " tort"
    assert built.align_output(" tortoise\n") == "oise\n"


def test_without_healing_the_typed_text_stays_in_the_prompt():
    # A backend that cannot constrain its output (HTTP) gets a plain FIM prompt:
    # text it is not forced to re-type would be lost or doubled.
    document = "def f(x):\n    return x \n"
    request = CompletionRequest(text=document, offset=len("def f(x):\n    return x "), language="python")
    built = build_prompt(template_for_family("qwen"), request, PromptBudget(window=500), COUNT)
    assert built.render().endswith("<|fim_middle|>    return x ")
    assert built.held_back == "" and built.required_start == ""
    assert built.align_output("+ 1") == "+ 1"


@dataclass
class _LineSnippet:
    path: str
    text: str
    start_line: int


def test_context_never_shrinks_the_current_files_window():
    lines = [f"value_{i} = compute({i})\n" for i in range(200)]
    text = "".join(lines) + "result = "
    request = CompletionRequest(text=text, offset=len(text), language="python", path="/w/calc.py")
    snippets = [_Snippet(f"lib/mod_{i}.py", f"def compute_{i}(x):\n    return x * {i}") for i in range(40)]
    fim = template_for_family("qwen")
    budget = PromptBudget(window=120, context=60)
    plain = build_prompt(fim, request, budget, COUNT).render()
    built = build_prompt(fim, request, budget, COUNT, snippets, "calc.py")
    # The file's own part of the prompt is exactly what it is without context.
    assert built.render().endswith("<|file_sep|>calc.py\n" + plain)
    # The context keeps to its own budget: some snippets, not all.
    context = built.pieces[: built.pieces.index(fim.prefix)]
    assert 0 < len(built.context_paths) < 40
    assert sum(1 if isinstance(p, SpecialToken) else COUNT.exact(p) for p in context) <= budget.context


def test_repository_layout_groups_a_files_snippets_and_ends_with_the_most_relevant_file():
    snippets = [
        _LineSnippet("shapes/circle.py", "def circle_area(r):\n    return 3.14 * r * r", 10),
        _LineSnippet("units.py", "def to_metres(x):\n    return x / 100", 3),
        _LineSnippet("shapes/circle.py", "PI = 3.14", 1),
    ]
    built = build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(window=500), COUNT, snippets, "geo.py")
    assert built.render() == (
        "<|repo_name|>workspace\n"
        "<|file_sep|>units.py\ndef to_metres(x):\n    return x / 100\n"
        "<|file_sep|>shapes/circle.py\nPI = 3.14\n\ndef circle_area(r):\n    return 3.14 * r * r\n"
        "<|file_sep|>geo.py\n"
        "<|fim_prefix|>import os\n\ndef area(r):\n    return 3.14 * r * r\n\n"
        "<|fim_suffix|>)\nprint('done')\n<|fim_middle|>print(ar"
    )
    assert [p.text for p in built.pieces if isinstance(p, SpecialToken)] == [
        "<|repo_name|>", "<|file_sep|>", "<|file_sep|>", "<|file_sep|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"
    ]
    assert built.context_paths == ["shapes/circle.py", "units.py"]


def test_no_context_budget_means_no_context():
    snippet = _Snippet("shapes/circle.py", "def circle_area(r):\n    return 3.14 * r * r")
    fim = template_for_family("qwen")
    built = build_prompt(fim, REQUEST, PromptBudget(window=500, context=0), COUNT, [snippet], "geo.py")
    assert built.render() == build_prompt(fim, REQUEST, PromptBudget(window=500), COUNT).render()


def test_a_file_that_fits_the_window_is_shown_whole():
    # The suffix's share only limits it when the prefix needs the room.
    below = "".join(f"    total += values[{i}]\n" for i in range(60))
    document = "def f(values):\n    total = 0\n" + "    █\n" + below + "    return total\n"
    request = CompletionRequest(text=document.replace("█", ""), offset=document.index("█"), language="python")
    built = build_prompt(template_for_family("qwen"), request, PromptBudget(window=2000, suffix_share=0.01), COUNT)
    assert built.render().endswith("    return total\n<|fim_middle|>")



def _at_end_of(document: str, line_text: str) -> CompletionRequest:
    return CompletionRequest(text=document, offset=document.index(line_text) + len(line_text), language="python", path="/w/geo.py")


def test_pressing_enter_keeps_the_prompt_and_adds_the_finished_line_after_the_middle_token():
    fim = template_for_family("qwen")
    typing = _at_end_of("def area(r):\n    s = r * r\n\nprint(area(2))\n", "    s = r * r")
    first = build_prompt(fim, typing, PromptBudget(window=500), COUNT)
    assert first.render().endswith("<|fim_middle|>    s = r * r")
    # Enter with auto-indent: a new line below it.
    entered = _at_end_of("def area(r):\n    s = r * r\n    \n\nprint(area(2))\n", "    s = r * r\n    ")
    plain = build_prompt(fim, entered, PromptBudget(window=500), COUNT)
    kept = build_prompt(fim, entered, PromptBudget(window=500), COUNT, keep=first.layout)
    # Everything up to the middle token stays as it was: only the end of the prompt is new to the model.
    head = first.render().split("<|fim_middle|>")[0]
    assert kept.render() == head + "<|fim_middle|>    s = r * r\n    "
    assert not plain.render().startswith(head)
    assert kept.layout == first.layout


def test_a_kept_layout_is_rebuilt_when_the_cursor_leaves_its_region_or_the_lines_do_not_fit():
    fim = template_for_family("qwen")
    document = "def area(r):\n    s = r * r\n    t = s\n    return t\n"
    first = build_prompt(fim, _at_end_of(document, "    t = s"), PromptBudget(window=500), COUNT)
    above = _at_end_of(document, "    s = r * r")
    assert build_prompt(fim, above, PromptBudget(window=500), COUNT, keep=first.layout).render() == build_prompt(fim, above, PromptBudget(window=500), COUNT).render()
    far = "def area(r):\n    t = s\n" + "    x = 1\n" * (PREFIX_LINE_STRIDE + 2) + "    return t\n"
    far_request = CompletionRequest(text=far, offset=len(far) - len("\n    return t\n"), language="python")
    assert not first.layout.holds(far_request.cursor_line)
    tight = build_prompt(fim, _at_end_of(document + "y = 2\n" * 3, "    t = s"), PromptBudget(window=40), COUNT)
    grown = document.replace("    t = s\n", "    t = s\n" + "    u = t + t + t + t\n" * 4)
    request = _at_end_of(grown, "    u = t + t + t + t\n" * 4)
    assert build_prompt(fim, request, PromptBudget(window=40), COUNT, keep=tight.layout).render() == build_prompt(fim, request, PromptBudget(window=40), COUNT).render()


def test_healing_backs_up_over_the_whole_partial_word_not_only_its_last_token():
    # ` poss` `ib` `l`: backing up `l` alone leaves the model after `ib`, a split it never saw.
    pieces = {"    return possibl": "l", "    weight_by_node[sou": "ou"}
    for typed, last in pieces.items():
        request = CompletionRequest(text=f"def f(x):\n{typed}\n", offset=len("def f(x):\n") + len(typed), language="python")
        built = build_prompt(template_for_family("qwen"), request, PromptBudget(window=500), COUNT, last_token=lambda text, last=last: last)
        assert built.held_back == {"l": " possibl", "ou": "sou"}[last]
        assert built.render().endswith("<|fim_middle|>" + typed[: -len(built.held_back)])
