"""Documents kept in sync by the protocol's own rules.

pygls 2.1's TextDocument deviates on edge cases that lose or misplace a
user's edit: it splits lines with str.splitlines (which also breaks at form
feeds, U+2028, NEL …, where the protocol only knows \\n, \\r\\n and \\r),
clamps a column past the line end to one before it (or past the line break),
and mishandles a reversed range. This document follows the protocol: line
ends are \\n, \\r\\n or \\r; a column past its line's end means the line end; a
line past the last means the end of the document; a position inside a
character (a UTF-8 sequence, a UTF-16 surrogate pair) means after it.
"""

from __future__ import annotations

import re

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

_PROTOCOL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class ProtocolTextDocument(TextDocument):
    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(_PROTOCOL_LINE.findall(self.source))

    def offset_at(self, position: types.Position, lines: tuple[str, ...] | None = None) -> int:
        """Index into the source for a client position, clamped as the protocol says."""
        lines = self.lines if lines is None else lines
        if position.line >= len(lines):
            return len(self.source)
        line_start = sum(len(line) for line in lines[: position.line])
        content = lines[position.line].rstrip("\r\n")
        used = 0
        for index, char in enumerate(content):
            if used >= position.character:
                return line_start + index
            used += self.position_codec.client_num_units(char)
        return line_start + len(content)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = self.lines
        start, end = sorted((self.offset_at(change.range.start, lines), self.offset_at(change.range.end, lines)))
        self._source = self.source[:start] + change.text + self.source[end:]


class ProtocolWorkspace(Workspace):
    def _create_text_document(self, doc_uri, source=None, version=None, language_id=None) -> TextDocument:
        return ProtocolTextDocument(
            doc_uri, source=source, version=version, language_id=language_id, sync_kind=self._sync_kind, position_codec=self._position_codec
        )


def use_protocol_documents(workspace: Workspace) -> None:
    """Make pygls' workspace create protocol-following documents.

    pygls builds its Workspace itself during `initialize`, before our handler
    runs and before any document is opened; switching its class there is the
    least intrusive hook it offers.
    """
    workspace.__class__ = ProtocolWorkspace
