"""Conversions between LSP positions and ranges and the plain offsets and lines of the code below."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument

from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.lsp.text_sync import ProtocolTextDocument


def document_path(document: TextDocument) -> str:
    return document.path if document.uri.startswith("file:") else ""


def document_lines(document: TextDocument) -> list[str]:
    """The document's lines without their line breaks."""
    return [line.rstrip("\r\n") for line in document.lines]


def line_range(document: TextDocument, start: int, end: int) -> types.Range:
    """Whole lines start..end in client units."""
    lines = document_lines(document)
    end = min(end, len(lines) - 1) if lines else 0
    width = document.position_codec.client_num_units(lines[end]) if lines else 0
    return types.Range(start=types.Position(line=start, character=0), end=types.Position(line=end, character=width))


def replaced_range(document: TextDocument, position: types.Position, replaced: str) -> types.Range:
    """The range from the cursor over `replaced`, text on the cursor's line right after it (empty: an insertion)."""
    end = position.character + document.position_codec.client_num_units(replaced) if replaced else position.character
    return types.Range(start=position, end=types.Position(line=position.line, character=end))


def cursor_offset(document: ProtocolTextDocument, position: types.Position) -> int | None:
    """Index into the document text for a client position, or None if out of range.

    The client counts columns in the negotiated encoding (UTF-8 for Neovim,
    UTF-16 for VS Code). A column past the end of its line is clamped to the
    line end, as the protocol asks; a line past the document's end is no place
    to complete.
    """
    if position.line < 0 or position.character < 0:
        return None
    lines = document.lines
    ends_with_break = bool(lines) and lines[-1].endswith(("\n", "\r"))
    if position.line > len(lines) or (position.line == len(lines) and lines and not ends_with_break):
        return None
    return document.offset_at(position, lines)


def completion_request(document: ProtocolTextDocument, position: types.Position) -> CompletionRequest | None:
    offset = cursor_offset(document, position)
    if offset is None:
        return None
    return CompletionRequest(
        text=document.source,
        offset=offset,
        language=document.language_id or "",
        path=document_path(document),
        document_key=document.uri,
    )
