"""Conversions between LSP positions and the completion code's plain offsets."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument

from tandem_lsp.completion.request import CompletionRequest


def document_path(document: TextDocument) -> str:
    return document.path if document.uri.startswith("file:") else ""


def cursor_offset(document: TextDocument, position: types.Position) -> int | None:
    """Index into the document text for a client position, or None if out of range.

    The client counts columns in the negotiated encoding (UTF-8 for Neovim,
    UTF-16 for VS Code); pygls' codec converts. A column past the end of its
    line is clamped to the line end, as the protocol asks.
    """
    lines = document.lines
    if position.line < 0 or position.character < 0:
        return None
    if position.line > len(lines) or (position.line == len(lines) and lines and not lines[-1].endswith(("\n", "\r"))):
        return None
    if position.line == len(lines):
        return len(document.source)
    line = lines[position.line]
    content = line.rstrip("\r\n")
    units = document.position_codec.client_num_units(content)
    character = min(position.character, units)
    server = document.position_codec.position_from_client_units(lines, types.Position(position.line, character))
    column = min(server.character, len(content))
    return sum(len(text) for text in lines[: position.line]) + column


def completion_request(document: TextDocument, position: types.Position) -> CompletionRequest | None:
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


def position_at(document: TextDocument, offset: int) -> types.Position:
    return document.client_position_at_offset(offset)
