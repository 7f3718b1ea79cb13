"""VS Code's settings (package.json `contributes.configuration`) and the server's settings model agree:
every server setting can be set from VS Code as `tandem.<camelCase path>`, with the model's type and
default, and package.json is what editors/vscode/scripts/gen-settings.py writes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, Iterator

from tandem_lsp.config import Settings, parse_settings

VSCODE = Path(__file__).resolve().parents[2] / "editors" / "vscode"
CLIENT_ONLY = ("tandem.server.", "tandem.trace.")
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}


def vscode_properties() -> dict[str, dict[str, Any]]:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    return package["contributes"]["configuration"]["properties"]


def leaves(value: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(`tandem.a.b`, default) for every setting of the model's camelCase dump."""
    for key, child in value.items():
        if isinstance(child, dict):
            yield from leaves(child, (*path, key))
        else:
            yield ".".join(("tandem", *path, key)), child


def test_every_server_setting_is_a_vscode_setting_with_its_type_and_default() -> None:
    properties = vscode_properties()
    defaults = dict(leaves(Settings().model_dump(by_alias=True, mode="json")))
    missing = sorted(set(defaults) - set(properties))
    assert not missing, f"server settings VS Code cannot set: {missing}"
    for key, default in defaults.items():
        entry = properties[key]
        assert entry["default"] == default, key
        assert entry["type"] == JSON_TYPES[type(default)], key
        assert entry.get("markdownDescription"), f"{key} has no description"
    for key in ("tandem.completionModel.fimFamily", "tandem.index.workspaceSymbols", "tandem.completion.minConfidence"):
        assert key in properties


def test_every_vscode_setting_is_a_server_setting() -> None:
    """What the extension sends (the keys outside server.* and trace.*, nested) validates as the server's settings."""
    server_keys = {k: v for k, v in vscode_properties().items() if not k.startswith(CLIENT_ONLY)}
    defaults = dict(leaves(Settings().model_dump(by_alias=True, mode="json")))
    assert sorted(set(server_keys) - set(defaults)) == []
    sent: dict[str, Any] = {}
    for key, entry in server_keys.items():
        node = sent
        *parents, last = key.split(".")[1:]
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = entry["default"]
    settings, error = parse_settings({"tandem": sent})
    assert error is None
    assert settings == Settings()


def test_package_json_is_up_to_date_with_the_generator() -> None:
    spec = importlib.util.spec_from_file_location("gen_settings", VSCODE / "scripts" / "gen-settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python editors/vscode/scripts/gen-settings.py"
