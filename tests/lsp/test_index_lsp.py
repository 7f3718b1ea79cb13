"""The workspace index through the real server over stdio: progress, prompts, workspace/symbol."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from lsprotocol import types
from fakes import Reply, Script
from lsp_session import inline, lsp_session, open_document, scripted_session

GEOMETRY = '''def area_of_circle(radius: float) -> float:
    """Area of a circle."""
    return 3.14159 * radius * radius
'''
MAIN = "from geometry import area_of_circle\n\n\ndef report(r):\n    total = area_of_circle("


async def request(client, method: str, params) -> object:
    """A request, re-sent if its answer does not come.

    While llama-cpp-python loads a model it points fd 1 at /dev/null
    (suppress_stdout_stderr), so an answer written in that window is lost; the
    model preload at start-up overlaps these requests.
    """
    for _ in range(10):
        try:
            return await asyncio.wait_for(client.protocol.send_request_async(method, params), timeout=3)
        except asyncio.TimeoutError:
            continue
    pytest.fail(f"{method}: no answer")


async def indexed(client, expect_files: int, timeout: float = 30) -> dict:
    """Index stats once the build has seen `expect_files` files."""
    started = time.monotonic()
    while True:
        stats = await request(client, "tandem/indexStats", None)
        if stats is not None and stats.files >= expect_files:
            return stats
        if time.monotonic() - started > timeout:
            pytest.fail(f"index never reached {expect_files} files: {stats}")
        await asyncio.sleep(0.05)


async def symbols(client, query: str) -> list[types.WorkspaceSymbol]:
    result = await request(client, types.WORKSPACE_SYMBOL, types.WorkspaceSymbolParams(query=query))
    return list(result or [])


async def eventually_symbols(client, query: str, present: bool, timeout: float = 30) -> None:
    started = time.monotonic()
    while bool(await symbols(client, query)) != present:
        if time.monotonic() - started > timeout:
            pytest.fail(f"workspace/symbol {query!r} never became {'present' if present else 'absent'}")
        await asyncio.sleep(0.05)


async def watching(client, root: Path, timeout: float = 30) -> None:
    """Rewrite a probe file until the server's index reports it: the watcher is live, however loaded the machine."""
    probe = root / "watch_probe.py"
    started = time.monotonic()
    attempt = 0
    while not await symbols(client, "watch_probe"):
        if time.monotonic() - started > timeout:
            pytest.fail("the server's watcher never reported a change")
        attempt += 1
        probe.write_text(f"def watch_probe():\n    return {attempt}\n")
        await asyncio.sleep(0.05)
    probe.unlink()
    await eventually_symbols(client, "watch_probe", False)


def options(tmp_path: Path) -> dict:
    """Settings that keep the index's disk cache inside the test's folder."""
    return {"index": {"cacheDir": str(tmp_path.parent / f"{tmp_path.name}-cache"), "workspaceSymbols": True}}


def replace_text(client, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def make_workspace(root: Path) -> None:
    (root / "geometry.py").write_text(GEOMETRY)
    (root / "main.py").write_text(MAIN)
    (root / ".gitignore").write_text("generated/\n")
    (root / "generated").mkdir()
    (root / "generated" / "gen.py").write_text("def generated_helper(): pass\n")
    (root / "blob.py").write_bytes(b"def binary_helper(): pass\n\x00\x00\x00")
    (root / "loop").mkdir()
    os.symlink(root, root / "loop" / "back_to_root")


async def test_index_builds_with_progress_and_serves_workspace_symbols(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    async with lsp_session(options(tmp_path), root=tmp_path) as (client, _):
        stats = await indexed(client, 2)
        # .gitignored and binary files stay out; the symlink loop did not hang the build.
        assert stats.files == 2 and stats.filesByLanguage.python == 2 and stats.skipped == 1
        found = await symbols(client, "area_of")
        assert [s.name for s in found] == ["area_of_circle"]
        assert found[0].kind == types.SymbolKind.Function
        assert found[0].location.uri == (tmp_path / "geometry.py").as_uri()
        assert found[0].location.range.start.line == 0
        assert await symbols(client, "generated_helper") == [] and await symbols(client, "binary_helper") == []
        # Work-done progress: begin, some reports, end.
        reports = [r for token in client.progress_reports.values() for r in token if isinstance(r, types.WorkDoneProgressBegin)
                   and "indexing" in r.title]
        assert reports, client.progress_reports
        ends = [vals[-1] for vals in client.progress_reports.values() if vals and isinstance(vals[0], types.WorkDoneProgressBegin)
                and "indexing" in vals[0].title]
        assert ends and isinstance(ends[0], types.WorkDoneProgressEnd)


async def test_disk_changes_and_open_buffers_reach_the_index(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    async with lsp_session(options(tmp_path), root=tmp_path) as (client, _):
        await indexed(client, 2)
        await watching(client, tmp_path)  # the watcher starts after the build
        (tmp_path / "shapes.py").write_text("def square_area(side):\n    return side * side\n")
        await eventually_symbols(client, "square_area", True)
        (tmp_path / "shapes.py").unlink()
        await eventually_symbols(client, "square_area", False)
        # An open buffer's unsaved definitions are in the index.
        uri = open_document(client, tmp_path / "draft.py", "def drafted_function():\n    pass\n")
        await eventually_symbols(client, "drafted_function", True)
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        await eventually_symbols(client, "drafted_function", False)


async def test_completion_prompt_holds_the_callees_definition(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    # No completion cache or prefetch: every request builds a fresh prompt. A prefix-only
    # model (like the embedded SmolLM2) gets context as commented snippets.
    settings = options(tmp_path) | {"completion": {"cache": False, "prefetch": False}}
    model = Script(replies=[Reply(["radius"])], fim="none")
    async with scripted_session(tmp_path.parent / f"{tmp_path.name}-server", model, settings, root=tmp_path) as (client, _):
        await indexed(client, 2)
        uri = open_document(client, tmp_path / "main.py", MAIN)
        await inline(client, uri, 4, len("    total = area_of_circle("))
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert "def area_of_circle(radius: float) -> float:" in last.prompt
        assert "3.14159 * radius * radius" in last.prompt
        assert last.prompt.index("3.14159") < last.prompt.index("def report(r):")  # context comes before the file

        # The callee changes on disk: the next prompt has the new body, not the old one.
        await watching(client, tmp_path)
        changed = GEOMETRY.replace("3.14159 * radius * radius", "math.pi * radius ** 2")
        (tmp_path / "geometry.py").write_text(changed + "\n\ndef circumference(radius):\n    return 2 * math.pi * radius\n")
        await eventually_symbols(client, "circumference", True)  # the file was re-indexed
        replace_text(client, uri, 2, MAIN + "r")
        await inline(client, uri, 4, len("    total = area_of_circle(r"))
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert "math.pi * radius ** 2" in last.prompt and "3.14159" not in last.prompt

        # Deleted: its definition is no longer offered.
        (tmp_path / "geometry.py").unlink()
        await eventually_symbols(client, "area_of_circle", False)
        replace_text(client, uri, 3, MAIN + "ra")
        await inline(client, uri, 4, len("    total = area_of_circle(ra"))
        last = await client.protocol.send_request_async("tandem/lastPrompt", None)
        assert "def area_of_circle(radius" not in last.prompt
