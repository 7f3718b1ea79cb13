"""What the subcommands share: the model options, the settings every command runs with, reading a FILE argument, running one task."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

from tandem_lsp.config import Settings
from tandem_lsp.config_files import load_settings
from tandem_lsp.languages import language_for_path
from tandem_lsp.models.backend import ModelError
from tandem_lsp.models.registry import ModelRegistry
from tandem_lsp.tasks.chat import TaskCancelled
from tandem_lsp.code_checks import LineRange

T = TypeVar("T")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="PATH", help="GGUF for the general coder model (completion, review)")
    parser.add_argument("--reasoning-model", metavar="PATH", help="GGUF for the reasoning model (debug, verification)")
    parser.add_argument("--endpoint", metavar="URL", help="OpenAI-compatible endpoint for the general model instead of a GGUF")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for llama.cpp (default: auto)")
    parser.add_argument("--gpu-layers", type=int, default=None, help="layers to offload (-1 = all, 0 = CPU only)")
    parser.add_argument("--ctx", type=int, default=None, help="context size in tokens")


def flag_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the command line sets, as camelCase changes (the top layer of all)."""
    changes: dict[str, Any] = {}
    general: dict[str, Any] = {}
    if getattr(args, "model", None):
        general["path"] = args.model
    if getattr(args, "endpoint", None):
        general["endpoint"] = args.endpoint
    for attr, key in (("threads", "threads"), ("gpu_layers", "gpuLayers"), ("ctx", "contextSize")):
        if getattr(args, attr, None) is not None:
            general[key] = getattr(args, attr)
    if general:
        changes["completionModel"] = general
    if getattr(args, "reasoning_model", None):
        changes["reasoningModel"] = {"path": args.reasoning_model}
    if getattr(args, "log_level", None):
        changes["logLevel"] = args.log_level
    return changes


def file_settings(start: Path | str | None) -> Settings:
    """Defaults < user config file < project config file (found from `start`, else the current folder).

    A file that cannot be used is named on stderr, in one line, and left out.
    """
    loaded = load_settings(Path.cwd() if start is None else start)
    for error in loaded.errors:
        print(f"tandem-lsp: {error} (ignored)", file=sys.stderr)
    return loaded.settings


def settings_from_args(args: argparse.Namespace, start: Path | str | None = None) -> Settings:
    """The settings a one-shot command runs with: the config files, then the command line on top.

    `start` is where the project file is looked for: by default the command's
    FILE argument (or its --dir / --workspace folder), else the current folder.
    """
    if start is None:
        start = next((getattr(args, name) for name in ("file", "workspace", "dir") if getattr(args, name, None)), None)
    settings = file_settings(start).merged(flag_changes(args))
    logging.getLogger("tandem_lsp").setLevel(settings.log_level.upper())
    return settings


def parse_lines(value: str | None) -> LineRange | None:
    """'12-20' or '12' (1-based) -> 0-based inclusive range."""
    if not value:
        return None
    start, _, end = value.partition("-")
    first, last = int(start), int(end or start)
    if first < 1 or last < first:
        raise ValueError(f"bad line range {value!r}")
    return (first - 1, last - 1)


def read_source(path: str) -> str:
    return Path(path).read_text(encoding="utf-8", errors="replace")


def language_of(args: argparse.Namespace) -> str:
    return args.language or language_for_path(args.file) or Path(args.file).suffix.lstrip(".")


def run_task(args: argparse.Namespace, name: str, make: Callable[[ModelRegistry], Awaitable[T]]) -> T | int:
    """Run one task on a fresh registry; an exit status instead of a result when it fails."""
    registry = ModelRegistry(settings_from_args(args))
    try:
        return asyncio.run(make(registry))
    except ModelError as exc:
        print(f"tandem-lsp {name}: {exc}", file=sys.stderr)
        return 1
    except TaskCancelled:
        return 130
    finally:
        registry.close()


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000
    return f"{size}"
