"""Review, explain and debug over real LSP (stdio).

Two model set-ups: the real embedded SmolLM2 (whatever it says, diagnostics
must sit on existing lines), and a scripted OpenAI-compatible endpoint whose
answers are fixed, so the quick-fix and debug edits can be applied and
checked exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from review_samples import BUGGY, LINES
from lsprotocol import types
from fakes import Reply, Script
from lsp_session import lsp_session, open_document, scripted_session


# What the scripted model answers, by the kind of prompt.
REVIEW_ANSWER = {"findings": [{"line": 14, "end_line": 14, "severity": "error", "message": "Keeps the smallest item, not the largest",
                               "replacement": "        if item > best:"},
                              {"line": 300, "end_line": 301, "severity": "error", "message": "made-up lines", "replacement": "x = 1"}]}
# A debug answer as models write it: a sentence, then the corrected function in a block.
FIX_ANSWER = ("The loop starts at 1 and skips the first value.\n\n```python\ndef average(values):\n    total = 0\n"
              "    for i in range(len(values)):\n        total += values[i]\n    return total / len(values)\n```\n")


class _Scripted(BaseHTTPRequestHandler):
    # The prompts of every chat request, in order (all tests of this module share the endpoint).
    chats: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": "not found"})
            return
        prompt = body["messages"][-1]["content"]
        _Scripted.chats.append(prompt)
        if "fails with this error" in prompt:
            content = FIX_ANSWER
        elif "Explain" in prompt:
            content = "It averages the values."
        else:
            content = json.dumps(REVIEW_ANSWER)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [content[: len(content) // 2], content[len(content) // 2 :]]
        if "# SLOW" in prompt:  # a model that never finishes: only a cancel ends it
            pieces = itertools.repeat(" ")
        for piece in pieces:
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            try:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            except OSError:
                return  # the client hung up (cancelled)
            if "# SLOW" in prompt:
                time.sleep(0.05)
        done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture(scope="module")
def scripted_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: types.Position) -> int:
        return offsets[position.line] + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def code_actions(client, uri: str, line: int, diagnostics=None, end_line: int | None = None, only=None) -> list[types.CodeAction]:
    end = types.Position(line=end_line if end_line is not None else line, character=0)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=line, character=0), end=end),
            context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def run_command(client, command: types.Command, timeout: float = 120):
    return await asyncio.wait_for(
        client.workspace_execute_command_async(types.ExecuteCommandParams(command=command.command, arguments=command.arguments)),
        timeout,
    )


async def diagnostics_for(client, uri: str, timeout: float = 10) -> list[types.Diagnostic]:
    started = time.monotonic()
    while uri not in client.diagnostics:
        if time.monotonic() - started > timeout:
            pytest.fail("no diagnostics published")
        await asyncio.sleep(0.05)
    return client.diagnostics[uri]


def _by_title(actions, prefix: str) -> types.CodeAction:
    return next(a for a in actions if a.title.startswith(prefix))


async def test_review_action_gives_diagnostics_and_a_quick_fix_that_applies(tmp_path: Path, scripted_endpoint: str) -> None:
    async with lsp_session({"completionModel": {"endpoint": scripted_endpoint}}) as (client, _):
        uri = open_document(client, tmp_path / "stats.py", BUGGY)
        chats = len(_Scripted.chats)
        # A bare cursor lights no bulb: review and explain wait in the source-action menu.
        assert await code_actions(client, uri, 13) == []
        actions = await code_actions(client, uri, 13, only=[types.CodeActionKind.Source])
        assert len(_Scripted.chats) == chats  # listing does no model work
        titles = [a.title for a in actions]
        assert "tandem: Review function (lines 11-16)" in titles and "tandem: Deep review function (lines 11-16)" in titles
        assert "tandem: Explain function (lines 11-16)" in titles
        assert uri not in client.diagnostics

        review = _by_title(actions, "tandem: Review")
        assert review.command is None and review.data  # the work waits for resolve
        await asyncio.wait_for(client.code_action_resolve_async(review), 120)
        (diagnostic,) = await diagnostics_for(client, uri)  # the made-up range was dropped, never sent
        assert diagnostic.source == "tandem" and diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.range.start == types.Position(line=13, character=0)
        assert diagnostic.range.end == types.Position(line=13, character=len(LINES[13]))

        fixes = [a for a in await code_actions(client, uri, 13) if a.kind == types.CodeActionKind.QuickFix]
        assert len(fixes) == 1
        (change,) = fixes[0].edit.document_changes
        assert change.text_document.version == 1
        fixed = apply_text_edits(BUGGY, change.edits)
        assert fixed == BUGGY.replace("if item < best:", "if item > best:")
        compile(fixed, "stats.py", "exec")


async def test_findings_move_with_edits_above_and_vanish_when_their_text_changes(tmp_path: Path, scripted_endpoint: str) -> None:
    async with lsp_session({"completionModel": {"endpoint": scripted_endpoint}}) as (client, _):
        uri = open_document(client, tmp_path / "stats.py", BUGGY)
        result = await run_command(client, types.Command(title="review", command="tandem.review", arguments=[{"uri": uri}]))
        assert result["findings"] == 1 and result["diagnostics"][0]["range"]["start"]["line"] == 13
        assert len(await diagnostics_for(client, uri)) == 1
        client.diagnostics.pop(uri)

        def change(version: int, line: int, end_line: int, text: str) -> None:
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=line, character=0), end=types.Position(line=end_line, character=0)),
                    text=text)]))

        change(2, 0, 0, "# a new first line\n")  # above the finding: it moves down one line
        (moved,) = await diagnostics_for(client, uri)
        assert moved.range.start.line == 14
        client.diagnostics.pop(uri)
        change(3, 14, 15, "        if item <= best:\n")  # the finding's own line: it is stale
        assert list(await diagnostics_for(client, uri)) == []


async def test_debug_action_on_another_servers_diagnostic_returns_an_edit(tmp_path: Path, scripted_endpoint: str) -> None:
    async with lsp_session({"completionModel": {"endpoint": scripted_endpoint}}) as (client, _):
        uri = open_document(client, tmp_path / "stats.py", BUGGY)
        foreign = types.Diagnostic(
            range=types.Range(start=types.Position(line=7, character=4), end=types.Position(line=7, character=30)),
            message="AssertionError: average([2, 4]) returned 2.0, expected 3.0",
            source="pytest",
        )
        actions = await code_actions(client, uri, 7, diagnostics=[foreign])
        action = _by_title(actions, "tandem: Debug with reasoning model")
        assert action.edit is None  # nothing computed while listing
        resolved = await asyncio.wait_for(client.code_action_resolve_async(action), 120)
        (change,) = resolved.edit.document_changes
        fixed = apply_text_edits(BUGGY, change.edits)
        assert fixed == BUGGY.replace("range(1, len(values))", "range(len(values))")

        # The command form (for clients without resolve) returns the explanation and a diff as well.
        answer = await run_command(client, types.Command(title="debug", command="tandem.debug", arguments=[
            {"uri": uri, "errorText": foreign.message, "apply": False}]))
        assert answer["explanation"].startswith("The loop starts at 1")
        assert "-    for i in range(1, len(values)):\n+    for i in range(len(values)):" in answer["diff"]


async def test_debug_command_changes_nothing_until_the_user_agrees(tmp_path: Path, scripted_endpoint: str) -> None:
    async with lsp_session({"completionModel": {"endpoint": scripted_endpoint}}) as (client, _):
        edits_sent: list[types.ApplyWorkspaceEditParams] = []

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def record_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            edits_sent.append(params)
            return types.ApplyWorkspaceEditResult(applied=True)

        uri = open_document(client, tmp_path / "stats.py", BUGGY)
        error = "AssertionError: average([2, 4]) returned 2.0, expected 3.0"
        answer = await run_command(client, types.Command(title="debug", command="tandem.debug", arguments=[{"uri": uri, "errorText": error}]))
        assert answer["edit"], "the proposed fix comes back to the editor"
        assert edits_sent == [], "nothing is written before the user accepts"

        await run_command(client, types.Command(title="debug", command="tandem.debug", arguments=[{"uri": uri, "errorText": error, "apply": True}]))
        assert len(edits_sent) == 1


@pytest.mark.model
async def test_review_with_the_embedded_model_only_marks_existing_lines(tmp_path: Path, small_model: Path) -> None:
    options = {"completionModel": {"threads": 1}, "review": {"maxTokens": 160}}
    async with lsp_session(options) as (client, _):
        uri = open_document(client, tmp_path / "stats.py", BUGGY)
        actions = await code_actions(client, uri, 0, end_line=len(LINES))
        result = await run_command(client, types.Command(title="review", command="tandem.review", arguments=[{"uri": uri}]), timeout=180)
        assert result["findings"] == len(result["diagnostics"])
        diagnostics = await diagnostics_for(client, uri)
        assert len(diagnostics) == result["findings"]
        for diagnostic in diagnostics:
            assert diagnostic.source == "tandem"
            assert 0 <= diagnostic.range.start.line <= diagnostic.range.end.line < len(LINES)
        explain = _by_title(actions, "tandem: Explain file")
        await asyncio.wait_for(client.code_action_resolve_async(explain), 180)
        shown = [m.message for m in client.messages if m.type == types.MessageType.Info]
        assert shown and shown[-1].strip()


async def _progress_begun(client, title: str) -> str:
    """Wait (at most a minute) for a work-done progress with this title to begin; its token."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for token, reports in client.progress_reports.items():
            if any(isinstance(r, types.WorkDoneProgressBegin) and r.title == title for r in reports):
                return token
        await asyncio.sleep(0.05)
    pytest.fail(f"no {title!r} progress began")


