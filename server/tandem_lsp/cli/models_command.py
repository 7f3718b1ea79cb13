"""`tandem-lsp models`: list the GGUF models on this machine and what they can do."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tandem_lsp.cli.common import human_size
from tandem_lsp.models.discovery import FoundModel, discover
from tandem_lsp.models.gguf_info import GGUFInfoError, read_gguf_info


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "models",
        help="list local GGUF models (HF cache, LM Studio, Ollama, tandem cache, --dir)",
        description="List GGUF models found on this machine with size, quantisation, context and capabilities.",
    )
    parser.add_argument("--dir", action="append", default=[], metavar="D",
                        help="also search this folder (repeatable; TANDEM_MODELS_DIR works too)")
    parser.add_argument("--only-dirs", action="store_true", help="search only --dir / TANDEM_MODELS_DIR")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def describe(model: FoundModel) -> dict[str, Any]:
    """One row: discovery facts plus the GGUF metadata, or the error reading it."""
    row: dict[str, Any] = {"name": model.name, "source": model.source, "path": str(model.path)}
    try:
        info = read_gguf_info(model.path).summary()
        # The GGUF's own name goes under model_name; name stays the tool's name for it.
        info["model_name"] = info.pop("name")
        info.pop("path")
        row.update(info, error="")
    except GGUFInfoError as exc:
        row["error"] = str(exc)
    return row


def _table(rows: list[dict[str, Any]]) -> str:
    headers = ["NAME", "SOURCE", "ARCH", "SIZE", "QUANT", "CTX", "FIM", "CHAT", "REASONING", "PATH"]
    lines = []
    for row in rows:
        if row["error"]:
            lines.append([row["name"], row["source"], "-", "-", "-", "-", "-", "-", "-", f"{row['path']}  ({row['error']})"])
            continue
        lines.append([
            row["name"], row["source"], row["architecture"], human_size(row["file_size"]), row["quantization"],
            str(row["context_length"] or "?"), row["fim_family"] or "no", "yes" if row["has_chat_template"] else "no",
            "yes" if row["reasoning"] else "no", row["path"],
        ])
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        # The last column (path) is not padded.
        return "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths)) + "  " + cells[-1]

    return "\n".join([fmt(headers), *(fmt(line) for line in lines)])


def run(args: argparse.Namespace) -> int:
    rows = [describe(m) for m in discover(args.dir, include_system=not args.only_dirs)]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif rows:
        print(_table(rows))
    else:
        print("no GGUF models found; put one in ~/.cache/tandem/models or pass --dir FOLDER")
    return 0
