"""Configuration files: a user file and a project file, laid under the client's settings.

Precedence, lowest first (each level overrides the keys it sets):

1. defaults (`tandem_lsp.config`)
2. the user file: `config.toml` in platformdirs' `user_config_dir("tandem")`
   (`~/.config/tandem/config.toml` on Linux, honouring `XDG_CONFIG_HOME`)
3. the project file: the nearest `.tandem.toml`, or `pyproject.toml` with a
   `[tool.tandem]` table, found from the file's folder (the workspace root for
   `serve`) upwards
4. the client's settings (initializationOptions, then didChangeConfiguration)
5. command-line flags (`--model`, `--threads`, …)

Files use the client settings' names: camelCase as on the wire or snake_case,
e.g. `[completion]` `enabled = false` or `[completionModel]` `fim_family = "qwen"`.
An unreadable or invalid file is ignored as a whole and reported in one line; a
name that is no setting (a typo) is reported too, the rest of its file applies.
Loading never raises.

Why a small tomllib loader and not pydantic-settings: the layers are merged by
`Settings.merged` (config.py), the same merge the server uses for the client's
layers, so every level follows one rule (nested tables merge key by key, camelCase
and snake_case names are the same key). pydantic-settings' TOML sources merge raw
dicts (a camelCase key in one file and its snake_case spelling in another would
both survive), fix the file list per class rather than per call (the project file
depends on the document's folder), and fail as a whole where one bad file must be
ignored alone.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from tandem_lsp.config import Settings

PROJECT_FILE = ".tandem.toml"
PYPROJECT_FILE = "pyproject.toml"


@dataclass
class LoadedSettings:
    """Settings from defaults and files, which files gave them, and what went wrong.

    `errors`: one line each, for a file left out or a name in a file that is no setting.
    """

    settings: Settings
    files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class ConfigFileError(Exception):
    """A config file that cannot be used; the message is one line naming the file."""


def user_config_file() -> Path:
    return Path(user_config_dir("tandem", appauthor=False)) / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"invalid TOML in {path}: {exc}") from None


def _tandem_table(path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    """The settings table of a file: the whole `.tandem.toml`, `[tool.tandem]` of a pyproject."""
    if path.name != PYPROJECT_FILE:
        return data
    tool = data.get("tool")
    table = tool.get("tandem") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _is_file(path: Path) -> bool:
    """Path.is_file, False also for a folder we may not look into."""
    try:
        return path.is_file()
    except OSError:
        return False


def find_project_file(start: Path | str | None) -> Path | None:
    """The nearest `.tandem.toml`, or `pyproject.toml` with `[tool.tandem]`, from `start` upwards.

    In one folder `.tandem.toml` wins. A pyproject.toml that cannot be parsed is
    returned (it may hold our table; loading it reports the error).
    """
    if start is None:
        return None
    folder = Path(start).expanduser().resolve()
    try:
        if not folder.is_dir():
            folder = folder.parent
    except OSError:
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        project = candidate / PROJECT_FILE
        if _is_file(project):
            return project
        pyproject = candidate / PYPROJECT_FILE
        if _is_file(pyproject):
            try:
                if _tandem_table(pyproject, _read_toml(pyproject)) is not None:
                    return pyproject
            except ConfigFileError:
                return pyproject
    return None


def unknown_keys(table: dict[str, Any], known: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names in `table` that are no setting (a typo the model would silently ignore)."""
    unknown = []
    for key, value in table.items():
        name = to_camel(str(key))
        if name not in known:
            unknown.append(f"{prefix}{key}")
        elif isinstance(value, dict) and isinstance(known[name], dict):
            unknown += unknown_keys(value, known[name], f"{prefix}{key}.")
    return unknown


def apply_file(settings: Settings, path: Path, warnings: list[str] | None = None) -> Settings:
    """`settings` with the file's values on top; ConfigFileError if the file cannot be used.

    Names that are no setting are left out and, given a `warnings` list, named there.
    """
    table = _tandem_table(path, _read_toml(path)) or {}
    try:
        merged = settings.merged(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise ConfigFileError(f"invalid setting in {path}: {where}: {first.get('msg')}") from None
    if warnings is not None:
        known = settings.model_dump(by_alias=True)
        warnings += [f"unknown setting {name} in {path} (ignored)" for name in unknown_keys(table, known)]
    return merged


def load_settings(start: Path | str | None = None, base: Settings | None = None) -> LoadedSettings:
    """`base` (the defaults) < the user file < the project file found from `start`.

    A file that cannot be used is left out and its error listed; the others still apply.
    """
    loaded = LoadedSettings(base or Settings())
    for path in (user_config_file(), find_project_file(start)):
        if path is None or not _is_file(path):
            continue
        try:
            loaded.settings = apply_file(loaded.settings, path, loaded.errors)
        except ConfigFileError as exc:
            loaded.errors.append(str(exc))
        else:
            loaded.files.append(path)
    return loaded
