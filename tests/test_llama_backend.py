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


def test_a_review_grammar_does_not_leak_into_completions(backend):
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    chat = backend.chat(ChatRequest(messages=[ChatMessage("user", "Reply with JSON: answer = 4")], json_schema=schema, max_tokens=16))
    assert chat.content.lstrip().startswith("{")
    completion = backend.generate(GenerationRequest(prompt=["numbers = [1, 2, 3, 4"], max_tokens=8))
    assert completion.generated_tokens > 0
    assert not completion.text.lstrip().startswith("{")


def test_cancel_before_start_evaluates_nothing(backend):
    cancel = threading.Event()
    cancel.set()
    result = backend.generate(GenerationRequest(prompt=["def f():\n    return 1\n" * 20], max_tokens=8, cancel=cancel))
    assert result.stop_reason == "cancelled"
    assert result.generated_tokens == 0
