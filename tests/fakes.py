"""Test doubles shared by the tests: a scripted model backend and a registry that serves it.

`ScriptedBackend` implements the ModelBackend protocol without a model: each
generation streams the pieces of a scripted `Reply`, one piece per "token",
so a test decides what the "model" says and when it says it. It honours
everything the real backends honour (cancel, stop_check, on_text, max_tokens,
max_time_s) and records every generation: its prompt, its output and why it
stopped. Tests synchronise on the recorded generations' events ("started",
"first token", "held", "finished") instead of sleeping.

A reply can be endless (its pieces repeat until something stops it) and can
hold after a number of pieces until the test releases it or the generation is
cancelled: a held generation cannot finish on its own, so "the request
returned before the generation ended" needs no clock.

The same backend runs inside a language-server subprocess (tests/scripted_server.py);
there it appends one JSON line per event to `Script.event_log`, which a test
reads with `EventLog`, and a hold is also released by creating `Script.release_file`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from tandem_lsp.config import Settings
from tandem_lsp.models.backend import (
    PREFIX_ONLY,
    ChatRequest,
    ChatResult,
    Deadline,
    FimTemplate,
    GenerationRequest,
    GenerationResult,
    SpecialToken,
    TokenScore,
    render_prompt,
)
from tandem_lsp.models.registry import ModelRegistry

# A FIM layout with made-up control-token ids (far outside the fake vocabulary below).
PSM_FIM = FimTemplate(
    order="psm",
    prefix=SpecialToken(900_001, "<|fim_prefix|>"),
    suffix=SpecialToken(900_002, "<|fim_suffix|>"),
    middle=SpecialToken(900_003, "<|fim_middle|>"),
    family="scripted-fim",
)
FIM_TEMPLATES = {"psm": PSM_FIM, "none": PREFIX_ONLY}

# Bounded waits: generous, so a loaded machine is slow but never fails.
WAIT_S = 30.0

# Log-probabilities of a scripted unlikely token and of the model's own choice there.
UNLIKELY_LOGPROB = -8.0
EXPECTED_LOGPROB = -0.05

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass
class Reply:
    """What the scripted model answers to a prompt that contains `when` ("" matches any prompt)."""

    pieces: list[str]
    when: str = ""
    # Repeat the pieces until cancel, stop_check, max_tokens or max_time stops the generation.
    endless: bool = False
    # After this many pieces, wait until released or cancelled (None: never hold). The
    # server's warm-up generation (one token) gets a reply too: give held replies a `when`
    # or hold after at least one piece.
    hold_after: int | None = None
    # After this many pieces, produce nothing more until cancelled (a model that stalls).
    stall_after: int | None = None
    # Seconds per piece (spent waiting on the cancel event, so a cancel cuts it short).
    delay_s: float = 0.0

    def stream(self) -> Iterator[str]:
        return itertools.cycle(self.pieces) if self.endless and self.pieces else iter(self.pieces)


@dataclass
class Script:
    """Everything the scripted model says and does; JSON-serialisable for the server subprocess."""

    replies: list[Reply] = field(default_factory=lambda: [Reply(["pass"])])
    fim: Literal["psm", "none"] = "psm"
    context_size: int = 4096
    name: str = "scripted"
    # Answers to chat requests, by the same `when` rule (content only).
    chat: list[Reply] = field(default_factory=list)
    # Likelihood: [actual, expected] pairs; every occurrence of `actual` in a scored text is a token
    # the model finds unlikely (logprob -8) where it expects `expected`. Empty: the backend cannot
    # score text (like an HTTP model).
    unlikely: list[list[str]] = field(default_factory=list)
    # Server subprocess only: where to append events, and the file whose existence releases holds.
    event_log: str = ""
    release_file: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> "Script":
        data = json.loads(text)
        data["replies"] = [Reply(**r) for r in data.get("replies", [])]
        data["chat"] = [Reply(**r) for r in data.get("chat", [])]
        return Script(**data)

    def reply_for(self, prompt: str, replies: list[Reply] | None = None) -> Reply:
        return next((r for r in (self.replies if replies is None else replies) if r.when in prompt), Reply([]))


@dataclass
class Generation:
    """One call of `generate`, as the scripted backend saw and answered it."""

    index: int  # 1-based, in call order
    prompt: str
    max_tokens: int
    text: str = ""
    tokens: int = 0
    stop_reason: str = ""
    started: threading.Event = field(default_factory=threading.Event)
    first_token: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def cancelled(self) -> bool:
        return self.stop_reason == "cancelled"


class ScriptedBackend:
    """A ModelBackend whose output is scripted (see the module docstring)."""

    # Its replies are what they are: it cannot be made to begin with a given text
    # (`GenerationRequest.required_start`), so prompts are built without token healing.
    constrains_start = False

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.name = self.script.name
        self.fim: FimTemplate = FIM_TEMPLATES[self.script.fim]
        self.context_size = self.script.context_size
        self.generations: list[Generation] = []
        self.chats: list[str] = []
        self.closed = False
        # Set by the test (or by the release file) to let held generations go on.
        self.release = threading.Event()
        self._changed = threading.Condition()

    # -- the ModelBackend protocol ---------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        # Words, runs of blanks and single symbols; stable ids across processes.
        return [zlib.crc32(t.encode()) % 50_000 for t in _TOKEN.findall(text)]

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def last_token_text(self, text: str) -> str:
        tokens = _TOKEN.findall(text)
        return tokens[-1] if tokens else ""

    def generate(self, request: GenerationRequest) -> GenerationResult:
        prompt = render_prompt(request.prompt)
        with self._changed:
            record = Generation(index=len(self.generations) + 1, prompt=prompt, max_tokens=request.max_tokens)
            self.generations.append(record)
            self._changed.notify_all()
        record.started.set()
        self._log("start", record, prompt=prompt, maxTokens=request.max_tokens)
        reply = self.script.reply_for(prompt)
        deadline = Deadline(request.max_time_s)
        stop = "eos"
        try:
            for piece in reply.stream():
                stop = self._stop_before_token(record, request, deadline)
                if stop:
                    break
                if reply.hold_after is not None and record.tokens == reply.hold_after:
                    self._hold(record, request.cancel, releasable=True)
                if reply.stall_after is not None and record.tokens == reply.stall_after:
                    self._hold(record, request.cancel, releasable=False)
                if reply.delay_s:
                    request.cancel.wait(reply.delay_s)
                if request.cancel.is_set():
                    stop = "cancelled"
                    break
                record.tokens += 1
                record.text += piece
                if request.on_text is not None:
                    request.on_text(piece)
                if record.tokens == 1:
                    record.first_token.set()
                    self._log("first_token", record)
                if request.stop_check is not None and request.stop_check(record.text):
                    stop = "stop_check"
                    break
            else:
                stop = "cancelled" if request.cancel.is_set() else "eos"
        finally:
            record.stop_reason = stop
            self._log("end", record, stopReason=stop, text=record.text, tokens=record.tokens)
            record.finished.set()
        count = self.count_tokens(prompt)
        return GenerationResult(text=record.text, stop_reason=stop, prompt_tokens=count, prompt_tokens_evaluated=count, generated_tokens=record.tokens)

    def chat(self, request: ChatRequest) -> ChatResult:
        prompt = "\n".join(m.content for m in request.messages)
        self.chats.append(prompt)
        if request.cancel.is_set():
            return ChatResult(content="", stop_reason="cancelled")
        reply = self.script.reply_for(prompt, self.script.chat)
        content = "".join(itertools.islice(reply.stream(), request.max_tokens))
        if request.on_text is not None and content:
            request.on_text(content)
        return ChatResult(content=content, generated_tokens=min(len(reply.pieces), request.max_tokens))

    def score_text(self, text: str, cancel: threading.Event) -> list[TokenScore] | None:
        """Scores of the scripted unlikely tokens only: a text is as likely as the number of them it holds."""
        if not self.script.unlikely or cancel.is_set():
            return None
        scores = []
        for actual, expected in self.script.unlikely:
            start = text.find(actual)
            while start >= 0:
                scores.append(TokenScore(start, actual, UNLIKELY_LOGPROB, expected, EXPECTED_LOGPROB))
                start = text.find(actual, start + 1)
        return sorted(scores, key=lambda score: score.start)

    def close(self) -> None:
        self.closed = True
        self._log("close", None)

    # -- for tests ----------------------------------------------------------------

    def generation(self, index: int, timeout: float = WAIT_S) -> Generation:
        """The `index`-th generation (1-based), waiting until it has started."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.generations) >= index, timeout):
                raise TimeoutError(f"generation {index} did not start within {timeout} s ({len(self.generations)} so far)")
            return self.generations[index - 1]

    @staticmethod
    def _stop_before_token(record: Generation, request: GenerationRequest, deadline: Deadline) -> str:
        """Why the next token must not be produced ("" if it may), checked in the real backend's order."""
        if request.cancel.is_set():
            return "cancelled"
        if record.tokens >= request.max_tokens:
            return "max_tokens"
        if deadline.passed():
            return "time"
        return ""

    def _hold(self, record: Generation, cancel: threading.Event, releasable: bool) -> None:
        record.held.set()
        self._log("held", record)
        release = Path(self.script.release_file) if self.script.release_file else None
        while not cancel.is_set():
            if releasable and (self.release.is_set() or (release is not None and release.exists())):
                return
            cancel.wait(0.005)

    def _log(self, event: str, record: Generation | None, **fields: Any) -> None:
        if not self.script.event_log:
            return
        entry = {"event": event, "generation": record.index if record else 0, **fields}
        with open(self.script.event_log, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


class EventLog:
    """The events a scripted backend in another process appended to its log (one JSON object a line)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def events(self) -> list[dict]:
        if not self.path.exists():
            return []
        events = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # the line being written right now
        return events

    def find(self, event: str, generation: int | None = None, prompt_contains: str | None = None, **fields: Any) -> list[dict]:
        """Events of this kind, optionally of one generation, of generations whose prompt contains a text, or with these fields."""
        events = self.events()
        if prompt_contains is not None:
            chosen = {e["generation"] for e in events if e["event"] == "start" and prompt_contains in e["prompt"]}
            events = [e for e in events if e["generation"] in chosen]
        return [
            e
            for e in events
            if e["event"] == event and (generation is None or e["generation"] == generation) and all(e.get(k) == v for k, v in fields.items())
        ]

    async def wait_for(self, event: str, generation: int | None = None, timeout: float = WAIT_S, **match: Any) -> dict:
        """The first matching event (see `find`), polling until it is there (at most `timeout` seconds)."""
        await eventually(lambda: bool(self.find(event, generation, **match)), timeout, f"{event!r} event ({generation}, {match}) in {self.path}")
        return self.find(event, generation, **match)[0]


async def eventually(check: Callable[[], bool], timeout: float = WAIT_S, what: str = "") -> None:
    """Poll `check` until it holds (at most `timeout` seconds)."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(f"not true within {timeout} s: {what or check}")
        await asyncio.sleep(0.01)


async def wait_event(event: threading.Event, timeout: float = WAIT_S) -> None:
    """Await a threading.Event from asyncio without blocking the loop."""
    if not await asyncio.to_thread(event.wait, timeout):
        raise TimeoutError(f"event not set within {timeout} s")


class ScriptedRegistry(ModelRegistry):
    """A real ModelRegistry (its one worker thread included) whose roles are served by given backends.

    `backends` maps a role to its backend; roles it does not name use "general".
    """

    def __init__(self, settings: Settings | None = None, backends: dict[str, Any] | None = None, **by_role: Any) -> None:
        super().__init__(settings or Settings())
        self.backends: dict[str, Any] = {**(backends or {}), **by_role}

    def backend(self, role):  # noqa: ANN001 - same signature as ModelRegistry.backend
        return self.backends.get(role) or self.backends["general"]


def settings_with(**completion: Any) -> Settings:
    """Settings whose `completion` section has these (snake_case) values."""
    return Settings().merged({"completion": completion})

