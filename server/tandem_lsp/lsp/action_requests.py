"""What a tandem code action or command asks for, read once from the client's JSON.

The same JSON is a lazy code action's `data` (its "op" says which request) and
the argument of the command the action carries for clients without
codeAction/resolve. Editors call the commands directly too, so every field is
optional on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from lsprotocol import types
from lsprotocol.converters import get_converter

_CONVERTER = get_converter()


@dataclass(frozen=True)
class ReviewRequest:
    op: ClassVar[str] = "review"
    uri: str
    selection: types.Range | None = None
    deep: bool = False

    @classmethod
    def from_json(cls, data: dict) -> ReviewRequest:
        return cls(_uri(data), _range(data.get("range")), bool(data.get("deep", False)))

    def to_json(self) -> dict:
        return {**_target(self.uri, self.selection), "op": self.op, "deep": self.deep}


@dataclass(frozen=True)
class ExplainRequest:
    op: ClassVar[str] = "explain"
    uri: str
    selection: types.Range | None = None

    @classmethod
    def from_json(cls, data: dict) -> ExplainRequest:
        return cls(_uri(data), _range(data.get("range")))

    def to_json(self) -> dict:
        return {**_target(self.uri, self.selection), "op": self.op}


@dataclass(frozen=True)
class DebugRequest:
    op: ClassVar[str] = "debug"
    uri: str
    error_text: str = ""
    selection: types.Range | None = None
    # Write the fix into the document (the user agreed to it); only the command takes this.
    apply: bool = False

    @classmethod
    def from_json(cls, data: dict) -> DebugRequest:
        return cls(_uri(data), str(data.get("errorText", "")), _range(data.get("range")), data.get("apply") is True)

    def to_json(self) -> dict:
        return {**_target(self.uri, self.selection), "op": self.op, "errorText": self.error_text}


ActionRequest = ReviewRequest | ExplainRequest | DebugRequest
_BY_OP: dict[str, type[ActionRequest]] = {kind.op: kind for kind in (ReviewRequest, ExplainRequest, DebugRequest)}


def action_request(data: Any) -> ActionRequest | None:
    """The request a resolved code action's data holds, or None when it holds none of ours."""
    if not isinstance(data, dict):
        return None
    kind = _BY_OP.get(data.get("op"))  # type: ignore[arg-type]
    return kind.from_json(data) if kind is not None else None


def command_argument(arguments: tuple[Any, ...]) -> dict:
    """Commands take one object; clients send it as the first argument (or the arguments list itself)."""
    if arguments and isinstance(arguments[0], dict):
        return arguments[0]
    if arguments and isinstance(arguments[0], list) and arguments[0] and isinstance(arguments[0][0], dict):
        return arguments[0][0]
    return {}


def _uri(data: dict) -> str:
    return str(data.get("uri", ""))


def _target(uri: str, selection: types.Range | None) -> dict:
    target: dict[str, Any] = {"uri": uri}
    if selection is not None:
        target["range"] = _CONVERTER.unstructure(selection)
    return target


def _range(value: Any) -> types.Range | None:
    try:
        return types.Range(
            start=types.Position(line=int(value["start"]["line"]), character=int(value["start"].get("character", 0))),
            end=types.Position(line=int(value["end"]["line"]), character=int(value["end"].get("character", 0))),
        )
    except (KeyError, TypeError, ValueError):
        return None
