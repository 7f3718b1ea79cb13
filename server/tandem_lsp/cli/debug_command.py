"""`tandem-lsp debug FILE --error TEXT`: explain an error and print a fix as a unified diff."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tandem_lsp.cli.common import add_model_arguments, language_of, parse_lines, read_source, run_task
from tandem_lsp.tasks.debug import debug
from tandem_lsp.tasks.source import SourceFile


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("debug", help="explain an error and propose a fix (reasoning model)", description=__doc__)
    parser.add_argument("file", help="source file with the fault")
    parser.add_argument("--error", required=True, metavar="TEXT", help="error message or traceback ('-' reads stdin, @FILE reads a file)")
    parser.add_argument("--lines", metavar="START-END", help="lines the error points at (1-based), if known")
    parser.add_argument("--language", default="", help="language id (default: from the file name)")
    parser.add_argument("--apply", action="store_true", help="write the fix into FILE")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--reasoning", action="store_true", help="also print the models' reasoning text")
    add_model_arguments(parser)
    return parser


def error_text(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8", errors="replace")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        text = read_source(args.file)
        error = error_text(args.error)
        line_range = parse_lines(args.lines)
    except (OSError, ValueError) as exc:
        print(f"tandem-lsp debug: {exc}", file=sys.stderr)
        return 2
    if not error.strip():
        print("tandem-lsp debug: --error is empty", file=sys.stderr)
        return 2
    result = run_task(args, "debug", lambda registry: debug(registry, SourceFile(text, args.file, language_of(args)), error, line_range=line_range))
    if isinstance(result, int):
        return result
    diff = result.diff(text, args.file)
    if args.json:
        print(json.dumps({**asdict(result), "diff": diff}, indent=2))
    else:
        print(result.explanation)
        print(diff if diff else "(no usable fix)")
        models = ", ".join(f"{role}={name}" for role, name in result.models.items())
        print(f"({models}; {result.source}: {result.why})", file=sys.stderr)
        if args.reasoning and result.reasoning:
            print("\nreasoning:\n" + result.reasoning)
    if args.apply and result.new_text is not None:
        Path(args.file).write_text(result.new_text, encoding="utf-8")
    return 0 if result.new_text is not None else 3
