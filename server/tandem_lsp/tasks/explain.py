"""Explain a range of code in plain words (general model)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tandem_lsp.languages import grammar_for
from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.tasks.chat import Progress, chat
from tandem_lsp.code_checks import LineRange, review_scope
from tandem_lsp.tasks.prompts import explain_messages
from tandem_lsp.tasks.review import code_view
from tandem_lsp.tasks.router import model_kind, role_for


@dataclass
class ExplainResult:
    text: str
    scope: LineRange
    reasoning: str = ""
    model: str = ""


async def explain(
    registry: ModelRegistry,
    text: str,
    path: str,
    language: str,
    selection: LineRange | None = None,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
) -> ExplainResult:
    cancel = cancel or threading.Event()
    grammar = grammar_for(language, path)
    view, focus = code_view(text, language, path, review_scope(text, grammar, selection, path))
    role = role_for("explain")
    kind = model_kind(registry.settings, role)
    answer = await chat(registry, role, kind, explain_messages(kind, view, focus), None, registry.settings.review.max_tokens, cancel,
        progress=progress, stage="explaining",
    )
    return ExplainResult(answer.content.strip() or "(the model gave no explanation)", focus, answer.reasoning, answer.model)
