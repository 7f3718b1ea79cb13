"""`tandem-lsp --version` prints the installed package's version."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import tandem_lsp


def test_version_prints_the_package_version() -> None:
    out = subprocess.run([sys.executable, "-m", "tandem_lsp", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"tandem-lsp {tandem_lsp.__version__}"
    assert tandem_lsp.__version__ == importlib.metadata.version("tandem-lsp")
