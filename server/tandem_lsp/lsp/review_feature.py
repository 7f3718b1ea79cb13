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

Findings are published as diagnostics with source "tandem" and follow the
edits after the review (lsp/finding_store.py): a finding is dropped as soon as
the text under it changes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Any, Awaitable, Callable, TypeVar

from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.workspace import TextDocument

from tandem_lsp.languages import grammar_for, language_for_path
from tandem_lsp.lsp.action_requests import (
    ActionRequest,
    DebugRequest,
    ExplainRequest,
    ReviewRequest,
    action_request,
    command_argument,
)
from tandem_lsp.lsp.convert import document_lines, document_path, line_range
from tandem_lsp.lsp.finding_store import SOURCE, FindingStore, StoredFinding, line_edits, to_diagnostic
from tandem_lsp.lsp.progress import ThrottledProgress, work_done
from tandem_lsp.lsp.server import TandemServer
from tandem_lsp.models.backend import ModelError
from tandem_lsp.tasks.chat import TaskCancelled
from tandem_lsp.code_checks import LineRange, review_scope
from tandem_lsp.tasks.debug import DebugResult, debug, workspace_definitions
from tandem_lsp.tasks.source import SourceFile
from tandem_lsp.tasks.explain import explain
from tandem_lsp.tasks.review import review

log = logging.getLogger(__name__)

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
# Progress reports at most this often while a model generates.
PROGRESS_INTERVAL_S = 0.5

T = TypeVar("T")
_CONVERTER = get_converter()


# -- ranges and edits -------------------------------------------------------------------


def selection_lines(document: TextDocument, selection: types.Range | None) -> LineRange | None:
    """0-based lines a client range covers; an end at column 0 does not take that line."""
    if selection is None:
        return None
    start, end = selection.start.line, selection.end.line
    if end > start and selection.end.character == 0:
        end -= 1
    last = max(0, len(document.lines) - 1)
    return (max(0, min(start, last)), max(0, min(end, last)))


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
        throttled = ThrottledProgress(report, PROGRESS_INTERVAL_S, loop)

        def progress(stage: str, pieces: int) -> None:  # on the model worker thread
            throttled(f"{stage} ({pieces} tokens)")

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


def _language(document: TextDocument) -> str:
    return document.language_id or language_for_path(document.path)


