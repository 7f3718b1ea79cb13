"""LSP language ids by file extension (for the CLI, where no editor tells us)."""

from __future__ import annotations

from pathlib import PurePath

_BY_SUFFIX = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascriptreact", ".ts": "typescript", ".tsx": "typescriptreact", ".go": "go", ".rs": "rust",
    ".java": "java", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".rb": "ruby", ".lua": "lua", ".sh": "shellscript", ".cs": "csharp", ".kt": "kotlin",
    ".swift": "swift", ".php": "php", ".scala": "scala", ".sql": "sql",
}


def language_for_path(path: str) -> str:
    return _BY_SUFFIX.get(PurePath(path).suffix.lower(), "")
