"""Settings apply both ways: a key the user removes goes back to what is below it, without a restart."""

from __future__ import annotations

from tandem_lsp.config import Settings
from tandem_lsp.lsp.server import TandemServer


def test_a_removed_client_setting_falls_back_to_the_command_line_value():
    server = TandemServer(Settings().merged({"completion": {"maxTokens": 64}}))
    server.apply_settings({"completionModel": {"path": "/models/a.gguf"}}, "initialization")
    server.apply_settings({"tandem": {"completion": {"maxTokens": 16}, "completionModel": {"path": "/models/b.gguf"}}})
    assert server.settings.completion.max_tokens == 16
    assert server.settings.completion_model.path == "/models/b.gguf"

    # The user clears both settings: VS Code then sends only what is left.
    server.apply_settings({"tandem": {}})
    assert server.settings.completion.max_tokens == 64  # the command line's value
    assert server.settings.completion_model.path == "/models/a.gguf"  # initializationOptions


def test_a_runtime_toggle_stays_on_top_of_configuration_changes():
    server = TandemServer()
    server.apply_settings({"completion": {"enabled": False}}, "override")
    server.apply_settings({"completion": {"maxTokens": 32}})
    assert server.settings.completion.enabled is False
    assert server.settings.completion.max_tokens == 32
