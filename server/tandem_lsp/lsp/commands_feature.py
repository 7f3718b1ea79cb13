"""workspace/executeCommand commands and custom requests of the completion side."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from tandem_lsp.cli import doctor_command, models_command
from tandem_lsp.config import Settings
from tandem_lsp.lsp.completion_feature import ACCEPTED_COMMAND
from tandem_lsp.lsp.server import TandemServer
from tandem_lsp.models.discovery import discover


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


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def list_models(params: Any) -> dict:
    """`tandem/models`: the GGUF files `tandem-lsp models` lists, one row each, camelCase keys.

    Params (all optional): `dirs`, more folders to search; `includeSystem: false`
    searches only those folders (and TANDEM_MODELS_DIR).
    """
    # pygls hands a custom request's params over as named tuples (a dict when called directly).
    field = params.get if isinstance(params, dict) else lambda name, default: getattr(params, name, default)
    dirs = [d for d in field("dirs", None) or () if isinstance(d, str) and d]
    found = discover(dirs, include_system=field("includeSystem", True) is not False)
    return {"models": [{_camel(k): v for k, v in models_command.describe(m).items()} for m in found]}


def doctor_report(settings: Settings) -> dict:
    """`tandem/doctor`: `tandem-lsp doctor --no-probe` on the settings in force (no model is loaded)."""
    checks = doctor_command.check_runtime(doctor_command.needs_local_runtime(settings))
    checks += doctor_command.check_roles(settings, probe=False)
    return {
        "ok": not any(c.status == "fail" for c in checks),
        "checks": [asdict(c) for c in checks],
        "report": doctor_command.render(checks),
    }


def register(server: TandemServer) -> None:
    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: TandemServer, *arguments: Any) -> None:
        ls.engine.accepted()

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
            "lineConfidences": ls.engine.last_line_confidences,
        }

    # Both read files (and the doctor may ask an endpoint): off the event loop.
    @server.feature("tandem/models")
    async def models_request(ls: TandemServer, params: Any = None) -> dict:
        return await asyncio.to_thread(list_models, params)

    @server.feature("tandem/doctor")
    async def doctor_request(ls: TandemServer, params: Any = None) -> dict:
        return await asyncio.to_thread(doctor_report, ls.settings)
