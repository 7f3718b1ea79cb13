"""Line comments per language, for rendering context snippets as comments."""

from __future__ import annotations

_HASH = {"python", "ruby", "shellscript", "sh", "bash", "perl", "r", "yaml", "toml", "dockerfile", "makefile", "elixir", "julia", "nim"}
_DASH = {"lua", "sql", "haskell", "ada", "elm"}
_PERCENT = {"matlab", "erlang", "latex", "tex"}
_SEMICOLON = {"clojure", "lisp", "scheme", "commonlisp"}


def line_comment(language: str) -> str:
    language = language.lower()
    if language in _HASH:
        return "#"
    if language in _DASH:
        return "--"
    if language in _PERCENT:
        return "%"
    if language in _SEMICOLON:
        return ";"
    return "//"


def comment_block(language: str, text: str) -> str:
    marker = line_comment(language)
    return "\n".join(f"{marker} {line}".rstrip() for line in text.splitlines())
