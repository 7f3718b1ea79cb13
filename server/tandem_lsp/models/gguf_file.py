"""Cheap checks on a model file before handing it to llama.cpp."""

from __future__ import annotations

import os
from pathlib import Path

from tandem_lsp.models.backend import ModelError

GGUF_MAGIC = b"GGUF"
# Header: magic, version, tensor count, metadata count.
_MIN_HEADER_BYTES = 24


def check_model_file(path: str | os.PathLike) -> Path:
    """Raise ModelError with a message a user can act on, or return the path."""
    model = Path(path).expanduser()
    if not model.exists():
        raise ModelError(f"model file not found: {model}")
    if not model.is_file():
        raise ModelError(f"model path is not a file: {model}")
    try:
        with model.open("rb") as handle:
            header = handle.read(_MIN_HEADER_BYTES)
    except OSError as exc:
        raise ModelError(f"model file is not readable: {model} ({exc.strerror})") from exc
    if header[:4] != GGUF_MAGIC:
        raise ModelError(f"not a GGUF model file: {model}")
    if len(header) < _MIN_HEADER_BYTES:
        raise ModelError(f"GGUF file is truncated: {model}")
    return model
