"""Explain an error and propose a fix: the reasoning model answers twice and weighs its answers.

Policy (measured by benchmarks/debug_bench.py against each model alone):
- The reasoning model is asked twice: the product's request (the code, the
  error, the line the traceback names; say what was wrong, then the code) and
  the plainest one (the code and the error; the corrected code). Each answer
  is the corrected code in a block, the form small code models fix code best
  in, placed in the file by what it defines (tasks/code_answer.py), never by
  line numbers it guessed.
- Every answer is checked mechanically: it must place, parse no worse than
  the file did, keep every definition, and change code. Changes to tests,
  assertions and example calls are undone (tasks/protected_lines.py): a fix
  repairs the code under test, not the check that caught it.
- When both answers pass and differ, the reasoning model weighs them: the fix
  with which it finds the whole file more likely (sum of token
  log-probabilities, likelihood/surprise.likelihood_gains) is used. Measured
  on 96 bugs with Qwen2.5-Coder-1.5B: where the two framings disagreed and
  both placed a fix, this picked the one that passed the hidden tests 14
  times in 16; through the server the policy then fixed 48 of those 96 bugs
  against 39 for the 1.5B asked plainly (and never one that the plain request
  fixed and it did not). Without likelihoods (an HTTP model) the first answer
  is used.
- When fewer than two answers are usable (most often the model rewrote the
  code unchanged: it found it fine), the likelihood pass still knows where the
  code surprises the models: the general model proposes its own version of
  each surprising line, the reasoning model adds its own and weighs every
  one-line fix, and the lone answer's rewrite, by the whole file
  (likelihood/line_fixes.py); the likeliest wins, a one-line fix only with a
  clear gain. Tests and examples are never proposed for change. Measured on
  the same 96 bugs: a one-line fix was chosen for 30 and passed in 20; the
  pair then fixed 64 against 48 without this step (one lost: a lone rewrite
  that passed, outweighed by a one-line fix that did not).
- The general model drafts a chat fix only when nothing above is usable; when
  that fails too, the reasoning model gets one more try, asked for the code
  alone (asked the same way again, greedy decoding repeats its answer word for
  word).
The result says which answer was used and why. The user's program is never run.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from tandem_lsp.models.backend import ChatMessage
from tandem_lsp.models.registry import ModelRegistry, Role
from tandem_lsp.tasks.chat import Progress, chat
from tandem_lsp.tasks.code_answer import code_block, merge_answer, prose
from tandem_lsp.tasks.likelihood.line_fixes import weighed_line_fixes
from tandem_lsp.tasks.likelihood.surprise import likelihood_gains
from tandem_lsp.code_checks import LineRange, changes_code, enclosing_scope, keeps_definitions, parses_no_worse
from tandem_lsp.tasks.prompts import FaultView, FixProposal, fix_messages, plain_fix_messages
from tandem_lsp.tasks.protected_lines import error_is_in, protected_lines, without_protected_changes
from tandem_lsp.tasks.router import model_kind, role_for, same_model
from tandem_lsp.tasks.source import SourceFile

if TYPE_CHECKING:
    from tandem_lsp.context.index import WorkspaceIndex

log = logging.getLogger(__name__)

# Files up to this many lines are shown whole; longer ones as the function around the fault, else a window.
WHOLE_FILE_LINES = 200
WINDOW_LINES = 60
MAX_ERROR_CHARS = 3000
MAX_CONTEXT_CHARS = 4000
# Room for the answer: the code shown, rewritten, plus a few sentences.
ANSWER_TOKENS_OVER_CODE = 256
CHARS_PER_TOKEN = 3
# Looking up workspace definitions for the prompt may hold up a debug request this long.
CONTEXT_BUDGET_MS = 200


@dataclass
class DebugResult:
    explanation: str
    fix: FixProposal | None = None
    # The whole document with the fix applied (None when no usable fix).
    new_text: str | None = None
    reasoning: str = ""
    models: dict[str, str] = field(default_factory=dict)
    # Which answer was used: "agreed", "most likely", "reasoning fix", "likely line", "draft", "second try" or "none".
    source: str = "none"
    # Why that answer (and not the other) was used, in a sentence.
    why: str = ""

    def diff(self, old_text: str, path: str = "file") -> str:
        if self.new_text is None:
            return ""
        return unified_diff(old_text, self.new_text, path)


def unified_diff(old_text: str, new_text: str, path: str = "file") -> str:
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True), new_text.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )


def error_lines(error_text: str, path: str, line_count: int) -> LineRange | None:
    """Lines of this file that a traceback or compiler message points at (0-based)."""
    name = re.escape(path.rsplit("/", 1)[-1]) if path else None
    numbers: list[int] = []
    if name:
        # The name must start where a path component does: `test_rpn_eval.py:15` is not a line of `rpn_eval.py`.
        patterns = (rf'(?<![\w.-]){name}", line (\d+)', rf"(?<![\w.-]){name}:(\d+)")
        for pattern in patterns:
            numbers += [int(n) for n in re.findall(pattern, error_text)]
    numbers = [n - 1 for n in numbers if 1 <= n <= line_count]
    if not numbers:
        return None
    # The innermost frame of a Python traceback is the last one listed.
    return (numbers[-1], numbers[-1])


def fault_view(source: SourceFile, focus: LineRange | None) -> FaultView:
    """The code the prompt shows: the whole file when short, else the function around the fault (or a window)."""
    lines = source.lines
    raised_at = f"line {focus[0] + 1}: `{lines[focus[0]].strip()}`" if focus and lines[focus[0]].strip() else ""
    if len(lines) <= WHOLE_FILE_LINES:
        return FaultView(source.language, source.text, raised_at)
    shown = enclosing_scope(source.text, source.grammar, focus[0], source.path) if focus else None
    if shown is None or shown[1] - shown[0] > WHOLE_FILE_LINES:
        middle = focus[0] if focus else 0
        shown = (max(0, middle - WINDOW_LINES), min(len(lines) - 1, middle + WINDOW_LINES))
    code = "\n".join(lines[shown[0] : shown[1] + 1])
    return FaultView(source.language, code, raised_at, f"{source.name}, lines {shown[0] + 1}-{shown[1] + 1}")


def fix_from_texts(old_text: str, new_text: str, explanation: str) -> FixProposal | None:
    """The changed lines of `old_text` (one span, first change to last) and their new text.

    The span always keeps at least one line on both sides, so that an
    insertion or a deletion is still a replacement of whole lines.
    """
    old, new = old_text.splitlines(), new_text.splitlines()
    changes = [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not changes:
        return None
    i1, j1 = changes[0][1], changes[0][3]
    i2, j2 = changes[-1][2], changes[-1][4]
    if i1 == i2 or j1 == j2:  # a pure insertion or deletion: take the line before it (or after, at the top)
        if i1 > 0:
            i1, j1 = i1 - 1, j1 - 1
        else:
            i2, j2 = i2 + 1, j2 + 1
    return FixProposal(i1, i2 - 1, "\n".join(new[j1:j2]), explanation)


@dataclass
class _Answer:
    """One model's answer, checked: `new_text` is set when it is a usable fix, else `problem` says why not."""

    model: str
    content: str
    reasoning: str
    new_text: str | None = None
    problem: str = ""

    @property
    def explanation(self) -> str:
        return _first_sentences(prose(self.content))


