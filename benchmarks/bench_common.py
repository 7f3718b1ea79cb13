"""Shared pieces of the benchmarks: default models, real source files, an LSP session."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import sysconfig
from pathlib import Path
from typing import Any, AsyncIterator

from lsprotocol import types
from pygls.lsp.client import LanguageClient

MODELS = Path.home() / ".cache" / "tandem" / "models"
QWEN_05B = MODELS / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_15B = MODELS / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def add_model_pair(parser: argparse.ArgumentParser, larger_use: str, smaller_use: str) -> None:
    """--model and --draft-model: the larger and the smaller model a run compares (the two Qwen2.5-Coder by default)."""
    parser.add_argument("--model", type=Path, default=QWEN_15B, help=f"the larger model ({larger_use})")
    parser.add_argument("--draft-model", type=Path, default=QWEN_05B, help=f"the smaller model ({smaller_use})")


def add_settings_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a completion setting for the server, e.g. compareCandidates=1 (JSON value)")


def completion_settings(items: list[str]) -> dict[str, Any]:
    """`--set NAME=VALUE` items as the server's completion settings (values are JSON)."""
    return {name: json.loads(value) for name, value in (item.split("=", 1) for item in items)}


def require_model(path: Path) -> Path:
    if not path.is_file():
        sys.exit(f"model not found: {path} (run: python benchmarks/get_models.py)")
    return path


def stdlib_files(names: list[str]) -> list[Path]:
    """Real files not written here: modules of this machine's standard library."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return [root / name for name in names]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(values: list[float], percent: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))]


def result_line(**figures: Any) -> str:
    def fmt(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    return "RESULT " + " ".join(f"{key}={fmt(value)}" for key, value in figures.items())


def as_plain(value: Any) -> Any:
    """pygls hands back answers of custom requests as named tuples; make them dicts."""
    if hasattr(value, "_asdict"):
        return {key: as_plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(item) for item in value]
    return value


def text_offset(text: str, line: int, character: int) -> int:
    """The index in `text` of an LSP position (character in UTF-16 code units, as the sessions here negotiate)."""
    lines = text.split("\n")
    if line >= len(lines):
        return len(text)
    offset = sum(len(x) + 1 for x in lines[:line])
    units = 0
    for column, char in enumerate(lines[line]):
        if units >= character:
            return offset + column
        units += 2 if ord(char) > 0xFFFF else 1
    return offset + len(lines[line])


def applied_edits(text: str, edits: list[dict]) -> str:
    """The text after LSP TextEdits (as JSON), applied as an editor applies them: the last first."""
    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True):
        start, end = (text_offset(text, edit["range"][side]["line"], edit["range"][side]["character"]) for side in ("start", "end"))
        text = text[:start] + edit["newText"] + text[end:]
    return text


class Session:
    """A tandem-lsp subprocess driven over stdio, as an editor would."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.version = 1

    def open(self, path: Path, text: str, language: str = "python") -> str:
        uri = path.as_uri()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
        )
        return uri

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        self.replace(uri, (line, character), (line, character), text)

    def replace(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """One didChange: the text between (line, character) `start` and `end` becomes `text`."""
        self.version += 1
        span = types.Range(start=types.Position(line=start[0], character=start[1]), end=types.Position(line=end[0], character=end[1]))
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                content_changes=[types.TextDocumentContentChangePartial(range=span, text=text)],
            )
        )

    def configure(self, settings: dict) -> None:
        self.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"tandem": settings}))

    async def inline(self, uri: str, line: int, character: int) -> list[types.InlineCompletionItem]:
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
            )
        )
        return list(result.items) if result else []

    def inline_task(self, uri: str, line: int, character: int, msg_id: str) -> asyncio.Future:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
        return asyncio.ensure_future(self.client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))

    def cancel(self, msg_id: str) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def last_prompt(self) -> dict:
        return as_plain(await self.client.protocol.send_request_async("tandem/lastPrompt", None))

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))

    async def index_stats(self) -> dict | None:
        return as_plain(await self.client.protocol.send_request_async("tandem/indexStats", None))

    async def stats(self) -> dict:
        return as_plain(await self.client.protocol.send_request_async("tandem/stats", None))

    async def execute_command(self, command: str, argument: dict, timeout: float = 900) -> Any:
        """workspace/executeCommand with one argument, as the editors call tandem's commands."""
        params = types.ExecuteCommandParams(command=command, arguments=[argument])
        return as_plain(await asyncio.wait_for(self.client.workspace_execute_command_async(params), timeout))


@contextlib.asynccontextmanager
async def lsp_session(init_options: dict, args: list[str] | None = None, root: Path | None = None) -> AsyncIterator[Session]:
    client = LanguageClient("tandem-bench", "0")

    @client.feature("tandem/status")
    def _status(params: Any) -> None:  # shown in a status bar by real editors
        pass

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _diagnostics(params: Any) -> None:  # shown in the editor; the review command's answer carries them too
        pass

    await client.start_io(sys.executable, "-m", "tandem_lsp", "serve", *(args or []))
    capabilities = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
        text_document=types.TextDocumentClientCapabilities(inline_completion=types.InlineCompletionClientCapabilities()),
    )
    folders = [types.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None
    await client.initialize_async(
        types.InitializeParams(
            capabilities=capabilities,
            initialization_options=init_options,
            root_uri=root.as_uri() if root else None,
            workspace_folders=folders,
        )
    )
    client.initialized(types.InitializedParams())
    try:
        yield Session(client)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 10)
