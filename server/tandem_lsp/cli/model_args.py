"""Model options shared by every subcommand that runs a model, and the settings every command runs with."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from tandem_lsp.config import Settings
from tandem_lsp.config_files import load_settings


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
