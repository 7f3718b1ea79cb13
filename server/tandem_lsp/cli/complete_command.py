"""`tandem-lsp complete FILE --line N --col M`: one completion, printed to stdout."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tandem_lsp.cli.common import add_model_arguments, settings_from_args
from tandem_lsp.completion.engine import CompletionEngine, Suggestion
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.languages import language_for_path
from tandem_lsp.models.backend import ModelError
from tandem_lsp.models.registry import ModelRegistry


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("complete", help="print the completion at a position of a file")
    parser.add_argument("file", type=Path)
    parser.add_argument("--line", type=int, required=True, help="0-based line, as in LSP")
    parser.add_argument("--col", type=int, default=None, help="0-based column in characters (default: end of line)")
    parser.add_argument("--verbose", "-v", action="store_true", help="also print timing and token counts to stderr")
    parser.add_argument("--workspace", type=Path, help="folder whose files give cross-file context (default: the file's project)")
    parser.add_argument("--no-context", action="store_true", help="complete from this file alone")
    add_model_arguments(parser)
    return parser


def cursor_offset(text: str, line: int, column: int | None) -> int:
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        raise ValueError(f"line {line} is outside the file (0..{len(lines) - 1})")
    length = len(lines[line].rstrip("\r"))
    column = length if column is None else column
    if not 0 <= column <= length:
        raise ValueError(f"column {column} is outside line {line} (0..{length})")
    return sum(len(previous) + 1 for previous in lines[:line]) + column


# Generation time cap of the one-shot command (the editor's default is 3 s).
CLI_MAX_TIME_MS = 30_000
# A one-shot command indexes at most this many files of the project for context.
CLI_MAX_FILES = 2000


def _workspace_index(args: argparse.Namespace, settings, repo_aware_model: bool):
    """An index of the project for cross-file context, or None.

    By default only for models trained on repository-level prompts (they have
    file-separator tokens); others get context when --workspace asks for it.
    """
    if args.no_context or not settings.index.enabled or not (args.workspace or repo_aware_model):
        return None
    from tandem_lsp.context.index import WorkspaceIndex
    from tandem_lsp.context.project import project_root

    root = args.workspace or project_root(args.file)
    index = WorkspaceIndex([root], settings.index.model_copy(update={"max_files": min(settings.index.max_files, CLI_MAX_FILES)}))
    index.build()
    return index


async def _complete(args: argparse.Namespace, settings, request: CompletionRequest) -> tuple[Suggestion | None, CompletionEngine]:
    errors: list[str] = []
    registry = ModelRegistry(settings)
    try:
        fim = await registry.run("completion", lambda backend: backend.fim)
        context = _workspace_index(args, settings, fim.file_sep is not None)
        engine = CompletionEngine(registry, lambda: settings.completion, context=context, on_error=errors.append)
        suggestion = await engine.complete(request)
    finally:
        registry.close()
    if errors:
        raise ModelError(errors[0])
    return suggestion, engine


def run(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
        offset = cursor_offset(text, args.line, args.col)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"tandem-lsp complete: {exc}", file=sys.stderr)
        return 2
    settings = settings_from_args(args)
    # One answer for one question: no debounce, no speculative work, and no
    # keystroke to keep up with, so a busy machine gets time to finish the line.
    max_time_ms = max(settings.completion.max_time_ms, CLI_MAX_TIME_MS)
    settings = settings.merged({"completion": {"debounceMaxMs": 0, "prefetch": False, "maxTimeMs": max_time_ms}})
    request = CompletionRequest(text=text, offset=offset, language=language_for_path(str(args.file)), path=str(args.file.resolve()))
    try:
        suggestion, engine = asyncio.run(_complete(args, settings, request))
    except ModelError as exc:
        print(f"tandem-lsp complete: {exc}", file=sys.stderr)
        return 1
    print(suggestion.text if suggestion else "")
    if suggestion is not None and suggestion.replaces:
        # The editor's auto-closed brackets after the cursor: the suggestion writes them itself.
        print(f"(replaces {suggestion.replaces!r} after the cursor)", file=sys.stderr)
    if args.verbose and engine.last_generation is not None:
        g = engine.last_generation
        print(
            f"prompt_tokens={g.prompt_tokens} evaluated={g.prompt_tokens_evaluated} generated={g.generated_tokens} "
            f"prompt_ms={g.prompt_ms:.0f} generate_ms={g.generate_ms:.0f} stop={g.stop_reason}",
            file=sys.stderr,
        )
        print(engine.last_prompt, file=sys.stderr)
    return 0
