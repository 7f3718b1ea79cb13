"""`tandem-lsp index DIR…`: build the workspace index once and report what it holds."""

from __future__ import annotations

import argparse
import json
import os
import sys

from tandem_lsp.cli.common import file_settings
from tandem_lsp.context.index import WorkspaceIndex

# Errors listed in the table form; --json carries them all.
_SHOWN_ERRORS = 20


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "index",
        help="index folders with tree-sitter and print counts per language, time and errors",
        description="Build the workspace index the server uses for cross-file context, and report on it.",
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="workspace folder(s) to index")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--exclude", action="append", default=[], metavar="NAME",
                        help="also skip folders/files with this name or glob (repeatable)")
    parser.add_argument("--max-file-bytes", type=int, default=None, metavar="N", help="skip files larger than N bytes")
    parser.add_argument("--symbols", metavar="QUERY", help="also list definitions matching QUERY (as workspace/symbol does)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the on-disk index cache")
    return parser


def run(args: argparse.Namespace) -> int:
    missing = [d for d in args.dirs if not os.path.isdir(d)]
    if missing:
        print(f"tandem-lsp index: not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    # The config files' index settings (project file found from the first folder), then the flags.
    configured = file_settings(args.dirs[0]).index
    settings = configured.model_copy(
        update={
            "exclude": configured.exclude + list(args.exclude),
            "max_file_bytes": args.max_file_bytes or configured.max_file_bytes,
        }
    )
    index = WorkspaceIndex(args.dirs, settings, persist=not args.no_cache)
    stats = index.build()
    symbols = index.workspace_symbols(args.symbols, limit=50) if args.symbols else []
    index.stop()
    if args.json:
        out = stats.to_dict()
        if args.symbols:
            out["symbols"] = [d._asdict() for d in symbols]
        print(json.dumps(out, indent=2))
        return 0
    width = max([len(lang) for lang in stats.files_by_language] + [8])
    for language, count in stats.files_by_language.items():
        print(f"{language:<{width}}  {count:>7} files")
    print(f"{'total':<{width}}  {stats.files:>7} files, {stats.definitions} definitions, {stats.chunks} chunks")
    print(
        f"time: {stats.seconds:.2f} s ({stats.files / max(stats.seconds, 1e-9):.0f} files/s); "
        f"{stats.cached} from the cache, {stats.skipped} skipped"
    )
    print(f"errors: {len(stats.errors)}")
    for error in stats.errors[:_SHOWN_ERRORS]:
        print(f"  {error}")
    for d in symbols:
        print(f"{d.kind:<10} {d.name:<30} {d.path}:{d.start_line + 1}")
    return 0
