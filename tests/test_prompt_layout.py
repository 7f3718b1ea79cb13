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
    built = build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(total=500), COUNT)
    assert built.render() == (
        "<|fim_prefix|>import os\n\ndef area(r):\n    return 3.14 * r * r\n\n"
        "<|fim_suffix|>)\nprint('done')\n<|fim_middle|>print(ar"
    )
    # Control tokens travel as tokens, never as text to be parsed.
    assert [p.text for p in built.pieces if isinstance(p, SpecialToken)] == ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]


def test_codestral_layout_is_suffix_first():
    built = build_prompt(template_for_family("codestral"), REQUEST, PromptBudget(total=500), COUNT)
    assert built.render().startswith("[SUFFIX])\nprint('done')\n[PREFIX]import os")
    assert built.render().endswith("print(ar")


def test_prefix_only_model_gets_the_text_before_the_cursor_inside_a_code_fence():
    built = build_prompt(template_for_family("none-such"), REQUEST, PromptBudget(total=500), COUNT)
    assert built.render() == "```python\n" + DOC[:CURSOR]


def test_prefix_only_prompt_keeps_the_indent_but_its_last_space():
    doc = "def f(x):\n    \n"
    request = CompletionRequest(text=doc, offset=len("def f(x):\n    "), language="python")
    built = build_prompt(template_for_family("none-such"), request, PromptBudget(total=500), COUNT)
    assert built.render() == "```python\ndef f(x):\n   "
    assert built.align_output(" return x") == "return x"


def test_typing_on_a_line_changes_only_the_end_of_the_prompt():
    fim = template_for_family("qwen")
    before = build_prompt(fim, REQUEST, PromptBudget(total=500), COUNT).render()
    typed = CompletionRequest(text=DOC[:CURSOR] + "ea" + DOC[CURSOR:], offset=CURSOR + 2, language="python")
    after = build_prompt(fim, typed, PromptBudget(total=500), COUNT).render()
    stable = before.index("<|fim_middle|>") + len("<|fim_middle|>")
    assert after[:stable] == before[:stable]
    assert after[stable:] == "print(area"


def test_budget_trims_far_away_lines_on_a_stride_boundary():
    lines = [f"value_{i} = compute({i})\n" for i in range(200)]
    text = "".join(lines) + "result = "
    request = CompletionRequest(text=text, offset=len(text), language="python")
    built = build_prompt(template_for_family("qwen"), request, PromptBudget(total=120), COUNT)
    prompt = built.render()
    first_line = prompt[len("<|fim_prefix|>") :].split("\n", 1)[0]
    first_index = int(first_line.split("_")[1].split(" ")[0])
    assert first_index % PREFIX_LINE_STRIDE == 0
    assert "value_199" in prompt and "value_0 " not in prompt
    assert built.token_count <= 120
    # One more line typed lower down does not move the window start.
    request2 = CompletionRequest(text=text + "1\nother = ", offset=len(text) + 10, language="python")
    prompt2 = build_prompt(template_for_family("qwen"), request2, PromptBudget(total=120), COUNT).render()
    assert prompt2.split("\n", 1)[0] == prompt.split("\n", 1)[0]


@dataclass
class _Snippet:
    path: str
    text: str


def test_context_as_repository_files_when_the_model_has_repo_tokens():
    snippet = _Snippet("shapes/circle.py", "def circle_area(r):\n    return 3.14 * r * r")
    built = build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(total=500), COUNT, [snippet], "geo.py")
    prompt = built.render()
    assert prompt.startswith("<|repo_name|>workspace\n<|file_sep|>shapes/circle.py\ndef circle_area(r):")
    assert "<|file_sep|>geo.py\n<|fim_prefix|>import os" in prompt
    assert built.context_paths == ["shapes/circle.py"]


def test_context_as_comments_without_repo_tokens():
    snippet = _Snippet("shapes/circle.py", "def circle_area(r):\n    return 3.14 * r * r")
    built = build_prompt(template_for_family("codellama"), REQUEST, PromptBudget(total=500), COUNT, [snippet], "geo.py")
    assert built.render().startswith("# shapes/circle.py\n# def circle_area(r):\n#     return 3.14 * r * r\n<PRE>")


def test_context_that_does_not_fit_is_left_out():
    big = _Snippet("big.py", "x = 1\n" * 400)
    built = build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(total=200), COUNT, [big], "geo.py")
    assert "big.py" not in built.render()


def test_embedded_model_is_prefix_only_and_counts_tokens_exactly(small_model):
    backend = LlamaBackend(str(small_model), ModelSettings(context_size=512, threads=2))
    try:
        assert not backend.fim.has_fim and backend.fim.family == "prefix-only"
        counter = TokenCounter(backend.count_tokens)
        built = build_prompt(backend.fim, REQUEST, PromptBudget(total=400), counter)
        assert built.token_count == len(backend.tokenize(built.render()))
    finally:
        backend.close()


def test_whitespace_before_the_cursor_is_left_to_the_model():
    document = "def f(x):\n    \n"
    request = CompletionRequest(text=document, offset=len("def f(x):\n    "), language="python")
    built = build_prompt(template_for_family("qwen"), request, PromptBudget(total=500), COUNT)
    assert built.render().endswith("<|fim_middle|>")
    assert built.held_back == "    "
    # The model re-types the indentation; the suggestion starts at the cursor.
    assert built.align_output("    return x") == "return x"
    assert built.align_output("  return x") == "return x"
    assert build_prompt(template_for_family("qwen"), REQUEST, PromptBudget(total=500), COUNT).align_output(" x") == " x"
