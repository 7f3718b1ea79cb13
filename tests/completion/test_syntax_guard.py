"""A suggestion that breaks the code is replaced by the model's next choice (syntax_guard.py, engine.py)."""

from __future__ import annotations

from fakes import Script, ScriptedBackend, ScriptedRegistry, settings_with

from tandem_lsp.completion.engine import CompletionEngine
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.syntax_guard import breaks_code
from tandem_lsp.models.backend import GenerationRequest, GenerationResult

BEFORE = "def scale(x):\n    y = x + 1\n"
AFTER = "\n    return y\n"
REQUEST = CompletionRequest(text=BEFORE + AFTER, offset=len(BEFORE), language="python", path="/work/scale.py", document_key="k")


class ChoosingBackend(ScriptedBackend):
    """Answers by the rank of the first token it is asked for; it can be steered like a local model."""

    constrains_start = True

    def __init__(self, by_choice: list[str]) -> None:
        super().__init__(Script())
        self.by_choice = by_choice
        self.choices: list[int] = []

    def generate(self, request: GenerationRequest) -> GenerationResult:
        self.choices.append(request.first_choice)
        text = self.by_choice[min(request.first_choice, len(self.by_choice) - 1)]
        return GenerationResult(text=text, stop_reason="eos", prompt_tokens=10, prompt_tokens_evaluated=10, generated_tokens=3)


async def suggest(backend: ScriptedBackend, **completion) -> str | None:
    settings = settings_with(**{"prefetch": False, "cache": False, "debounce_max_ms": 0, **completion})
    registry = ScriptedRegistry(settings, general=backend)
    try:
        suggestion = await CompletionEngine(registry, lambda: settings.completion).complete(REQUEST)
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
    assert not breaks_code(CompletionRequest(text="x = (", offset=5, path="/a.txt"), ")))")  # no grammar: no judgement


async def test_a_breaking_suggestion_is_replaced_by_the_models_next_choice_that_does_not_break():
    backend = ChoosingBackend(["    y = y *", "  y = 2", "    y = y * 2"])
    assert await suggest(backend) == "    y = y * 2"
    assert backend.choices == [0, 1, 2]


async def test_when_every_choice_breaks_the_code_nothing_is_shown():
    backend = ChoosingBackend(["    y = y *", "  y = 2", "    y = )", "    y = y * 2"])
    assert await suggest(backend, syntax_alternatives=2) is None
    assert backend.choices == [0, 1, 2]


async def test_a_suggestion_that_keeps_the_code_whole_is_shown_at_once():
    backend = ChoosingBackend(["    y = y * 2", "never asked"])
    assert await suggest(backend) == "    y = y * 2"
    assert backend.choices == [0]


async def test_switched_off_or_a_backend_that_cannot_be_steered_shows_the_first_answer():
    backend = ChoosingBackend(["    y = y *", "    y = y * 2"])
    assert await suggest(backend, syntax_alternatives=0) == "    y = y *"
    assert backend.choices == [0]
    backend = ChoosingBackend(["    y = y *", "    y = y * 2"])
    backend.constrains_start = False
    assert await suggest(backend) == "    y = y *"
