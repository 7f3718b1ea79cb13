"""Command line: `tandem-lsp SUBCOMMAND …`.

Each subcommand lives in its own module with `add_parser(subparsers)` and
`run(args) -> int`; the CLI calls the same tasks the language server does.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from tandem_lsp import __version__

# One module per subcommand, in the order `--help` lists them.
SUBCOMMANDS = ["serve", "complete", "review", "debug", "index", "models", "doctor"]
LOG_LEVELS = ["debug", "info", "warning", "error"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem-lsp", description="An offline coding assistant served as a Language Server.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # No default here: a level given on the command line overrides the config files' logLevel.
    parser.add_argument("--log-level", default=None, choices=LOG_LEVELS)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"tandem_lsp.cli.{name}_command")
        sub = module.add_parser(subparsers)
        # Also accepted after the subcommand (`tandem-lsp serve --log-level debug`, as editors pass it).
        sub.add_argument("--log-level", default=argparse.SUPPRESS, choices=LOG_LEVELS)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=(args.log_level or "warning").upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`tandem-lsp doctor | head`): not an error of ours. Point stdout at
        # nothing so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
