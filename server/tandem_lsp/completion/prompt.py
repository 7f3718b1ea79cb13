"""Assemble a completion prompt under a token-exact budget.

Layout, most stable first, so llama.cpp reuses its KV cache across keystrokes:

    [cross-file context] <fim_prefix> lines above the cursor line
    <fim_suffix> rest of the cursor line + lines below <fim_middle> cursor line up to the cursor

The text typed on the cursor's line goes after the middle token, as if the
model had written it (llama.vim's trick): typing on a line then changes only
the last few prompt tokens. The prefix window starts on a line number rounded
to a stride, so it does not slide with every new line either.

While the user writes on downwards, the previous prompt's layout is kept
(`PromptLayout`): the lines written since go after the middle token too, and
the prefix and suffix stay as they were. Pressing Enter then adds a line's
tokens at the end of the prompt instead of changing it before the suffix, which
made llama.cpp evaluate the whole suffix again (seconds on a laptop CPU) at
every new line. The layout is rebuilt when the cursor leaves that region or
the lines no longer fit.

Token healing: a prompt that ends inside a token (`tort` of `tortoise`, the
indentation before `return`) forces a split the model rarely saw in training.
When the backend can constrain its first tokens, the prompt stops at the last
token boundary before the cursor and the model must begin by writing the
held-back text again, in whatever split it prefers. Without that, the typed
text stays in the prompt as it is, like a plain fill-in-the-middle prompt.

Cross-file context is rendered as repository file blocks when the model has
`<|repo_name|>`/`<|file_sep|>` style tokens (Qwen2.5-Coder's trained layout:
`<|repo_name|>name` then `<|file_sep|>path` + content per file, the current
file last), else as commented `path:` snippets. It has a budget of its own on
top of the current file's window: adding context never shrinks the window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from tandem_lsp.completion.comments import comment_block
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.models.backend import FimTemplate, PromptPiece, SpecialToken, render_prompt

# The prefix window's first line is a multiple of this, for cache stability.
PREFIX_LINE_STRIDE = 16
# A pathological current line (minified code) is cut to this many characters.
MAX_LINE_PREFIX_CHARS = 1000
# A word being typed at the end of the text, with the blanks before it (held back by token healing).
_PARTIAL_WORD = re.compile(r"[ \t]*\w{1,64}$")
# How many written lines a kept layout holds after the middle token before it is rebuilt.
MAX_MIDDLE_LINES = PREFIX_LINE_STRIDE


@dataclass(frozen=True)
class PromptLayout:
    """Where a prompt took its parts from, in document lines (0-based)."""

    prefix_start: int  # first line of the prefix window
    middle_start: int  # first line after the middle token (the cursor's line, or one above it)
    suffix_lines: int  # how many lines the suffix holds (the cursor line's rest counts as one)

    def holds(self, cursor_line: int) -> bool:
        """Whether a prompt at `cursor_line` can keep this layout."""
        return self.prefix_start <= self.middle_start <= cursor_line <= self.middle_start + MAX_MIDDLE_LINES


class Snippet(Protocol):
    """A piece of cross-file context (the index's ContextSnippet fits this).

    A `start_line` attribute, when present, orders snippets of one file.
    """

    path: str
    text: str


@dataclass(frozen=True)
class PromptBudget:
    # Tokens for the current file: the cursor line, the suffix and the prefix window.
    window: int
    # Tokens for cross-file context, on top of the window.
    context: int = 1024
    # Share of the window that the suffix may take.
    suffix_share: float = 0.25


@dataclass
class BuiltPrompt:
    pieces: list[PromptPiece]
    token_count: int
    context_paths: list[str] = field(default_factory=list)
    # Text typed before the cursor that the prompt leaves out; the model writes
    # it again (see token healing above) and align_output takes it off.
    held_back: str = ""
    # What the output must begin with, when the backend can be told (token
    # healing's held-back text). Measured and dropped: also requiring a least
    # indentation at column 0 made the model pad with spaces (infill.py b/c).
    required_start: str = ""
    # Where its parts came from (to keep it for the next request; None: not a FIM layout).
    layout: PromptLayout | None = None
    # PSM only: the pieces up to the end of the prefix, and the document's text
    # from there to the cursor (what the prompt puts after the middle token).
    # The file read on from the prefix decides between candidates (engine.py).
    prefix_head: list[PromptPiece] | None = None
    after_prefix: str = ""

    def align_output(self, text: str) -> str:
        """Model output as seen from the cursor."""
        if not self.held_back:
            return text
        if text.startswith(self.held_back):
            return text[len(self.held_back) :]
        if self.held_back.startswith(text):
            return ""  # still writing the held-back text
        return text.lstrip(" \t")

    def render(self) -> str:
        """The prompt as text (control tokens by their text), for logs and tests."""
        return render_prompt(self.pieces)


class TokenCounter:
    """Counts tokens of lines, remembering lines already seen (typing changes few)."""

    def __init__(self, count: Callable[[str], int], capacity: int = 20000) -> None:
        self._count = count
        self._cache: dict[str, int] = {}
        self._capacity = capacity

    def exact(self, text: str) -> int:
        return self._count(text)

    def __call__(self, text: str) -> int:
        cached = self._cache.get(text)
        if cached is None:
            if len(self._cache) >= self._capacity:
                self._cache.clear()
            cached = self._cache[text] = self._count(text)
        return cached


def _take_lines_backward(lines: Sequence[str], budget: int, count: TokenCounter) -> int:
    """Index of the first line such that lines[index:] fit the budget (stride-aligned)."""
    used = 0
    start = len(lines)
    while start > 0:
        cost = count(lines[start - 1])
        if used + cost > budget:
            break
        used += cost
        start -= 1
    if start > 0:
        # Round up to the stride so the window start stays put while typing.
        start = min(len(lines), -(-start // PREFIX_LINE_STRIDE) * PREFIX_LINE_STRIDE)
    return start


def _take_lines_forward(lines: Sequence[str], budget: int, count: TokenCounter) -> int:
    used = 0
    for end, line in enumerate(lines):
        cost = count(line)
        if used + cost > budget:
            return end
        used += cost
    return len(lines)


def _context_blocks(
    fim: FimTemplate, request: CompletionRequest, snippets: Sequence[Snippet], budget: int, count: TokenCounter, relative_path: str
) -> tuple[list[PromptPiece], list[str]]:
    """Snippets taken in priority order while they fit, laid out one block per file."""
    repo_level = fim.repo_name is not None and fim.file_sep is not None
    if repo_level:
        head: list[PromptPiece] = [fim.repo_name, "workspace\n"]
        tail: list[PromptPiece] = [fim.file_sep, f"{relative_path or 'untitled'}\n"]
        used = 2 + count(head[1]) + count(tail[1])
    else:
        head, tail, used = [], [], 0
    files: dict[str, list[Snippet]] = {}  # path -> its snippets, the most relevant file first
    for snippet in snippets:
        text = snippet.text.strip("\n")
        if not text.strip():
            continue
        # A file's first snippet also pays for its header (separator and path line).
        cost = count(text + "\n") + (0 if snippet.path in files else 1 + count(snippet.path + "\n"))
        if used + cost > budget:
            continue
        used += cost
        files.setdefault(snippet.path, []).append(snippet)
    if not files:
        return [], []
    pieces: list[PromptPiece] = list(head)
    # The most relevant file goes last, next to the code being completed.
    for path, kept in reversed(files.items()):
        kept.sort(key=lambda s: getattr(s, "start_line", 0))
        body = "\n\n".join(s.text.strip("\n") for s in kept)
        if repo_level:
            pieces += [fim.file_sep, f"{path}\n{body}\n"]
        else:
            pieces.append(comment_block(request.language, f"{path}\n{body}") + "\n")
    return pieces + tail, list(files)


def _healed(typed: str, last_token: Callable[[str], str]) -> str:
    """The typed text backed up to where the model can go on in its own split.

    That is over the last token and all trailing whitespace (an indentation may
    span several tokens), and over a partly typed word with the blanks before
    it: backing up one token of `possibl` (` poss` `ib` `l`) still left the
    model after `ib`, a split it never saw, and it went on `_change` instead of
    `e_change` (infill.py d); backed up to `return`, it writes ` possible`.
    """
    if not typed:
        return typed
    whitespace = len(typed) - len(typed.rstrip(" \t"))
    word = _PARTIAL_WORD.search(typed)
    partial_word = len(word.group()) if word is not None else 0
    return typed[: len(typed) - max(len(last_token(typed)), whitespace, partial_word)]


def _suffix_lines(request: CompletionRequest) -> list[str]:
    """The suffix's candidate lines: the rest of the cursor's line, then the lines below."""
    line_suffix = request.line_suffix[:MAX_LINE_PREFIX_CHARS]
    if request.line_end >= len(request.text):
        return [line_suffix]
    return [line_suffix + "\n"] + request.after_line.splitlines(keepends=True)


def build_prompt(
    fim: FimTemplate,
    request: CompletionRequest,
    budget: PromptBudget,
    count: TokenCounter,
    snippets: Sequence[Snippet] = (),
    relative_path: str = "",
    last_token: Callable[[str], str] | None = None,
    keep: PromptLayout | None = None,
) -> BuiltPrompt:
    """The prompt for a request.

    `last_token` (the backend's tokenizer), given when the backend can constrain
    how its output begins, turns on token healing. `keep`, the layout of the
    document's previous prompt, is kept when it still holds.
    """
    context_pieces: list[PromptPiece] = []
    context_paths: list[str] = []
    if snippets and budget.context > 0:
        context_pieces, context_paths = _context_blocks(fim, request, snippets, budget.context, count, relative_path)
    if keep is not None and fim.order == "psm" and keep.holds(request.cursor_line):
        kept = _build_kept(fim, request, budget, count, context_pieces, context_paths, last_token, keep)
        if kept is not None:
            return kept
    typed = request.line_prefix[-MAX_LINE_PREFIX_CHARS:]
    # On a fresh line (nothing but the indentation typed) the indentation ends the
    # prefix, exactly as in the plain layout the model was trained on: measured
    # through the server (benchmarks/infill.py), a middle that starts by writing
    # the indentation led the model to re-type the next line instead of the
    # missing one. Typing the line's first character moves the line after the
    # middle token; that re-reads the suffix once per line, not per keystroke.
    indent_in_prefix = fim.order == "psm" and not typed.strip()
    if indent_in_prefix:
        line_prefix = ""
    elif last_token is not None:
        line_prefix = _healed(typed, last_token)
    elif fim.has_fim:
        line_prefix = typed
    else:
        # Chat-tuned models without FIM tokens read a prompt ending in a bare
        # newline as "the code is over" and close the fence; given the indent
        # less its last space they go on with a " word" token instead.
        line_prefix = typed[:-1] if typed.endswith(" ") else typed
    held_back = "" if indent_in_prefix else typed[len(line_prefix) :]
    above = request.before_line.splitlines(keepends=True)

    # A model without FIM tokens is usually chat-tuned: opening a code fence
    # tells it the text is code, and its closing fence becomes a place to stop.
    opener = "" if fim.has_fim else f"```{request.language}\n"
    fixed = count(line_prefix) + (3 if fim.has_fim else count(opener))
    remaining = max(budget.window - fixed, 0)

    suffix_text = ""
    suffix_used = 0
    if fim.has_fim:
        # The suffix gets its share, and whatever the prefix does not need: a
        # file that fits the window is shown whole (a cut suffix made the model
        # guess what the code below already says).
        prefix_need = 0
        for line in reversed(above):
            prefix_need += count(line)
            if prefix_need >= remaining:
                break
        suffix_budget = max(int(remaining * budget.suffix_share), remaining - prefix_need)
        suffix_lines = _suffix_lines(request)
        end = _take_lines_forward(suffix_lines, suffix_budget, count)
        suffix_text = "".join(suffix_lines[:end])
        suffix_used = sum(count(line) for line in suffix_lines[:end])
        remaining -= suffix_used

    start = _take_lines_backward(above, remaining, count)
    prefix_text = "".join(above[start:]) + (typed if indent_in_prefix else "")
    layout = None
    if fim.has_fim:
        layout = PromptLayout(prefix_start=start, middle_start=request.cursor_line, suffix_lines=end)

    after_prefix = ""
    if fim.order == "psm":
        pieces = context_pieces + [fim.prefix, prefix_text, fim.suffix, suffix_text, fim.middle, line_prefix]
        after_prefix = "" if indent_in_prefix else typed
    elif fim.order == "spm":
        pieces = context_pieces + [fim.suffix, suffix_text, fim.prefix, prefix_text + line_prefix]
    else:
        pieces = context_pieces + [opener + prefix_text + line_prefix]
    return _assembled(pieces, count, context_paths, held_back, last_token is not None, layout, fim, after_prefix)


def _assembled(
    pieces: list[PromptPiece],
    count: TokenCounter,
    context_paths: list[str],
    held_back: str,
    healing: bool,
    layout: PromptLayout | None,
    fim: FimTemplate,
    after_prefix: str,
) -> BuiltPrompt:
    pieces = [p for p in pieces if p != "" and p is not None]
    # Per-line counts bound the budget from above; the exact figure comes from
    # tokenizing the assembled text pieces once.
    exact = sum(1 if isinstance(p, SpecialToken) else count.exact(p) for p in pieces)
    required = held_back if healing else ""
    head = pieces[: pieces.index(fim.suffix)] if fim.order == "psm" and fim.suffix in pieces else None
    return BuiltPrompt(
        pieces=pieces,
        token_count=exact,
        context_paths=context_paths,
        held_back=held_back,
        required_start=required,
        layout=layout,
        prefix_head=head,
        after_prefix=after_prefix if head is not None else "",
    )


def _build_kept(
    fim: FimTemplate,
    request: CompletionRequest,
    budget: PromptBudget,
    count: TokenCounter,
    context_pieces: list[PromptPiece],
    context_paths: list[str],
    last_token: Callable[[str], str] | None,
    keep: PromptLayout,
) -> BuiltPrompt | None:
    """A PSM prompt with `keep`'s prefix and suffix, the lines written since after the middle token; None if they do not fit."""
    typed = request.line_prefix[-MAX_LINE_PREFIX_CHARS:]
    above = request.before_line.splitlines(keepends=True)
    if keep.middle_start == request.cursor_line and not typed.strip():
        return None  # a fresh line of its own: the plain layout (its indentation ends the prefix)
    written = "".join(above[keep.middle_start :])
    line_prefix = _healed(typed, last_token) if last_token is not None else typed
    held_back = typed[len(line_prefix) :]
    suffix_text = "".join(_suffix_lines(request)[: keep.suffix_lines])
    prefix_text = "".join(above[keep.prefix_start : keep.middle_start])
    used = 3 + count(prefix_text) + count(suffix_text) + count(written) + count(line_prefix)
    if used > budget.window:
        return None
    pieces = context_pieces + [fim.prefix, prefix_text, fim.suffix, suffix_text, fim.middle, written + line_prefix]
    return _assembled(pieces, count, context_paths, held_back, last_token is not None, keep, fim, written + typed)
