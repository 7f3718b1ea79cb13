"""A completion request as the completion code sees it: a document and a cursor."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class CompletionRequest:
    text: str
    # Cursor as an index into `text` (Python str index, i.e. code points).
    offset: int
    language: str = ""
    # Absolute file path, or "" for an unsaved buffer.
    path: str = ""
    # Identifies the document so a newer request can supersede an older one.
    document_key: str = ""

    @cached_property
    def line_start(self) -> int:
        return self.text.rfind("\n", 0, self.offset) + 1

    @cached_property
    def line_end(self) -> int:
        end = self.text.find("\n", self.offset)
        return len(self.text) if end < 0 else end

    @property
    def line_prefix(self) -> str:
        """Text typed on the cursor's line before the cursor."""
        return self.text[self.line_start : self.offset]

    @property
    def line_suffix(self) -> str:
        """Text on the cursor's line after the cursor."""
        return self.text[self.offset : self.line_end]

    @property
    def before_line(self) -> str:
        """Everything above the cursor's line (ends with a newline or is empty)."""
        return self.text[: self.line_start]

    @property
    def after_line(self) -> str:
        """Everything below the cursor's line (starts after its newline)."""
        return self.text[self.line_end + 1 :] if self.line_end < len(self.text) else ""

    @cached_property
    def cursor_line(self) -> int:
        return self.text.count("\n", 0, self.offset)

    def next_nonblank_line(self) -> str:
        for line in self.after_line.splitlines():
            if line.strip():
                return line
        return ""
