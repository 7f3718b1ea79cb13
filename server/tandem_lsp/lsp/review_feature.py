"""Reviews as diagnostics and quick fixes; explain; debug with the reasoning model.

Listing code actions is cheap: it offers "Review", "Deep review", "Explain"
(selection, else the enclosing function, else the file; at a bare cursor only
as source actions, when the client asks for them) and "Debug with
reasoning model" for each diagnostic in the context (any server's), plus a
quick fix for each tandem finding that carries a replacement. The model work
runs only when the user picks an action: at codeAction/resolve (debug's edit
is the resolved action's edit), or, for clients without resolve support,
through the commands the actions then carry: `tandem.review` {uri, range?,
deep?}, `tandem.explain` {uri, range?}, `tandem.debug` {uri, errorText,
range?, apply?}. Editors may call the commands directly too. `tandem.debug`
answers with the proposed edit and changes nothing unless the caller passes
`apply: true` (after the user agreed): no edit without consent.

Findings are published as diagnostics with source "tandem". A finding is
dropped as soon as the text under it changes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.workspace import TextDocument

from tandem_lsp.languages import grammar_for, language_for_path
from tandem_lsp.lsp.convert import document_path
from tandem_lsp.lsp.progress import work_done
from tandem_lsp.lsp.server import TandemServer
from tandem_lsp.models.backend import ModelError
from tandem_lsp.tasks.chat import TaskCancelled
from tandem_lsp.tasks.code_ranges import LineRange, review_scope
from tandem_lsp.tasks.debug import DebugResult, debug
from tandem_lsp.tasks.source import SourceFile
from tandem_lsp.tasks.explain import explain
from tandem_lsp.tasks.findings import Finding
from tandem_lsp.tasks.review import review

log = logging.getLogger(__name__)

SOURCE = "tandem"
REVIEW_COMMAND = "tandem.review"
EXPLAIN_COMMAND = "tandem.explain"
DEBUG_COMMAND = "tandem.debug"
REVIEW_KIND = "refactor.tandem.review"
EXPLAIN_KIND = "refactor.tandem.explain"
# The same actions for the whole function or file, in the editor's source-action
# menu: offered at a bare cursor only when the client asks for source actions,
# so that no light bulb shows on every line.
SOURCE_REVIEW_KIND = "source.tandem.review"
SOURCE_EXPLAIN_KIND = "source.tandem.explain"
DEBUG_KIND = "quickfix.tandem.debug"
# Reasoning text kept on a diagnostic (the full text goes to the log).
MAX_REASONING_CHARS = 4000
# Progress reports at most this often while a model generates.
PROGRESS_INTERVAL_S = 0.5

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
T = TypeVar("T")
_CONVERTER = get_converter()


@dataclass
class StoredFinding:
    finding: Finding
    id: str
    # The reviewed text of the finding's lines: when it changes, the finding is stale.
    snapshot: list[str]
    reasoning: str = ""


@dataclass
class ReviewState:
    findings: dict[str, list[StoredFinding]] = field(default_factory=dict)
    # The review running per document; a new one cancels it.
    running: dict[str, tuple[asyncio.Task, threading.Event]] = field(default_factory=dict)


# -- ranges and diagnostics -------------------------------------------------------------


def _lines(document: TextDocument) -> list[str]:
    return [line.rstrip("\r\n") for line in document.lines]


def line_range(document: TextDocument, start: int, end: int) -> types.Range:
    """Whole lines start..end in client units."""
    lines = _lines(document)
    end = min(end, len(lines) - 1) if lines else 0
    width = document.position_codec.client_num_units(lines[end]) if lines else 0
    return types.Range(start=types.Position(line=start, character=0), end=types.Position(line=end, character=width))


def selection_lines(document: TextDocument, selection: types.Range | None) -> LineRange | None:
    """0-based lines a client range covers; an end at column 0 does not take that line."""
    if selection is None:
        return None
    start, end = selection.start.line, selection.end.line
    if end > start and selection.end.character == 0:
        end -= 1
    last = max(0, len(document.lines) - 1)
    return (max(0, min(start, last)), max(0, min(end, last)))


def to_diagnostic(document: TextDocument, stored: StoredFinding) -> types.Diagnostic:
    f = stored.finding
    data: dict[str, Any] = {"id": stored.id, "status": f.status, "replacement": f.replacement}
    if stored.reasoning:
        data["reasoning"] = stored.reasoning[:MAX_REASONING_CHARS]
    return types.Diagnostic(
        range=line_range(document, f.start_line, f.end_line),
        message=f.message,
        severity=_SEVERITY[f.severity],
        source=SOURCE,
        code="review",
        data=data,
    )


def publish(server: TandemServer, state: ReviewState, uri: str) -> None:
    document = server.open_document(uri)
    stored = state.findings.get(uri, [])
    diagnostics = [to_diagnostic(document, s) for s in stored] if document else []
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version if document else None)
    )


def text_edit_action(document: TextDocument, stored: StoredFinding) -> types.CodeAction:
    f = stored.finding
    edit = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=document.version),
        edits=[types.TextEdit(range=line_range(document, f.start_line, f.end_line), new_text=f.replacement or "")],
    )
    return types.CodeAction(
        title=f"tandem: fix - {f.message[:80]}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[to_diagnostic(document, stored)],
        edit=types.WorkspaceEdit(document_changes=[edit]),
        is_preferred=f.status in ("confirmed", "corrected", "likely"),
    )


def fix_edit(document: TextDocument, result: DebugResult) -> types.WorkspaceEdit | None:
    if result.fix is None:
        return None
    edit = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=document.version),
        edits=[types.TextEdit(range=line_range(document, result.fix.start_line, result.fix.end_line), new_text=result.fix.replacement)],
    )
    return types.WorkspaceEdit(document_changes=[edit])


# -- keeping findings fresh ---------------------------------------------------------------


def _shifted(stored: StoredFinding, lines: list[str], changes: list[tuple[int, int, int]]) -> StoredFinding | None:
    """The finding after edits (start line, end line, line delta each), or None when its text changed."""
    start, end = stored.finding.start_line, stored.finding.end_line
    candidates = [start]
    for change_start, change_end, delta in changes:
        if change_end < start:
            candidates = [c + delta for c in candidates]
        elif change_start <= end:
            # An edit touching the finding's lines: it survives only if its text is intact (e.g. a line added above).
            candidates = [c + d for c in candidates for d in (0, delta)]
    for new_start in dict.fromkeys(candidates):
        new_end = new_start + (end - start)
        if 0 <= new_start and new_end < len(lines) and lines[new_start : new_end + 1] == stored.snapshot:
            finding = stored.finding
            moved = Finding(new_start, new_end, finding.severity, finding.message, finding.replacement, finding.status)
            return StoredFinding(moved, stored.id, stored.snapshot, stored.reasoning)
    return None


def refresh(state: ReviewState, document: TextDocument, params: types.DidChangeTextDocumentParams) -> bool:
    """Move findings with the edits and drop the stale ones. True when anything changed."""
    stored = state.findings.get(document.uri)
    if not stored:
        return False
    changes = []
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            removed = change.range.end.line - change.range.start.line
            changes.append((change.range.start.line, change.range.end.line, change.text.count("\n") - removed))
        else:  # full text: only findings whose lines are untouched in place survive
            changes.append((0, 1 << 30, 0))
    lines = _lines(document)
    kept = [s for s in (_shifted(s, lines, changes) for s in stored) if s is not None]
    moved = [s.finding for s in kept] != [s.finding for s in stored]
    state.findings[document.uri] = kept
    return moved


# -- running tasks ----------------------------------------------------------------------------


async def run_task(
    server: TandemServer,
    title: str,
    make: Callable[[threading.Event, Callable[[str, int], None]], Awaitable[T]],
    cancel: threading.Event | None = None,
) -> T | None:
    """Run a model task with work-done progress; errors become messages, cancellation returns None."""
    cancel = cancel or threading.Event()
    loop = asyncio.get_running_loop()
    progress_tokens = server.work_done_progress.tokens
    before = set(progress_tokens)
    async with work_done(server, title, cancellable=True) as report:
        # The user's Cancel on the progress bar cancels the token's future (pygls); it stops the model.
        for token in set(progress_tokens) - before:
            progress_tokens[token].add_done_callback(lambda future: cancel.set() if future.cancelled() else None)
        last = [0.0]

        def progress(stage: str, pieces: int) -> None:  # on the model worker thread
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                loop.call_soon_threadsafe(report, f"{stage} ({pieces} tokens)", None)

        try:
            return await make(cancel, progress)
        except (TaskCancelled, asyncio.CancelledError):
            cancel.set()
            log.info("%s cancelled", title)
            if asyncio.current_task() and asyncio.current_task().cancelling():
                raise
            return None
        except ModelError as exc:
            server.show_error(str(exc))
            return None


def _argument(arguments: tuple[Any, ...]) -> dict:
    """Commands take one object; clients send it as the first argument (or the arguments list itself)."""
    if arguments and isinstance(arguments[0], dict):
        return arguments[0]
    if arguments and isinstance(arguments[0], list) and arguments[0] and isinstance(arguments[0][0], dict):
        return arguments[0][0]
    return {}


def _range_argument(value: Any) -> types.Range | None:
    try:
        return types.Range(
            start=types.Position(line=int(value["start"]["line"]), character=int(value["start"].get("character", 0))),
            end=types.Position(line=int(value["end"]["line"]), character=int(value["end"].get("character", 0))),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _language(document: TextDocument) -> str:
    return document.language_id or language_for_path(document.path)


def workspace_context(server: TandemServer, document: TextDocument, line: int) -> list[str]:
    """Definitions from the workspace index around a line (empty when no index)."""
    service = getattr(server, "index_service", None)
    index = getattr(service, "index", None)
    path = document_path(document)
    if index is None or not path:
        return []
    offset = sum(len(text) for text in document.lines[:line])
    try:
        snippets = index.retrieve(path, document.source, offset, budget_ms=200)
    except Exception:  # context is a bonus; never fail the debug request for it
        log.debug("context retrieval failed", exc_info=True)
        return []
    return [f"# {s.path}\n{s.text}" for s in snippets if s.kind == "definition"]


class ReviewFeature:
    def __init__(self, server: TandemServer) -> None:
        self.server = server
        self.state = ReviewState()

    # -- review --------------------------------------------------------------------------------

    async def review(self, uri: str, selection: types.Range | None, deep: bool) -> dict:
        document = self.server.open_document(uri)
        if document is None:
            return {"error": f"document not open: {uri}"}
        previous = self.state.running.pop(uri, None)
        if previous is not None:
            previous[1].set()
        version, text = document.version, document.source
        task_cancel = threading.Event()
        self.state.running[uri] = (asyncio.current_task(), task_cancel)

        async def job(cancel: threading.Event, progress: Callable[[str, int], None]):
            return await review(
                self.server.registry, text, document_path(document), _language(document),
                selection_lines(document, selection), deep, cancel, progress,
            )

        try:
            result = await run_task(self.server, "tandem: deep review" if deep else "tandem: review", job, task_cancel)
        finally:
            if self.state.running.get(uri, (None,))[0] is asyncio.current_task():
                self.state.running.pop(uri, None)
        if result is None:
            return {"cancelled": True}
        document = self.server.open_document(uri)
        if document is None or document.version != version:
            return {"stale": True, "findings": 0}  # the text moved on while the model worked
        lines = _lines(document)
        if result.reasoning:
            log.info("review reasoning for %s:\n%s", uri, result.reasoning)
        stored = [
            StoredFinding(f, uuid.uuid4().hex[:12], lines[f.start_line : f.end_line + 1], result.reasoning) for f in result.findings
        ]
        # Findings outside the reviewed lines stay; the reviewed lines get the new verdict.
        low, high = result.scope
        others = [s for s in self.state.findings.get(uri, []) if s.finding.end_line < low or s.finding.start_line > high]
        self.state.findings[uri] = others + stored
        publish(self.server, self.state, uri)
        if not result.readable:
            self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"tandem: {result.note}"))
        return {
            "findings": len(stored),
            "scope": {"start": low, "end": high},
            "verified": result.verified,
            "models": result.models,
            "note": result.note,
            "diagnostics": [_CONVERTER.unstructure(to_diagnostic(document, s)) for s in stored],
        }

    # -- explain -------------------------------------------------------------------------------

    async def explain(self, uri: str, selection: types.Range | None) -> dict:
        document = self.server.open_document(uri)
        if document is None:
            return {"error": f"document not open: {uri}"}
        text = document.source

        async def job(cancel: threading.Event, progress: Callable[[str, int], None]):
            return await explain(
                self.server.registry, text, document_path(document), _language(document),
                selection_lines(document, selection), cancel, progress,
            )

        result = await run_task(self.server, "tandem: explain", job)
        if result is None:
            return {"cancelled": True}
        self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=result.text))
        return {"text": result.text, "reasoning": result.reasoning, "model": result.model,
                "scope": {"start": result.scope[0], "end": result.scope[1]}}

    # -- debug ---------------------------------------------------------------------------------

    async def debug(self, uri: str, error_text: str, selection: types.Range | None) -> tuple[DebugResult | None, TextDocument | None]:
        document = self.server.open_document(uri)
        if document is None or not error_text.strip():
            return None, document
        lines = selection_lines(document, selection)
        context = workspace_context(self.server, document, lines[0] if lines else 0)
        text = document.source

        async def job(cancel: threading.Event, progress: Callable[[str, int], None]):
            source = SourceFile(text, document_path(document), _language(document))
            return await debug(self.server.registry, source, error_text, line_range=lines, cancel=cancel, context_snippets=context, progress=progress)

        result = await run_task(self.server, "tandem: debugging with the reasoning model", job)
        if result is not None and result.reasoning:
            log.info("debug reasoning for %s:\n%s", uri, result.reasoning)
        current = self.server.open_document(uri)
        if result is not None and (current is None or current.version != document.version):
            result.fix = None  # the text moved on: an edit against the old text would not apply
        return result, current

    def debug_answer(self, result: DebugResult | None, document: TextDocument | None) -> dict:
        if result is None or document is None:
            return {"explanation": "", "edit": None, "cancelled": result is None}
        edit = fix_edit(document, result)
        return {
            "explanation": result.explanation,
            "edit": _CONVERTER.unstructure(edit) if edit else None,
            "diff": result.diff(document.source, document.uri.rsplit("/", 1)[-1] or "file") if result.fix else "",
            "source": result.source,
            "why": result.why,
            "models": result.models,
            "reasoning": result.reasoning,
        }

    # -- code actions ----------------------------------------------------------------------------

    def actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        document = self.server.open_document(params.text_document.uri)
        if document is None:
            return []
        only = [str(getattr(k, "value", k)) for k in params.context.only or []]
        uri = document.uri

        def wanted(kind: str) -> bool:
            return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)

        out: list[types.CodeAction] = []
        lines = selection_lines(document, params.range)
        if wanted(types.CodeActionKind.QuickFix.value):
            for stored in self.state.findings.get(uri, []):
                f = stored.finding
                if f.replacement is not None and lines and f.start_line <= lines[1] and lines[0] <= f.end_line:
                    out.append(text_edit_action(document, stored))
        scope = review_scope(document.source, grammar_for(_language(document), document.path), lines, document.path)
        where = _describe_scope(lines, scope, len(document.lines))
        target = {"uri": uri, "range": _CONVERTER.unstructure(params.range)}
        # A selection or a diagnostic is something to act on; a bare cursor is not.
        in_context = params.range.start != params.range.end or bool(params.context.diagnostics)
        review_kind, explain_kind = (REVIEW_KIND, EXPLAIN_KIND) if in_context else (SOURCE_REVIEW_KIND, SOURCE_EXPLAIN_KIND)
        if in_context or only:
            if wanted(review_kind):
                for deep, label in ((False, "Review"), (True, "Deep review")):
                    out.append(self._lazy(f"tandem: {label} {where}", review_kind, REVIEW_COMMAND, {**target, "op": "review", "deep": deep}))
            if wanted(explain_kind):
                out.append(self._lazy(f"tandem: Explain {where}", explain_kind, EXPLAIN_COMMAND, {**target, "op": "explain"}))
        if wanted(DEBUG_KIND):
            for diagnostic in params.context.diagnostics:
                if diagnostic.source == SOURCE:
                    continue
                error = f"{diagnostic.source + ': ' if diagnostic.source else ''}{diagnostic.message}"
                data = {"uri": uri, "op": "debug", "errorText": error, "range": _CONVERTER.unstructure(diagnostic.range)}
                title = f"tandem: Debug with reasoning model - {diagnostic.message.splitlines()[0][:60]}"
                action = self._lazy(title, DEBUG_KIND, DEBUG_COMMAND, data)
                action.diagnostics = [diagnostic]
                out.append(action)
        return out

    def _lazy(self, title: str, kind: str, command: str, data: dict) -> types.CodeAction:
        """An action whose model work runs when picked: at resolve, or as a command for clients without resolve."""
        action = types.CodeAction(title=title, kind=kind, data=data)
        if not self._client_resolves():
            action.command = types.Command(title=title, command=command, arguments=[data])
        return action

    def _client_resolves(self) -> bool:
        text_document = self.server.client_capabilities.text_document
        code_action = text_document.code_action if text_document else None
        return bool(code_action and code_action.resolve_support is not None)

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        """Do the work of a picked action: review/explain report through diagnostics and messages, debug returns its edit."""
        data = action.data if isinstance(action.data, dict) else {}
        uri, selection, op = str(data.get("uri", "")), _range_argument(data.get("range")), data.get("op")
        if action.edit is not None:
            return action
        if op == "review":
            await self.review(uri, selection, bool(data.get("deep", False)))
        elif op == "explain":
            await self.explain(uri, selection)
        elif op == "debug":
            result, document = await self.debug(uri, str(data.get("errorText", "")), selection)
            if result is not None and document is not None:
                action.edit = fix_edit(document, result)
                self.server.window_show_message(
                    types.ShowMessageParams(type=types.MessageType.Info, message=f"tandem: {result.explanation}")
                )
        return action


def _describe_scope(lines: LineRange | None, scope: LineRange, line_count: int) -> str:
    if scope == (0, max(0, line_count - 1)):
        return "file"
    if lines is not None and lines[0] != lines[1]:
        return f"selection (lines {scope[0] + 1}-{scope[1] + 1})"
    return f"function (lines {scope[0] + 1}-{scope[1] + 1})"


def register(server: TandemServer) -> None:
    feature = ReviewFeature(server)
    server.review_feature = feature  # type: ignore[attr-defined]

    def document_event(event: str, document: TextDocument | None, params: Any) -> None:
        if event == "change" and document is not None and refresh(feature.state, document, params):
            publish(server, feature.state, document.uri)
        elif event == "close" and isinstance(params, types.DidCloseTextDocumentParams):
            uri = params.text_document.uri
            if feature.state.findings.pop(uri, None):
                server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    server.document_listeners.append(document_event)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, REVIEW_KIND, EXPLAIN_KIND, DEBUG_KIND], resolve_provider=True
        ),
    )
    def code_action(ls: TandemServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return feature.actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: TandemServer, action: types.CodeAction) -> types.CodeAction:
        return await feature.resolve(action)

    @server.command(REVIEW_COMMAND)
    async def review_command(ls: TandemServer, *arguments: Any) -> dict:
        arg = _argument(arguments)
        return await feature.review(str(arg.get("uri", "")), _range_argument(arg.get("range")), bool(arg.get("deep", False)))

    @server.command(EXPLAIN_COMMAND)
    async def explain_command(ls: TandemServer, *arguments: Any) -> dict:
        arg = _argument(arguments)
        return await feature.explain(str(arg.get("uri", "")), _range_argument(arg.get("range")))

    @server.command(DEBUG_COMMAND)
    async def debug_command(ls: TandemServer, *arguments: Any) -> dict:
        arg = _argument(arguments)
        result, document = await feature.debug(str(arg.get("uri", "")), str(arg.get("errorText", "")), _range_argument(arg.get("range")))
        answer = feature.debug_answer(result, document)
        # The editor shows the edit and asks; only an explicit `apply: true` writes it.
        if arg.get("apply") is True and answer.get("edit") and document is not None:
            await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=fix_edit(document, result), label="tandem: debug fix"))
        return answer
