"""Config files: the user file, the project file (`.tandem.toml` or pyproject's `[tool.tandem]`),
their precedence under the command line, invalid files, and CLI commands reading them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tandem_lsp.cli.common import add_model_arguments, settings_from_args
from tandem_lsp.config_files import find_project_file, load_settings, user_config_file


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and XDG_CONFIG_HOME: the user file is <it>/tandem/config.toml."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home / ".config"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_user_file_lives_in_the_xdg_config_folder(config_home: Path) -> None:
    assert user_config_file() == config_home / "tandem" / "config.toml"


def test_defaults_user_file_project_file_then_command_line(config_home: Path, tmp_path: Path) -> None:
    write(config_home / "tandem" / "config.toml", """
[completion]
maxTokens = 64
max_time_ms = 900
enabled = false

[completionModel]
threads = 3
fimFamily = "qwen"
""")
    project = tmp_path / "project"
    write(project / ".tandem.toml", """
[completion]
max_tokens = 32

[completionModel]
threads = 5
""")
    source = write(project / "pkg" / "deep" / "mod.py", "x = 1\n")

    loaded = load_settings(source)
    assert loaded.errors == []
    assert loaded.files == [config_home / "tandem" / "config.toml", project / ".tandem.toml"]
    s = loaded.settings
    assert s.completion.max_tokens == 32  # project beats user (snake_case and camelCase are one key)
    assert s.completion.max_time_ms == 900  # the user file's, untouched by the project
    assert s.completion.enabled is False
    assert s.completion_model.fim_family == "qwen"
    assert s.completion_model.threads == 5
    assert s.completion.prompt_tokens == 1536  # a default nobody set

    # The command line wins over both files.
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    add_model_arguments(parser)
    flags = settings_from_args(parser.parse_args([str(source), "--threads", "7"]))
    assert flags.completion_model.threads == 7
    assert flags.completion.max_tokens == 32


def test_pyproject_tool_tandem_is_a_project_file(config_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "repo" / "pyproject.toml", """
[project]
name = "demo"

[tool.tandem.index]
workspaceSymbols = true
exclude = ["generated"]
""")
    # A nearer pyproject.toml without [tool.tandem] is not ours: the search goes on upwards.
    write(tmp_path / "repo" / "sub" / "pyproject.toml", "[project]\nname = 'sub'\n")
    found = find_project_file(tmp_path / "repo" / "sub")
    assert found == tmp_path / "repo" / "pyproject.toml"
    settings = load_settings(tmp_path / "repo" / "sub").settings
    assert settings.index.workspace_symbols is True
    assert settings.index.exclude == ["generated"]


def test_tandem_toml_beats_pyproject_in_the_same_folder(config_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.tandem.completion]\nmaxTokens = 10\n")
    write(tmp_path / ".tandem.toml", "[completion]\nmaxTokens = 20\n")
    assert load_settings(tmp_path).settings.completion.max_tokens == 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[completion\nenabled = false\n", "invalid TOML in"),
        ("[completion]\nmaxTokens = 0\n", "invalid setting in"),
        ("[completion]\nenabled = 'sometimes'\n", "completion.enabled"),
    ],
)
def test_an_invalid_file_is_reported_in_one_line_and_ignored(config_home: Path, tmp_path: Path, text: str, expected: str) -> None:
    write(config_home / "tandem" / "config.toml", "[completion]\nmaxTokens = 50\n")
    bad = write(tmp_path / ".tandem.toml", text)
    loaded = load_settings(tmp_path)
    assert len(loaded.errors) == 1
    error = loaded.errors[0]
    assert expected in error and str(bad) in error and "\n" not in error
    assert loaded.files == [config_home / "tandem" / "config.toml"]
    assert loaded.settings.completion.max_tokens == 50  # the user file still applies
    assert loaded.settings.completion.enabled is True


def test_a_misspelt_setting_is_named_and_the_rest_of_the_file_applies(config_home: Path, tmp_path: Path) -> None:
    write(tmp_path / ".tandem.toml", "[completion]\nmaxTokens = 12\nmax_tokenz = 5\n\n[completon]\nenabled = false\n")
    loaded = load_settings(tmp_path)
    assert loaded.settings.completion.max_tokens == 12
    assert loaded.settings.completion.enabled is True
    assert loaded.files == [tmp_path / ".tandem.toml"]
    assert [e.split(" in ")[0] for e in loaded.errors] == ["unknown setting completion.max_tokenz", "unknown setting completon"]


def test_no_files_means_defaults(config_home: Path, tmp_path: Path) -> None:
    loaded = load_settings(tmp_path)
    assert (loaded.files, loaded.errors) == ([], [])
    assert loaded.settings.completion.max_tokens == 128


def run_cli(args: list[str], cwd: Path, env_home: Path) -> subprocess.CompletedProcess[str]:
    env = {**__import__("os").environ, "HOME": str(env_home), "XDG_CONFIG_HOME": str(env_home / ".config")}
    return subprocess.run([sys.executable, "-m", "tandem_lsp", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_doctor_reads_the_project_file(tmp_path: Path) -> None:
    """`tandem-lsp doctor --no-probe` reports the endpoint the project file configures (no model is loaded)."""
    project = tmp_path / "project"
    write(project / ".tandem.toml", '[completionModel]\nendpoint = "http://127.0.0.1:9/v1"\nremoteModel = "from-the-file"\n')
    proc = run_cli(["doctor", "--no-probe", "--json"], project, tmp_path / "home")
    report = json.loads(proc.stdout)
    text = json.dumps(report["checks"])
    assert "127.0.0.1:9" in text, text

    # An invalid project file: one line on stderr, and the command still runs on the defaults.
    write(project / ".tandem.toml", "[completionModel\n")
    proc = run_cli(["doctor", "--no-probe", "--json"], project, tmp_path / "home")
    assert "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if "invalid TOML" in line] != []
    assert "127.0.0.1:9" not in json.dumps(json.loads(proc.stdout)["checks"])


def test_index_reads_the_project_files_index_settings(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / ".tandem.toml", '[index]\nexclude = ["skipped"]\n')
    write(project / "kept.py", "def kept():\n    pass\n")
    write(project / "skipped" / "gone.py", "def gone():\n    pass\n")
    proc = run_cli(["index", str(project), "--json", "--no-cache"], tmp_path, tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"] == 1
