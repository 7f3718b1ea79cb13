"""Config files over real LSP: a project `.tandem.toml` under the workspace root, read at initialize,
under the client's settings; a broken one is reported once and the server goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fakes import Reply, Script
from lsprotocol import types

from lsp_session import inline, open_document, scripted_session

SOURCE = "def add(a, b):\n    return "
SCRIPT = Script(replies=[Reply(["a", " +", " b"])], fim="none")


async def test_a_project_file_turns_completion_off_and_workspace_symbols_on(tmp_path: Path) -> None:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / ".tandem.toml").write_text("[completion]\nenabled = false\n\n[index]\nworkspace_symbols = true\n", encoding="utf-8")
    async with scripted_session(tmp_path / "server", SCRIPT, root=root) as (client, server):
        assert server.capabilities.workspace_symbol_provider  # read before capabilities were computed
        uri = open_document(client, root / "calc.py", SOURCE)
        assert await inline(client, uri, 1, len("    return ")) == []
        # tandem.toggle with no argument flips what is in force: the file's "off".
        toggled = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(command="tandem.toggle")), 30)
        assert toggled == {"enabled": True}


async def test_client_settings_beat_the_project_file(tmp_path: Path) -> None:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / ".tandem.toml").write_text("[completion]\nenabled = false\n\n[index]\nworkspaceSymbols = true\n", encoding="utf-8")
    init = {"completion": {"enabled": True}, "index": {"workspaceSymbols": False}}
    async with scripted_session(tmp_path / "server", SCRIPT, init, root=root) as (client, server):
        assert not server.capabilities.workspace_symbol_provider
        uri = open_document(client, root / "calc.py", SOURCE)
        assert [i.insert_text for i in await inline(client, uri, 1, len("    return "))] == ["a + b"]


async def test_an_invalid_project_file_is_shown_once_and_ignored(tmp_path: Path) -> None:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / ".tandem.toml").write_text("[completion\nenabled = false\n", encoding="utf-8")
    async with scripted_session(tmp_path / "server", SCRIPT, root=root) as (client, _):
        uri = open_document(client, root / "calc.py", SOURCE)
        assert [i.insert_text for i in await inline(client, uri, 1, len("    return "))] == ["a + b"]
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert len([m for m in errors if ".tandem.toml" in m]) == 1, errors
        assert "invalid TOML" in errors[0]
