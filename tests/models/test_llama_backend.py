"""The in-process llama.cpp backend on the real embedded model."""

from __future__ import annotations

import threading

import pytest

from tandem_lsp.config import ModelSettings
from tandem_lsp.models.backend import ChatMessage, ChatRequest, GenerationRequest
from tandem_lsp.models.llama_backend import LlamaBackend


@pytest.fixture(scope="module")
def backend(small_model):
    loaded = LlamaBackend(str(small_model), ModelSettings(context_size=1024))
    yield loaded
    loaded.close()


def test_kv_cache_prefix_is_reused(backend):
    prompt = ["import os\nimport sys\n\n\ndef main():\n    path = os.getcwd()\n"]
    first = backend.generate(GenerationRequest(prompt=prompt, max_tokens=4))
    assert first.prompt_tokens_evaluated == first.prompt_tokens
    second = backend.generate(GenerationRequest(prompt=prompt + ["    print(path)\n"], max_tokens=4))
    # Only the new text (and the last token of the shared part) is evaluated again.
    assert second.prompt_tokens_evaluated < second.prompt_tokens // 2
    fresh = backend.generate(GenerationRequest(prompt=prompt, max_tokens=4, reuse_cache=False))
    assert fresh.prompt_tokens_evaluated == fresh.prompt_tokens


def test_continuations_are_scored_on_a_branch_that_leaves_the_cache_for_the_next_request(backend):
    head = ["def add(a, b):\n    \"\"\"The sum of a and b.\"\"\"\n"]
    prompt = head + ["    return"]
    backend.generate(GenerationRequest(prompt=prompt, max_tokens=2))
    pairs = [("", "    return a + b\n"), ("", "    zebra ) ( 12 ]\n"), ("", "    return a + b\n"), ("    return a + b\n", "\n")]
    scores = backend.score_continuations(head, pairs, threading.Event())
    assert scores[0] > scores[1]
    assert scores[2] == pytest.approx(scores[0], abs=1e-3)  # each branch starts afresh from the shared head
    assert scores[0] < scores[3] < 0  # only the scored part counts
    again = backend.generate(GenerationRequest(prompt=prompt, max_tokens=2))
    assert again.prompt_tokens_evaluated <= 1  # the prompt was still cached
    cancelled = threading.Event()
    cancelled.set()
    assert backend.score_continuations(head, [("", "    return a\n")], cancelled) is None


def test_a_review_grammar_does_not_leak_into_completions(backend, monkeypatch):
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    chat = backend.chat(ChatRequest(messages=[ChatMessage("user", "Reply with JSON: answer = 4")], json_schema=schema, max_tokens=16))
    assert chat.content.lstrip().startswith("{")
    monkeypatch.setattr(backend, "_is_end", lambda token: False)  # a completion of 8 tokens, whatever the model
    completion = backend.generate(GenerationRequest(prompt=["numbers = [1, 2, 3, 4"], max_tokens=8, max_time_s=600))
    assert completion.generated_tokens == 8
    assert not completion.text.lstrip().startswith("{")


def test_generation_stops_at_the_token_bound(backend, monkeypatch):
    # Ignore end-of-generation tokens (like llama.cpp's ignore_eos): only the bound may stop it.
    monkeypatch.setattr(backend, "_is_end", lambda token: False)
    result = backend.generate(GenerationRequest(prompt=["def main():\n"], max_tokens=12, max_time_s=600))
    assert result.stop_reason == "max_tokens"
    assert result.generated_tokens == 12


def test_cancelling_stops_decoding_at_the_next_token(backend, monkeypatch):
    monkeypatch.setattr(backend, "_is_end", lambda token: False)
    cancel = threading.Event()
    pieces: list[str] = []

    def cancel_after_the_first_piece(piece: str) -> None:
        pieces.append(piece)
        cancel.set()

    request = GenerationRequest(
        prompt=["numbers = [1, 2, 3, 4"], max_tokens=500, max_time_s=600,
        stop_check=lambda text: False, on_text=cancel_after_the_first_piece, cancel=cancel,
    )
    result = backend.generate(request)
    assert result.stop_reason == "cancelled"
    assert len(pieces) == 1 and result.text == pieces[0]
    assert 1 <= result.generated_tokens < 500


def test_cancel_before_start_evaluates_nothing(backend):
    cancel = threading.Event()
    cancel.set()
    result = backend.generate(GenerationRequest(prompt=["def f():\n    return 1\n" * 20], max_tokens=8, cancel=cancel))
    assert result.stop_reason == "cancelled"
    assert result.generated_tokens == 0



def test_the_next_choices_branch_where_the_answer_goes_past_the_text_it_must_begin_with(backend):
    # A kept indentation is spelt by `   ` and then ` return` (or ` total`): the choices are
    # taken at that second token, so they begin different words, not all `return`. The same
    # inside a word the user began (`re`: `return`, `result`, ...).
    def first_word(answer: str) -> str:
        return answer.split()[0] if answer.split() else ""

    for start in ("    ", "    re"):
        answers = [
            backend.generate(GenerationRequest(prompt=["def total(values):\n"], max_tokens=3, required_start=start, first_choice=rank)).text
            for rank in range(3)
        ]
        assert all(answer.startswith(start) for answer in answers), answers
        assert len({first_word(answer) for answer in answers}) == 3, answers


def test_text_taken_out_near_the_start_moves_the_cached_text_after_it_instead_of_evaluating_it(backend):
    dropped = "import os\nimport sys\nimport json\n"
    rest = "\n\ndef helper(values):\n    total = 0\n    for value in values:\n        total += value * value\n    return total / len(values)\n\n\ndef main():\n"
    first = backend.generate(GenerationRequest(prompt=["# tools\n" + dropped + rest], max_tokens=2))
    assert first.prompt_tokens_evaluated == first.prompt_tokens
    # The window moved down past the imports: the functions after them are moved back, not read again.
    second = backend.generate(GenerationRequest(prompt=["# tools\n" + rest + "    path = os.getcwd()\n"], max_tokens=2))
    assert second.prompt_tokens_evaluated < len(backend.tokenize("    path = os.getcwd()\n")) + 4
    # The cache is consistent afterwards: the same prompt again needs only its last token, and answers the same.
    again = backend.generate(GenerationRequest(prompt=["# tools\n" + rest + "    path = os.getcwd()\n"], max_tokens=2))
    assert again.prompt_tokens_evaluated == 1
    assert again.text == second.text
    # Text inserted before cached text cannot be moved around: it is evaluated from the insertion on.
    inserted = backend.generate(GenerationRequest(prompt=["# tools\nimport re\n" + rest + "    path = os.getcwd()\n"], max_tokens=2))
    assert inserted.prompt_tokens_evaluated > len(backend.tokenize(rest))
