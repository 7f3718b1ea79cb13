"""The source a task works on: its text, where it lives and what language it is."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tandem_lsp.languages import grammar_for
from tandem_lsp.code_checks import split_lines


@dataclass(frozen=True)
class SourceFile:
    text: str
    path: str = ""
    # The LSP language id ("python", "typescriptreact", ...); "" lets the path decide.
    language: str = ""

    @functools.cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    @functools.cached_property
    def grammar(self) -> str | None:
        return grammar_for(self.language, self.path)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1] if self.path else "the buffer"
