"""Code-action data and command arguments, read once into typed requests."""

from __future__ import annotations

from lsprotocol import types

from tandem_lsp.lsp.action_requests import DebugRequest, ExplainRequest, ReviewRequest, action_request, command_argument

RANGE = types.Range(start=types.Position(2, 0), end=types.Position(5, 3))


def test_each_request_comes_back_from_its_action_data() -> None:
    for request in (ReviewRequest("file:///a.py", RANGE, deep=True), ExplainRequest("file:///a.py", RANGE),
                    DebugRequest("file:///a.py", "mypy: bad type", RANGE)):
        assert action_request(request.to_json()) == request


def test_data_of_another_kind_is_no_request() -> None:
    assert action_request({"uri": "file:///a.py", "op": "format"}) is None
    assert action_request(None) is None


def test_missing_or_broken_fields_get_their_defaults() -> None:
    assert ReviewRequest.from_json({"uri": "file:///a.py", "range": {"start": {"line": "x"}}}) == ReviewRequest("file:///a.py")
    assert DebugRequest.from_json({"errorText": "boom", "apply": "yes"}) == DebugRequest("", "boom")
    assert DebugRequest.from_json({"apply": True}).apply


def test_commands_take_one_object_however_the_client_wraps_it() -> None:
    assert command_argument(({"uri": "u"},)) == {"uri": "u"}
    assert command_argument(([{"uri": "u"}],)) == {"uri": "u"}
    assert command_argument(()) == {}
