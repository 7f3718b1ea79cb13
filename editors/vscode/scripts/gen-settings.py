#!/usr/bin/env python3
"""Write package.json's `contributes.configuration` from the server's settings model.

    python editors/vscode/scripts/gen-settings.py          # rewrite package.json
    python editors/vscode/scripts/gen-settings.py --check  # exit 1 if it is out of date

Every field of `tandem_lsp.config.Settings` becomes `tandem.<camelCase path>` with
the model's type, default, bounds and choices (from its JSON schema and a default
instance). Descriptions and scopes already written in package.json are kept; a new
setting is described by the comment above its field in config.py. The client-only
keys (`tandem.server.*`, `tandem.trace.*`) are left as they are. Needs tandem_lsp
importable (the repository's virtual environment).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from tandem_lsp import config
from tandem_lsp.config import Settings

PACKAGE_JSON = Path(__file__).resolve().parent.parent / "package.json"
CLIENT_ONLY_PREFIXES = ("tandem.server.", "tandem.trace.")
# Where the settings appear in VS Code's settings editor: client-only keys first, then
# the sections in this order, each in its fields' order; trace last.
SECTION_ORDER = ["completion", "completionModel", "reviewModel", "reasoningModel", "index", "review", "logLevel"]
ROLE_LABELS = {"completionModel": "Completion model", "reviewModel": "Review model", "reasoningModel": "Reasoning model"}
# What the schema says about one value, copied as is.
SCHEMA_KEYS = ("type", "enum", "minimum", "maximum", "items")


def field_comments() -> dict[tuple[str, str], str]:
    """(class name, field name) -> the comment lines right above the field in config.py, joined."""
    source = inspect.getsource(config)
    lines = source.splitlines()
    comments: dict[tuple[str, str], str] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                above: list[str] = []
                row = item.lineno - 2
                while row >= 0 and lines[row].strip().startswith("#"):
                    above.insert(0, lines[row].strip().lstrip("#").strip())
                    row -= 1
                if above:
                    comments[(node.name, item.target.id)] = " ".join(above)
    return comments


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return root["$defs"][ref.rsplit("/", 1)[-1]] if ref else schema


def settings_properties() -> dict[str, dict[str, Any]]:
    """`tandem.<path>` -> its JSON-schema entry, for every leaf of the settings model, in model order."""
    root = Settings.model_json_schema(by_alias=True)
    defaults = Settings().model_dump(by_alias=True, mode="json")
    comments = field_comments()
    out: dict[str, dict[str, Any]] = {}

    def walk(model: type[BaseModel], schema: dict[str, Any], default: dict[str, Any], path: list[str]) -> None:
        for name, field in model.model_fields.items():
            key = to_camel(name)
            prop = _resolve(schema["properties"][key], root)
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, prop, default[key], [*path, key])
                continue
            entry = {k: prop[k] for k in SCHEMA_KEYS if k in prop}
            if "enum" in prop and "type" not in entry:
                entry["type"] = "string"
            entry["default"] = default[key]
            comment = comments.get((model.__name__, name), "")
            role = ROLE_LABELS.get(path[0]) if path else None
            entry["markdownDescription"] = f"{role}: {comment}" if role and comment else comment
            out[".".join(["tandem", *path, key])] = entry

    walk(Settings, root, defaults, [])
    return out


def _section(key: str) -> int:
    name = key.split(".")[1]
    return SECTION_ORDER.index(name) if name in SECTION_ORDER else len(SECTION_ORDER)


def configuration(current: dict[str, Any]) -> dict[str, Any]:
    """The new `contributes.configuration`, keeping what `current` says that the model cannot."""
    old = current.get("properties", {})
    client = {k: v for k, v in old.items() if k.startswith(CLIENT_ONLY_PREFIXES)}
    generated = settings_properties()
    properties: dict[str, Any] = {}
    ordered = [k for k in client if not k.startswith("tandem.trace.")]
    ordered += sorted(generated, key=_section)  # sorted() is stable: model order within a section
    ordered += [k for k in client if k.startswith("tandem.trace.")]
    for order, key in enumerate(ordered):
        if key in client:
            entry = dict(client[key])
        else:
            entry = dict(generated[key])
            kept = old.get(key, {})
            entry["markdownDescription"] = kept.get("markdownDescription") or entry["markdownDescription"] or key
            if "scope" in kept:
                entry["scope"] = kept["scope"]
        entry["order"] = order
        properties[key] = entry
    return {**current, "properties": properties}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether package.json is up to date")
    args = parser.parse_args(argv)
    package = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    new = configuration(package["contributes"]["configuration"])
    if new == package["contributes"]["configuration"]:
        return 0
    if args.check:
        print(f"{PACKAGE_JSON} is out of date: run python {Path(__file__).as_posix()}", file=sys.stderr)
        return 1
    package["contributes"]["configuration"] = new
    PACKAGE_JSON.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(new['properties'])} settings to {PACKAGE_JSON}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