def check_answer(source: SourceFile, content: str, protected: set[int]) -> tuple[str | None, str]:
    """The file with the answer's fix in place, or None and the reason it cannot be used."""
    block = code_block(content)
    if block is None:
        return None, "The answer holds no code block."
    merged = merge_answer(source.text, block, source.grammar)
    if merged is None:
        return None, "That code could not be matched to the file: keep the functions' names."
    merged = without_protected_changes(source.text, merged, protected)
    problem = fix_problem(source, merged)
    return (None, problem) if problem else (merged, "")


def fix_problem(source: SourceFile, fixed: str) -> str:
    """Why the file as `fixed` is no usable fix ("" when it is one)."""
    grammar = source.grammar
    if not changes_code(source.text, fixed, grammar):
        return "That code is the same as the original (tests and examples must stay as they are): it cannot fix the error."
    if not parses_no_worse(source.text, fixed, grammar):
        return "That code does not parse."
    if not keeps_definitions(source.text, grammar, 0, len(source.lines) - 1, fixed):
        return "That code drops a definition or a variable the rest of the file needs."
    return ""


def _first_sentences(text: str, limit: int = 3) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(sentences[:limit])


async def debug(
    registry: ModelRegistry,
    source: SourceFile,
    error_text: str,
    *,
    line_range: LineRange | None = None,
    cancel: threading.Event | None = None,
    context_snippets: Sequence[str] = (),
    progress: Progress | None = None,
) -> DebugResult:
    """Explain `error_text` and propose a fix for `source` (the policy above)."""
    cancel = cancel or threading.Event()
    settings = registry.settings
    error = error_text.strip()[-MAX_ERROR_CHARS:]
    focus = line_range or error_lines(error, source.path, len(source.lines))
    view = fault_view(source, focus)
    snippets = _trim_snippets(context_snippets)
    messages = fix_messages(view, error, snippets)
    protected = protected_lines(source.text, source.grammar)
    if focus and error_is_in(protected, focus[0], error):
        protected = set()  # the error is in a test itself: the test may change
    max_tokens = max(settings.review.max_tokens, len(view.code) // CHARS_PER_TOKEN + ANSWER_TOKENS_OVER_CODE)

    async def ask(role: Role, prompt: list[ChatMessage], stage: str) -> _Answer:
        outcome = await chat(registry, role, model_kind(settings, role), prompt, None, max_tokens, cancel, progress=progress, stage=stage)
        answer = _Answer(outcome.model, outcome.content, outcome.reasoning)
        answer.new_text, answer.problem = check_answer(source, outcome.content, protected)
        return answer

    general, reasoner = role_for("review"), role_for("debug")
    pair = not same_model(settings, general, reasoner)
    result = DebugResult(explanation="")
    own = await ask(reasoner, messages, "finding a fix")
    plain = await ask(reasoner, plain_fix_messages(view, error), "writing a second fix")
    if own.new_text is not None and plain.new_text is not None:
        chosen, result.source, result.why = await _weighed(registry, reasoner, source.text, own, plain, cancel)
    else:
        if progress is not None:
            progress("weighing one-line fixes", 0)
        lone = own if own.new_text is not None else plain if plain.new_text is not None else None
        unusable = plain if lone is own else own
        chosen, result.source, result.why = await _with_line_fixes(registry, source, lone, unusable.problem, protected, cancel)
        if result.source == "likely line":
            result.models["likelihood"] = chosen.model
    draft: _Answer | None = None
    if chosen is None and pair:
        draft = await ask(general, messages, "drafting a fix")
        if draft.new_text is not None:
            chosen = draft
            result.source, result.why = "draft", f"The reasoning model's answers were unusable ({own.problem}); the draft passed the checks."
    if chosen is None:
        # Asked again in the same words, greedy decoding writes the same answer (even told what was wrong):
        # the second request asks for the code alone.
        again = await ask(reasoner, fix_messages(view, error, snippets, explain_first=False), "trying again")
        if again.new_text is not None:
            chosen = again
            result.source, result.why = "second try", f"The first answers were unusable ({own.problem}); this one passed the checks."
    answers = [a for a in (own, plain, draft, chosen) if a is not None]
    if draft is not None:
        result.models[general] = draft.model
    result.models[reasoner] = own.model
    result.reasoning = "\n\n".join(dict.fromkeys(a.reasoning for a in answers if a.reasoning))
    if chosen is None:
        result.why = f"No answer passed the checks ({own.problem})"
        result.explanation = own.explanation or (draft.explanation if draft else "") or "The model proposed no usable fix."
        return result
    result.new_text = chosen.new_text
    result.explanation = chosen.explanation or "The model's fix."
    result.fix = fix_from_texts(source.text, chosen.new_text, result.explanation)
    if result.fix is None:
        result.new_text = None
    return result


def workspace_definitions(index: WorkspaceIndex | None, source: SourceFile, offset: int) -> list[str]:
    """Definitions from the workspace index for the code at `offset`, as prompt snippets (none without an index)."""
    if index is None or not source.path:
        return []
    try:
        snippets = index.retrieve(source.path, source.text, offset, budget_ms=CONTEXT_BUDGET_MS)
    except Exception:  # context is a bonus; never fail the debug request for it
        log.debug("context retrieval failed", exc_info=True)
        return []
    return [f"# {s.path}\n{s.text}" for s in snippets if s.kind == "definition"]


async def _weighed(
    registry: ModelRegistry, role: Role, original: str, first: _Answer, second: _Answer, cancel: threading.Event
) -> tuple[_Answer, str, str]:
    """Which of the reasoning model's two usable answers to use, with the result's source and why."""
    if _same_code(first.new_text, second.new_text):
        return first, "agreed", "Asked in two ways, the reasoning model wrote this fix both times."
    variants = [first.new_text, second.new_text]
    gains = await registry.run(role, lambda backend: likelihood_gains(backend, original, variants, cancel), cancel)
    if gains is None:
        return first, "reasoning fix", "The reasoning model's first fix (its two answers differ, and it cannot weigh them)."
    best = 1 if gains[1] > gains[0] else 0  # a tie keeps the first
    return (first, second)[best], "most likely", (
        f"The reasoning model's two fixes differ; with this one it finds the file more likely "
        f"({gains[best]:+.1f} against {gains[1 - best]:+.1f} nats over the code as it was)."
    )


async def _with_line_fixes(
    registry: ModelRegistry, source: SourceFile, lone: _Answer | None, other_problem: str, protected: set[int], cancel: threading.Event
) -> tuple[_Answer | None, str, str]:
    """The lone usable answer (if any) weighed against the one-line fixes of the likelihood pass.

    When the reasoning model found the code fine in one answer or both, it
    still knows where the code surprises it: the general model proposes its
    own version of each surprising line, the reasoning model adds its own and
    weighs every fix - and the lone answer's rewrite - by the whole file
    (tasks/likelihood/line_fixes.py). Tests and examples are not proposed for
    change. The most likely wins; a one-line fix must gain clearly (MIN_GAIN).
    The `likelihoodScan` setting turns the pass off; files longer than
    WHOLE_FILE_LINES go without it, and the models read up to the last line of
    code (a closing docstring would be read again for every fix).
    """
    role = role_for("debug")
    variants = [lone.new_text] if lone is not None else []
    weighed = None
    # A long file would be read again for every fix weighed: minutes on a laptop.
    if registry.settings.review.likelihood_scan and len(source.lines) <= WHOLE_FILE_LINES:
        weighed = await weighed_line_fixes(
            registry, source.text, source.grammar, (0, len(source.lines) - 1), role_for("review"), role, cancel,
            skip_lines=protected, variants=variants, skip_closing_prose=True,
        )
    # The likeliest one-line fix that passes the checks every answer passes, with the file as it makes it.
    fixed = ((fix, fix.candidate.apply(source.text)) for fix in (weighed.clear() if weighed else []))
    best, best_text = next(((fix, text) for fix, text in fixed if not fix_problem(source, text)), (None, ""))
    lone_gain = weighed.variant_gains[0] if weighed and variants else None
    if best is not None and (lone is None or (lone_gain is not None and best.gain > lone_gain)):
        candidate = best.candidate
        sentence = f"Line {candidate.suspect.line + 1}: {candidate.describe(source.text)}"
        answer = _Answer(weighed.model, sentence, "", best_text)
        against = f"; the reasoning model's own fix: {lone_gain:+.1f}" if lone_gain is not None else ""
        return answer, "likely line", (
            f"The reasoning model gave {'one usable fix' if lone else 'no usable fix'} ({other_problem}); of the one-line fixes the models "
            f"proposed where the code surprised them, the file reads most likely with this one ({best.gain:+.1f} nats{against})."
        )
    if lone is None:
        return None, "none", ""
    weighed_note = f" It reads the file more likely than any one-line fix ({lone_gain:+.1f} nats)." if best and lone_gain is not None else ""
    return lone, "reasoning fix", f"The reasoning model's fix (its other answer was unusable: {other_problem}).{weighed_note}"


def _same_code(a: str, b: str) -> bool:
    return [line.rstrip() for line in a.splitlines()] == [line.rstrip() for line in b.splitlines()]


def _trim_snippets(snippets: Sequence[str]) -> list[str]:
    kept: list[str] = []
    used = 0
    for snippet in snippets:
        if used + len(snippet) > MAX_CONTEXT_CHARS:
            break
        kept.append(snippet)
        used += len(snippet)
    return kept
