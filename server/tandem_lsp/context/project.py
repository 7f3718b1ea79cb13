"""Find the project a file belongs to (for command-line use, where no editor names a workspace)."""

from __future__ import annotations

from pathlib import Path

PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml", "pom.xml", "build.gradle", "CMakeLists.txt", "Makefile")


def project_root(file: Path) -> Path:
    """The nearest ancestor holding a project marker, else the file's folder."""
    folder = file.resolve().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder
