"""workspace/executeCommand commands and custom requests of the completion side."""

from __future__ import annotations

from typing import Any


from tandem_lsp.lsp.completion_feature import ACCEPTED_COMMAND
from tandem_lsp.lsp.server import TandemServer


def _first_argument(arguments: tuple[Any, ...]) -> dict:
    if arguments and isinstance(arguments[0], dict):
        return arguments[0]
    return {}


def stats(server: TandemServer) -> dict:
    return {
        "completion": server.engine.stats.snapshot(),
        "models": server.registry.loaded_roles(),
        "status": {"state": server.status.state, "message": server.status.message},
    }


def register(server: TandemServer) -> None:
    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: TandemServer, *arguments: Any) -> None:
        ls.engine.accepted(str(_first_argument(arguments).get("id", "")))

    @server.command("tandem.stats")
    def stats_command(ls: TandemServer, *arguments: Any) -> dict:
        return stats(ls)

    @server.feature("tandem/stats")
    def stats_request(ls: TandemServer, params: Any = None) -> dict:
        return stats(ls)

    @server.command("tandem.toggle")
    def toggle(ls: TandemServer, *arguments: Any) -> dict:
        wanted = _first_argument(arguments).get("enabled")
        enabled = (not ls.settings.completion.enabled) if wanted is None else bool(wanted)
        ls.apply_settings({"completion": {"enabled": enabled}}, "override")
        ls.set_status("ready" if enabled else "disabled")
        return {"enabled": enabled}

    @server.feature("tandem/lastPrompt")
    def last_prompt(ls: TandemServer, params: Any = None) -> dict:
        """The last completion prompt as text: for debugging prompts and for tests."""
        generation = ls.engine.last_generation
        return {
            "prompt": ls.engine.last_prompt,
            "promptTokens": generation.prompt_tokens if generation else 0,
            "evaluatedTokens": generation.prompt_tokens_evaluated if generation else 0,
            "generatedTokens": generation.generated_tokens if generation else 0,
            "promptMs": round(generation.prompt_ms, 1) if generation else 0.0,
            "generateMs": round(generation.generate_ms, 1) if generation else 0.0,
            "stopReason": generation.stop_reason if generation else "",
            "confidence": ls.engine.last_confidence,
        }