async def _fast_review_still_works(client, uri: str) -> None:
    # The slow review never ends by itself: this one is answered only if the cancel stopped it.
    result = await run_command(client, types.Command(title="review", command="tandem.review", arguments=[{"uri": uri}]), timeout=60)
    assert result["findings"] == 1


async def test_cancelling_a_review_frees_the_model_at_once(tmp_path: Path, scripted_endpoint: str) -> None:
    async with lsp_session({"completionModel": {"endpoint": scripted_endpoint}}) as (client, _):
        slow = open_document(client, tmp_path / "slow.py", BUGGY + "# SLOW\n")
        fast = open_document(client, tmp_path / "fast.py", BUGGY)

        # 1. The client cancels the codeAction/resolve request that runs the review.
        action = _by_title(await code_actions(client, slow, 0, only=[types.CodeActionKind.Source]), "tandem: Review")
        pending = asyncio.ensure_future(client.protocol.send_request_async(types.CODE_ACTION_RESOLVE, action, msg_id="slow-1"))
        await _progress_begun(client, "tandem: review")
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="slow-1"))
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(pending, 5)
        await _fast_review_still_works(client, fast)
        assert slow not in client.diagnostics

        # 2. The user presses Cancel on the progress of a review started as a command.
        client.progress_reports.clear()
        params = types.ExecuteCommandParams(command="tandem.review", arguments=[{"uri": slow, "deep": True}])
        pending = asyncio.ensure_future(client.workspace_execute_command_async(params))
        token = await _progress_begun(client, "tandem: deep review")
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        assert (await asyncio.wait_for(pending, 10)) == {"cancelled": True}
        await _fast_review_still_works(client, fast)
        assert slow not in client.diagnostics


