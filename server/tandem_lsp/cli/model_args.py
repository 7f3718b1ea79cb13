"""Model options shared by every subcommand that runs a model."""

from __future__ import annotations

import argparse

from tandem_lsp.config import Settings


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="PATH", help="GGUF for the general coder model (completion, review)")
    parser.add_argument("--reasoning-model", metavar="PATH", help="GGUF for the reasoning model (debug, verification)")
    parser.add_argument("--endpoint", metavar="URL", help="OpenAI-compatible endpoint for the general model instead of a GGUF")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for llama.cpp (default: auto)")
    parser.add_argument("--gpu-layers", type=int, default=None, help="layers to offload (-1 = all, 0 = CPU only)")
    parser.add_argument("--ctx", type=int, default=None, help="context size in tokens")


def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    changes: dict = {}
    general: dict = {}
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
    return (base or Settings()).merged(changes)
