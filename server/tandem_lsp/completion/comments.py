"""Context snippets rendered as comments of the current file's language."""

from __future__ import annotations

from tandem_lsp.languages import line_comment


def comment_block(language: str, text: str) -> str:
    marker = line_comment(language)
    return "\n".join(f"{marker} {line}".rstrip() for line in text.splitlines())
