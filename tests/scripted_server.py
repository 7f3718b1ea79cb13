"""`tandem-lsp serve` with every model replaced by the scripted test backend.

    python tests/scripted_server.py SCRIPT.json [serve arguments]

SCRIPT.json is a `fakes.Script` (written by `lsp_session.scripted_session`). The
server is the real one, started by the real entry point; only
`tandem_lsp.models.registry.load_backend` is replaced, so every role loads a
`ScriptedBackend` instead of a GGUF or an HTTP endpoint. No model file is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import Script, ScriptedBackend  # noqa: E402

from tandem_lsp.cli import main  # noqa: E402
from tandem_lsp.models import registry  # noqa: E402


def run(argv: list[str]) -> int:
    script = Script.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    registry.load_backend = lambda model, key: ScriptedBackend(script)
    # With no model configured the registry falls back to the embedded model's path:
    # any path will do, nothing is read from it.
    registry.default_model_path = lambda: Path("scripted.gguf")
    return main(["serve", *argv[1:]])


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
