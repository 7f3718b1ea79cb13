"""One chat turn with a role's model, run on the model worker.

General models answer under a JSON-schema grammar, so their answer always
parses. Reasoning models are left free: a grammar from the first token would
forbid their <think> block, which is where their quality comes from; their
answer is read leniently instead (answer_json.load_json).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from tandem_lsp.models.backend import ChatMessage, ChatRequest, ModelBackend, ModelError
from tandem_lsp.models.registry import ModelRegistry, Role
from tandem_lsp.tasks.router import ModelKind

# Called from the model worker with (stage, pieces generated so far), for progress reports.
Progress = Callable[[str, int], None]

# Chat-template tokens around each message, and the least room an answer needs.
TEMPLATE_TOKENS_PER_MESSAGE = 8
MIN_ANSWER_TOKENS = 64

# A thinking model needs room to think before it answers.
REASONING_TOKEN_FACTOR = 4


class TaskCancelled(Exception):
    """The user cancelled the task; nothing should be shown."""


@dataclass
class ChatOutcome:
    content: str
    reasoning: str
    model: str
    stop_reason: str


async def chat(
    registry: ModelRegistry,
    role: Role,
    kind: ModelKind,
    messages: list[ChatMessage],
    schema: dict | None,
    max_tokens: int,
    cancel: threading.Event,
    max_time_s: float = 300.0,
    progress: Progress | None = None,
    stage: str = "",
) -> ChatOutcome:
    if cancel.is_set():
        raise TaskCancelled()
    request = ChatRequest(
        messages=messages,
        max_tokens=max_tokens * (REASONING_TOKEN_FACTOR if kind == "reasoning" else 1),
        max_time_s=max_time_s,
        json_schema=None if kind == "reasoning" else schema,
        cancel=cancel,
        on_text=_counter(progress, stage) if progress else None,
    )

    def job(backend: ModelBackend) -> ChatOutcome:
        # The answer must fit in the context after the prompt (chat template overhead included).
        prompt_tokens = sum(_tokens(backend, m.content) + TEMPLATE_TOKENS_PER_MESSAGE for m in request.messages)
        room = backend.context_size - prompt_tokens
        if room < MIN_ANSWER_TOKENS:
            raise ModelError(
                f"the code is too long for {backend.name}'s context of {backend.context_size} tokens; "
                "select a smaller range or raise contextSize"
            )
        request.max_tokens = min(request.max_tokens, room)
        result = backend.chat(request)
        return ChatOutcome(result.content, result.reasoning, backend.name, result.stop_reason)

    outcome = await registry.run(role, job, cancel)
    if cancel.is_set() or outcome.stop_reason == "cancelled":
        raise TaskCancelled()
    return outcome


def _counter(progress: Progress, stage: str) -> Callable[[str], None]:
    count = 0

    def on_text(_piece: str) -> None:
        nonlocal count
        count += 1
        progress(stage, count)

    return on_text


def _tokens(backend: ModelBackend, text: str) -> int:
    """Token count for the budget; an estimate when the backend cannot count (the check is a guard, not a gate)."""
    try:
        return backend.count_tokens(text)
    except Exception:  # noqa: BLE001 - e.g. an HTTP probe failing; the chat itself reports real errors
        return len(text) // 3