TYPO = """def total_price(items):
    total = 0
    for item in items:
        total += item.price * item.qty
    return totl
"""


async def test_the_likelihood_pass_flags_a_slip_with_a_quick_fix(tmp_path: Path) -> None:
    # The chat part of this review finds nothing; the likelihood pass alone must find
    # `totl` and propose `total`, as a quick fix that applies.
    model = Script(
        fim="none",
        replies=[Reply(["\n"], when="return total")],  # the model's own version of the line it doubts
        chat=[Reply(['{"findings": []}'])],
        unlikely=[[" totl", " total"]],
    )
    async with scripted_session(tmp_path / "server", model, {"review": {"maxTokens": 64}}) as (client, _):
        uri = open_document(client, tmp_path / "cart.py", TYPO)
        await run_command(client, types.Command(title="review", command="tandem.review", arguments=[{"uri": uri}]), timeout=60)
        flagged = [d for d in await diagnostics_for(client, uri) if d.range.start.line == 4]
        assert flagged and flagged[0].message == "`totl` looks wrong here; the model expects `total`."
        fixes = [a for a in await code_actions(client, uri, 4, diagnostics=flagged) if a.kind == types.CodeActionKind.QuickFix]
        (change,) = next(a for a in fixes if a.edit).edit.document_changes
        assert apply_text_edits(TYPO, change.edits) == TYPO.replace("return totl", "return total")
