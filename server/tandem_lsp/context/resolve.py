"""Which indexed files an import statement refers to.

Import strings are turned into path hints (slash-separated, no extension):
absolute ones for relative imports, suffixes otherwise. A definition whose
file matches a hint of the current file's imports is the one the code near the
cursor most likely means, so retrieval ranks it first.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass


@dataclass(frozen=True)
class PathHint:
    text: str
    absolute: bool


# File names that stand for their directory (a package's entry point).
_PACKAGE_FILES = ("/__init__", "/index", "/mod")
_RUST_ROOTS = frozenset({"crate", "self", "super", "std", "core", "alloc"})


def path_key(path: str) -> str:
    """`path` with forward slashes, without its extension and package entry file name."""
    key = os.path.splitext(path)[0].replace(os.sep, "/")
    for suffix in _PACKAGE_FILES:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def _relative(base_dir: str, module: str) -> PathHint:
    joined = posixpath.normpath(posixpath.join(base_dir.replace(os.sep, "/"), module))
    return PathHint(path_key(joined), True)


def module_hints(grammar: str, module: str, current_path: str) -> list[PathHint]:
    """Path hints for one imported module of the file at `current_path`."""
    module = module.strip()
    if not module:
        return []
    here = os.path.dirname(current_path)
    if grammar == "python":
        if module.startswith("."):
            dots = len(module) - len(module.lstrip("."))
            return [_relative(here, "../" * (dots - 1) + module[dots:].replace(".", "/"))]
        return [PathHint(module.replace(".", "/"), False)]
    if grammar in ("javascript", "typescript", "tsx"):
        if module.startswith("."):
            return [_relative(here, module)]
        return [PathHint(path_key(module), False)]
    if grammar == "go":
        return [PathHint("/".join(module.split("/")[-2:]), False)]
    if grammar == "rust":
        parts = [p for p in module.split("{", 1)[0].split("::") if p.strip() and p.strip() not in _RUST_ROOTS]
        return [PathHint("/".join(parts[:n]), False) for n in range(len(parts), 0, -1)]
    if grammar == "java":
        parts = module.rstrip(".*").split(".")
        return [PathHint("/".join(parts[:n]), False) for n in (len(parts), len(parts) - 1) if n > 0]
    if grammar in ("c", "cpp"):
        parts = [p for p in module.split("/") if p not in ("", ".", "..")]
        return [PathHint(path_key("/".join(parts)), False)] if parts else []
    return []


def matches(hint: PathHint, key: str) -> bool:
    """Whether the file with path key `key` (see path_key) is what `hint` names, or lies in that package."""
    directory = key.rsplit("/", 1)[0]
    if hint.absolute:
        return key == hint.text or directory == hint.text
    tail = "/" + hint.text
    return key.endswith(tail) or directory.endswith(tail)
