"""Settings apply both ways: a key the user removes goes back to what is below it, without a restart."""

from __future__ import annotations

from tandem_lsp.config import Settings
from tandem_lsp.lsp.server import TandemServer


def test_a_removed_client_setting_falls_back_to_the_base_value():
    server = TandemServer(Settings().merged({"completion": {"maxTokens": 64}}))
    server.apply_settings({"completionModel": {"path": "/models/a.gguf"}}, "initialization")
    server.apply_settings({"tandem": {"completion": {"maxTokens": 16}, "completionModel": {"path": "/models/b.gguf"}}})
    assert server.settings.completion.max_tokens == 16
    assert server.settings.completion_model.path == "/models/b.gguf"

    # The user clears both settings: VS Code then sends only what is left.
    server.apply_settings({"tandem": {}})
    assert server.settings.completion.max_tokens == 64  # the base's value (defaults < config files)
    assert server.settings.completion_model.path == "/models/a.gguf"  # initializationOptions


def test_a_runtime_toggle_stays_on_top_of_configuration_changes():
    server = TandemServer()
    server.apply_settings({"completion": {"enabled": False}}, "override")
    server.apply_settings({"completion": {"maxTokens": 32}})
    assert server.settings.completion.enabled is False
    assert server.settings.completion.max_tokens == 32


def test_command_line_flags_beat_every_client_layer():
    server = TandemServer(flags={"completionModel": {"threads": 3}, "logLevel": "info"})
    assert server.settings.completion_model.threads == 3
    server.apply_settings({"completionModel": {"threads": 8, "gpuLayers": 0}, "logLevel": "debug"}, "initialization")
    server.apply_settings({"tandem": {"completionModel": {"threads": 6}}})
    assert server.settings.completion_model.threads == 3
    assert server.settings.completion_model.gpu_layers == 0  # a key the flags do not set: the client's
    assert server.settings.log_level == "info"


def test_config_files_are_the_base_under_the_client(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config" / "tandem").mkdir(parents=True)
    (tmp_path / "config" / "tandem" / "config.toml").write_text("[completion]\nmaxTokens = 40\nmaxTimeMs = 700\n")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".tandem.toml").write_text("[completion]\nmax_tokens = 20\n\n[completionModel]\nthreads = 2\n")
    server = TandemServer(flags={"completionModel": {"threads": 4}}, read_config_files=True)
    server.load_config_files(str(tmp_path / "project"))
    assert server.config_files == [str(tmp_path / "config" / "tandem" / "config.toml"), str(tmp_path / "project" / ".tandem.toml")]
    assert (server.settings.completion.max_tokens, server.settings.completion.max_time_ms) == (20, 700)
    assert server.settings.completion_model.threads == 4  # the flag beats the project file
    server.apply_settings({"tandem": {"completion": {"maxTokens": 10}}})
    assert server.settings.completion.max_tokens == 10  # the client beats the project file
    server.apply_settings({"tandem": {}})
    assert server.settings.completion.max_tokens == 20  # cleared: back to the project file
