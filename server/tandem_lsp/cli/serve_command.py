"""`tandem-lsp serve`: run the language server on stdio or TCP."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import BinaryIO

from tandem_lsp.cli.common import add_model_arguments, flag_changes


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("serve", help="run the language server (stdio by default)")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, e.g. 127.0.0.1:2087 (loopback by default)")
    parser.add_argument("--log-file", metavar="PATH", help="also write the log to this file (appended; stderr still gets it)")
    add_model_arguments(parser)
    return parser


def parse_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def protocol_stdout() -> BinaryIO:
    """A private copy of stdout for LSP messages; fd 1 itself then goes to stderr.

    llama-cpp-python silences model loading by pointing fd 1 at /dev/null for a
    while, and LSP answers written meanwhile were lost (the editor waited forever).
    Stray prints from native code now land in the log, not in the protocol stream.
    """
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return channel


def log_to_file(path: str) -> logging.Handler:
    """`--log-file`: every record the process logs (at the log level) also goes to `path`."""
    path = os.path.expanduser(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def run(args: argparse.Namespace) -> int:
    from tandem_lsp import __version__
    from tandem_lsp.lsp.app import create_server

    if args.log_file:
        log_to_file(args.log_file)
    logging.getLogger(__name__).info("tandem-lsp %s serving (pid %d)", __version__, os.getpid())
    # Defaults, then the config files (read at initialize, from the workspace root),
    # the client's settings and, on top of all, the command line's flags.
    server = create_server(flags=flag_changes(args), read_config_files=True)
    if args.tcp:
        host, port = parse_address(args.tcp)
        logging.getLogger(__name__).info("listening on %s:%d", host, port)
        server.start_tcp(host, port)
    else:
        server.start_io(stdout=protocol_stdout())
    return 0
