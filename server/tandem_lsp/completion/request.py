"""A completion request as the completion code sees it: a document and a cursor."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterator


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
    def inside_line(self) -> bool:
        """Whether text follows the cursor on a line the cursor is inside of.

        Not at column 0 before an indented line: the user is inserting a line
        above it. At column 0 before text that starts without blanks it is: in an
        indented block that is the rest of a line whose indentation is missing
        (a random span cut from a function body), and at the top level a line of
        its own, where nothing but the model's own indentation tells the two apart.
        """
        suffix = self.line_suffix
        return bool(suffix.strip()) and (self.offset > self.line_start or not suffix[:1].isspace())

    @property
    def inserting_above(self) -> bool:
        """Whether the cursor is at column 0 before an indented line: the user is inserting lines above it."""
        return self.offset == self.line_start and self.line_suffix[:1].isspace() and bool(self.line_suffix.strip())

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

    def lines_below(self) -> Iterator[str]:
        """The lines below the cursor's line, one at a time (filters read a few per generated piece, not the whole file)."""
        start = self.line_end + 1
        while start < len(self.text):
            end = self.text.find("\n", start)
            end = len(self.text) if end < 0 else end
            yield self.text[start:end]
            start = end + 1

    def lines_after(self) -> Iterator[str]:
        """The lines the code goes on with below what is written at the cursor: the cursor's line first when lines are inserted above it."""
        if self.inserting_above:
            yield self.line_suffix
        yield from self.lines_below()

    def lines_above(self) -> Iterator[str]:
        """The lines above the cursor's line, nearest first, one at a time."""
        end = self.line_start - 1
        while end >= 0:
            start = self.text.rfind("\n", 0, end) + 1
            yield self.text[start:end]
            end = start - 1