class ReviewFeature:
    def __init__(self, server: TandemServer) -> None:
        self.server = server
        self.findings = FindingStore()
        # The review running per document; a new one cancels it.
        self.running: dict[str, tuple[asyncio.Task, threading.Event]] = {}

    def publish(self, uri: str) -> None:
        self.server.text_document_publish_diagnostics(self.findings.publication(uri, self.server.open_document(uri)))

    def document_event(self, event: str, document: TextDocument | None, params: Any) -> None:
        if event == "change" and document is not None and self.findings.findings(document.uri):
            # Checked first: most keystrokes land in documents without findings, and splitting lines costs.
            if self.findings.follow_edits(document.uri, document_lines(document), line_edits(params.content_changes)):
                self.publish(document.uri)
        elif event == "close" and isinstance(params, types.DidCloseTextDocumentParams):
            uri = params.text_document.uri
            if self.findings.forget(uri):
                self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- review --------------------------------------------------------------------------------

    async def review(self, request: ReviewRequest) -> dict:
        uri = request.uri
        document = self.server.open_document(uri)
        if document is None:
            return {"error": f"document not open: {uri}"}
        previous = self.running.pop(uri, None)
        if previous is not None:
            previous[1].set()
        version, text = document.version, document.source
        task_cancel = threading.Event()
        self.running[uri] = (asyncio.current_task(), task_cancel)

        async def job(cancel: threading.Event, progress: Callable[[str, int], None]):
            return await review(
                self.server.registry, text, document_path(document), _language(document),
                selection_lines(document, request.selection), request.deep, cancel, progress,
            )

        try:
            result = await run_task(self.server, "tandem: deep review" if request.deep else "tandem: review", job, task_cancel)
        finally:
            if self.running.get(uri, (None,))[0] is asyncio.current_task():
                self.running.pop(uri, None)
        if result is None:
            return {"cancelled": True}
        document = self.server.open_document(uri)
        if document is None or document.version != version:
            return {"stale": True, "findings": 0}  # the text moved on while the model worked
        lines = document_lines(document)
        if result.reasoning:
            log.info("review reasoning for %s:\n%s", uri, result.reasoning)
        stored = [
            StoredFinding(f, uuid.uuid4().hex[:12], lines[f.start_line : f.end_line + 1], result.reasoning) for f in result.findings
        ]
        self.findings.replace_scope(uri, result.scope, stored)
        self.publish(uri)
        if not result.readable:
            self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"tandem: {result.note}"))
        low, high = result.scope
        return {
            "findings": len(stored),
            "scope": {"start": low, "end": high},
            "verified": result.verified,
            "models": result.models,
            "note": result.note,
            "diagnostics": [_CONVERTER.unstructure(to_diagnostic(document, s)) for s in stored],
        }

    # -- explain -------------------------------------------------------------------------------

    async def explain(self, request: ExplainRequest) -> dict:
        document = self.server.open_document(request.uri)
        if document is None:
            return {"error": f"document not open: {request.uri}"}
        text = document.source

        async def job(cancel: threading.Event, progress: Callable[[str, int], None]):
            return await explain(
                self.server.registry, text, document_path(document), _language(document),
                selection_lines(document, request.selection), cancel, progress,
            )

        result = await run_task(self.server, "tandem: explain", job)
        if result is None:
            return {"cancelled": True}
        self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=result.text))
        return {"text": result.text, "reasoning": result.reasoning, "model": result.model,
                "scope": {"start": result.scope[0], "end": result.scope[1]}}

    # -- debug ---------------------------------------------------------------------------------

    async def debug(self, request: DebugRequest) -> tuple[DebugResult | None, TextDocument | None]:
        document = self.server.open_document(request.uri)
        if document is None or not request.error_text.strip():
            return None, document
        lines = selection_lines(document, request.selection)
        source = SourceFile(document.source, document_path(document), _language(document))
        offset = sum(len(text) for text in document.lines[: lines[0] if lines else 0])
        index = self.server.index.workspace_index if self.server.index is not None else None
        context = workspace_definitions(index, source, offset)

        async def job(cancel: threading.Event, progress: Callable[[str, int], None]):
            return await debug(
                self.server.registry, source, request.error_text, line_range=lines, cancel=cancel, context_snippets=context, progress=progress
            )

        result = await run_task(self.server, "tandem: debugging with the reasoning model", job)
        if result is not None and result.reasoning:
            log.info("debug reasoning for %s:\n%s", request.uri, result.reasoning)
        current = self.server.open_document(request.uri)
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
            for stored in self.findings.findings(uri):
                f = stored.finding
                if f.replacement is not None and lines and f.start_line <= lines[1] and lines[0] <= f.end_line:
                    out.append(text_edit_action(document, stored))
        scope = review_scope(document.source, grammar_for(_language(document), document.path), lines, document.path)
        where = _describe_scope(lines, scope, len(document.lines))
        # A selection or a diagnostic is something to act on; a bare cursor is not.
        in_context = params.range.start != params.range.end or bool(params.context.diagnostics)
        review_kind, explain_kind = (REVIEW_KIND, EXPLAIN_KIND) if in_context else (SOURCE_REVIEW_KIND, SOURCE_EXPLAIN_KIND)
        if in_context or only:
            if wanted(review_kind):
                for deep, label in ((False, "Review"), (True, "Deep review")):
                    out.append(self._lazy(f"tandem: {label} {where}", review_kind, REVIEW_COMMAND, ReviewRequest(uri, params.range, deep)))
            if wanted(explain_kind):
                out.append(self._lazy(f"tandem: Explain {where}", explain_kind, EXPLAIN_COMMAND, ExplainRequest(uri, params.range)))
        if wanted(DEBUG_KIND):
            for diagnostic in params.context.diagnostics:
                if diagnostic.source == SOURCE:
                    continue
                error = f"{diagnostic.source + ': ' if diagnostic.source else ''}{diagnostic.message}"
                title = f"tandem: Debug with reasoning model - {diagnostic.message.splitlines()[0][:60]}"
                action = self._lazy(title, DEBUG_KIND, DEBUG_COMMAND, DebugRequest(uri, error, diagnostic.range))
                action.diagnostics = [diagnostic]
                out.append(action)
        return out

    def _lazy(self, title: str, kind: str, command: str, request: ActionRequest) -> types.CodeAction:
        """An action whose model work runs when picked: at resolve, or as a command for clients without resolve."""
        data = request.to_json()
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
        if action.edit is not None:
            return action
        match action_request(action.data):
            case ReviewRequest() as request:
                await self.review(request)
            case ExplainRequest() as request:
                await self.explain(request)
            case DebugRequest() as request:
                result, document = await self.debug(request)
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
    server.document_listeners.append(feature.document_event)

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
        return await feature.review(ReviewRequest.from_json(command_argument(arguments)))

    @server.command(EXPLAIN_COMMAND)
    async def explain_command(ls: TandemServer, *arguments: Any) -> dict:
        return await feature.explain(ExplainRequest.from_json(command_argument(arguments)))

    @server.command(DEBUG_COMMAND)
    async def debug_command(ls: TandemServer, *arguments: Any) -> dict:
        request = DebugRequest.from_json(command_argument(arguments))
        result, document = await feature.debug(request)
        answer = feature.debug_answer(result, document)
        # The editor shows the edit and asks; only an explicit `apply: true` writes it.
        if request.apply and answer.get("edit") and document is not None:
            await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=fix_edit(document, result), label="tandem: debug fix"))
        return answer
