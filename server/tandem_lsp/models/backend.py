"""What every model backend offers, independent of where the model runs.

The completion and review code talk to this interface only; the in-process
llama.cpp backend and the HTTP backend both implement it. Nothing here knows
about LSP.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Literal, Protocol, Sequence, Union


class ModelError(Exception):
    """A model could not be loaded or run; the message is shown to the user."""


@dataclass(frozen=True)
class SpecialToken:
    """A control token placed in a prompt by id (never by parsing its text)."""

    id: int
    text: str


# A prompt is ordinary text interleaved with control tokens. In-process backends
# turn it into token ids; HTTP backends render it as a string.
PromptPiece = Union[str, SpecialToken]
Prompt = Sequence[PromptPiece]


def render_prompt(prompt: Prompt) -> str:
    """A prompt as one string: control tokens by their text (servers parse them back; logs and tests read it)."""
    return "".join(piece.text if isinstance(piece, SpecialToken) else piece for piece in prompt)


@dataclass(frozen=True)
class FimTemplate:
    """How a model wants fill-in-the-middle prompts, read from its vocabulary."""

    # "psm": prefix, suffix, middle. "spm": suffix first (Codestral).
    # "none": the model has no FIM tokens; complete from the prefix only.
    order: Literal["psm", "spm", "none"]
    prefix: SpecialToken | None = None
    suffix: SpecialToken | None = None
    middle: SpecialToken | None = None
    # Repository-level tokens (Qwen2.5-Coder, StarCoder2) for cross-file context.
    repo_name: SpecialToken | None = None
    file_sep: SpecialToken | None = None
    # A human-readable label, e.g. "qwen2.5-coder" or "prefix-only".
    family: str = "prefix-only"

    @property
    def has_fim(self) -> bool:
        return self.order != "none"


PREFIX_ONLY = FimTemplate(order="none")

StopReason = Literal["eos", "max_tokens", "time", "cancelled", "stop_check", "error"]


@dataclass
class GenerationRequest:
    prompt: Prompt
    max_tokens: int = 128
    max_time_s: float = 3.0
    # Called with the text generated so far after each token; True stops early.
    # This is where post-processing rules cut a generation short.
    stop_check: Callable[[str], bool] | None = None
    # Called with each new piece of text, for streaming.
    on_text: Callable[[str], None] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    temperature: float = 0.0
    # False evaluates the whole prompt afresh (to measure what the KV cache buys).
    reuse_cache: bool = True
    # Text the output must begin with (token healing: the prompt was backed up to
    # a token boundary and the model writes that text again in its own split).
    # Only backends with `constrains_start` accept it.
    required_start: str = ""
    # Which choice the first token of the answer's own text is (the one that goes past
    # `required_start`, or the first after it), among tokens that do not end the output:
    # 0 the model's best, 1 its runner-up, and so on (an alternative when the best
    # suggestion is rejected, completion/rejected.py); None samples as usual. Only
    # backends with `constrains_start` accept it.
    first_choice: int | None = None


@dataclass
class GenerationResult:
    text: str
    stop_reason: StopReason
    prompt_tokens: int = 0
    # Prompt tokens the backend really had to evaluate (the rest came from its KV cache).
    prompt_tokens_evaluated: int = 0
    generated_tokens: int = 0
    prompt_ms: float = 0.0
    generate_ms: float = 0.0
    # (length of `text` once the token was added, its log-probability) per generated
    # token, when the backend can tell; the completion's confidence is read from it.
    token_logprobs: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class ChatRequest:
    messages: list[ChatMessage]
    max_tokens: int = 512
    max_time_s: float = 120.0
    # JSON schema the answer must follow (grammar-constrained where supported).
    json_schema: dict | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    temperature: float = 0.0
    on_text: Callable[[str], None] | None = None


@dataclass
class ChatResult:
    content: str
    # Reasoning the model produced (<think> blocks or reasoning_content), kept apart.
    reasoning: str = ""
    stop_reason: StopReason = "eos"
    generated_tokens: int = 0


@dataclass(frozen=True)
class TokenScore:
    """How likely the model found one token of a text, given the text before it."""

    start: int  # character offset of the token in the text
    text: str  # the token as it stands in the text
    logprob: float
    # The model's own first choice at that place (equal to `text` when it agrees).
    expected: str
    expected_logprob: float
    # Its next choices after `expected`, most likely first, as (token, logprob).
    alternatives: tuple[tuple[str, float], ...] = ()


class ModelBackend(Protocol):
    """One loaded model. Methods block; callers run them on the model worker."""

    name: str
    fim: FimTemplate
    context_size: int
    # True when generate() honours `required_start` (it can constrain sampling).
    constrains_start: bool

    def tokenize(self, text: str) -> list[int]:
        """Tokens of plain text (no BOS, control-token text not parsed)."""

    def count_tokens(self, text: str) -> int: ...

    def last_token_text(self, text: str) -> str:
        """The text of the last token of `text` as the tokenizer splits it (token healing backs up over it)."""

    def generate(self, request: GenerationRequest) -> GenerationResult: ...

    def chat(self, request: ChatRequest) -> ChatResult: ...

    def score_text(self, text: str, cancel: threading.Event) -> list[TokenScore] | None:
        """Per-token likelihood of `text` (every token after the first); None when the backend cannot tell."""

    def close(self) -> None: ...


class Deadline:
    """A wall-clock limit checked between tokens."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self._end
