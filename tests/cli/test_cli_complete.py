"""`tandem-lsp complete`: the README's first command, and its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tandem_lsp", "complete", *args], capture_output=True, text=True, timeout=180, cwd=ROOT)


def test_readme_command_prints_a_suggestion(small_model):
    # Whatever the model suggests (it may be nothing): printed as code, within the token bound.
    result = run("examples/fibonacci.py", "--line", "4", "--col", "4", "-v")
    assert result.returncode == 0, result.stderr
    assert "```" not in result.stdout, "a chat model's Markdown fence is not code"
    line = next(line for line in result.stderr.splitlines() if line.startswith("prompt_tokens="))
    figures = dict(part.split("=", 1) for part in line.split())
    assert int(figures["prompt_tokens"]) > 0
    assert int(figures["generated"]) <= 128 and figures["stop"] in ("eos", "max_tokens", "stop_check", "time")


def test_position_outside_the_file_is_a_clear_error():
    result = run("examples/fibonacci.py", "--line", "400")
    assert result.returncode == 2
    assert "line 400 is outside the file" in result.stderr


def test_missing_model_is_a_clear_error(tmp_path):
    result = run("examples/fibonacci.py", "--line", "4", "--model", str(tmp_path / "nope.gguf"))
    assert result.returncode == 1
    assert "model file not found" in result.stderr


def test_definitions_from_the_project_reach_the_prompt(tmp_path, small_model):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "geometry.py").write_text("def area_of_circle(radius):\n    return 3.14159 * radius * radius\n")
    main = tmp_path / "main.py"
    main.write_text("from geometry import area_of_circle\n\n\ndef report(r):\n    total = area_of_circle(\n")
    result = run(str(main), "--line", "4", "-v", "--workspace", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "3.14159 * radius * radius" in result.stderr  # the prompt, printed with -v
    # SmolLM2 has no repository-level tokens: no context unless asked for.
    plain = run(str(main), "--line", "4", "-v")
    assert "3.14159" not in plain.stderr
