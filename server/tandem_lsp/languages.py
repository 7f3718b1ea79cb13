"""Languages in one place: a file's language, the grammar that parses it, its comment marker.

In names across the package, `language` is an LSP language id (VS Code's:
"javascriptreact", "shellscript") and `grammar` the name of a tree-sitter
grammar the index can load (context/grammars.py: "tsx", "cpp").
"""

from __future__ import annotations

import os

# File extension -> LSP language id (for the CLI and the index, where no editor tells us).
_LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".ipp": "cpp",
    ".rb": "ruby",
    ".lua": "lua",
    ".sh": "shellscript",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".swift": "swift",
    ".php": "php",
    ".scala": "scala",
    ".sql": "sql",
}

# LSP language id -> tree-sitter grammar. Grammar names and a few other
# spellings ("py", "c++") are accepted too: people type them for --language.
_GRAMMARS = {
    "python": "python",
    "py": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "tsx": "tsx",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "c++": "cpp",
}

_HASH = {"python", "ruby", "shellscript", "sh", "bash", "perl", "r", "yaml", "toml", "dockerfile", "makefile", "elixir", "julia", "nim"}
_DASH = {"lua", "sql", "haskell", "ada", "elm"}
_PERCENT = {"matlab", "erlang", "latex", "tex"}
_SEMICOLON = {"clojure", "lisp", "scheme", "commonlisp"}


def language_for_path(path: str | os.PathLike[str]) -> str:
    """The LSP language id of a file, by its extension; "" when unknown."""
    return _LANGUAGES.get(os.path.splitext(os.fspath(path))[1].lower(), "")


def grammar_for_path(path: str | os.PathLike[str]) -> str | None:
    """The tree-sitter grammar that parses a file, by its extension; None when there is none."""
    return _GRAMMARS.get(language_for_path(path))


def grammar_for(language: str, path: str | os.PathLike[str] = "") -> str | None:
    """The tree-sitter grammar for a language id, else for the file at `path`; None when neither has one."""
    return _GRAMMARS.get(language) or (grammar_for_path(path) if path else None)


def line_comment(language: str) -> str:
    """The line-comment marker of a language ("//" when we do not know it)."""
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
