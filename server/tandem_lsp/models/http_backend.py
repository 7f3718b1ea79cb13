"""A model served over HTTP by an OpenAI-compatible engine.

Works with llama.cpp's llama-server, llama-cpp-python's `llama_cpp.server`,
vLLM and Ollama's /v1 API. Completions go to `/completions` with the prompt
rendered to text (control tokens by their text), or to llama-server's native
`/infill` when the endpoint has it; chat goes to `/chat/completions`.

This module knows the servers: their endpoints, llama-server's /props, the
tokenize endpoints, how FIM tokens are found, what their answers hold. The
HTTP itself (streams, retries, errors) is in http_transport.py.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from tandem_lsp.config import ModelSettings
from tandem_lsp.models.backend import (
    PREFIX_ONLY,
    ChatRequest,
    ChatResult,
    Deadline,
    FimTemplate,
    GenerationRequest,
    GenerationResult,
    ModelError,
    SpecialToken,
    StopReason,
    render_prompt,
)
from tandem_lsp.models.fim import KNOWN_FAMILIES, detect_fim_template, template_for_family
from tandem_lsp.models.http_transport import EndpointClient, StreamFailed, Unreachable
from tandem_lsp.models.reasoning import split_reasoning

log = logging.getLogger(__name__)

# Quick probes (tokenizer, /props, /models) must not hold up a completion.
PROBE_TIMEOUT_S = 5.0
# After a failed probe (server down), ask again only after this long.
PROBE_BACKOFF_S = 5.0
# Characters per token when the server offers no tokenizer (typical for code).
DEFAULT_CHARS_PER_TOKEN = 3.5
# Representative code, tokenized once to learn this vocabulary's chars per token.
_CALIBRATION_TEXT = '''def load_config(path: str) -> dict:
    """Read the settings file and fill in defaults."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    for key, value in DEFAULTS.items():
        data.setdefault(key, value)
    return data

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
'''


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """(OpenAI API base, server root): "http://h:8080/v1" -> ("…/v1", "http://h:8080")."""
    try:
        url = httpx.URL(endpoint.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise ModelError(f"model endpoint is not a valid URL: {endpoint!r} ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ModelError(f"model endpoint must be an http(s) URL such as http://127.0.0.1:8080/v1, got {endpoint!r}")
    path = url.path.rstrip("/") or "/v1"
    root = path.removesuffix("/v1")
    return str(url.copy_with(path=path, query=None)), str(url.copy_with(path=root or "/", query=None)).rstrip("/")


@dataclass(frozen=True)
class _TokenizerFlavor:
    """One server family's tokenize endpoint."""

    name: str
    path: str
    body: Callable[[str, str, bool], dict]  # (text, model, parse_special) -> request body
    # Whether `parse_special=False` is honoured (else control-token text is always parsed).
    plain_text_exact: bool


_TOKENIZERS = (
    _TokenizerFlavor("llama-server", "/tokenize",
                     lambda text, model, special: {"content": text, "add_special": False, "parse_special": special}, True),
    _TokenizerFlavor("vllm", "/tokenize",
                     lambda text, model, special: {"model": model, "prompt": text, "add_special_tokens": False}, False),
    _TokenizerFlavor("llama-cpp-python", "/extras/tokenize", lambda text, model, special: {"input": text, "model": model}, False),
)


class HttpBackend:
    """ModelBackend over an OpenAI-compatible HTTP endpoint (settings.endpoint)."""

    def __init__(self, settings: ModelSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.endpoint = settings.endpoint.strip()
        self.api_base, self.root = split_endpoint(self.endpoint)
        self.name = settings.remote_model or self.endpoint
        self.context_size = settings.context_size
        self.client = EndpointClient(self.endpoint, settings.api_key_env, PROBE_TIMEOUT_S, transport)
        self._model: str | None = settings.remote_model or None
        self._tokenizer: _TokenizerFlavor | None = None
        self._probed = False
        self._probe_again_at = 0.0
        self._strip: list[int] = []
        self._chars_per_token = DEFAULT_CHARS_PER_TOKEN
        self._fim: FimTemplate | None = template_for_family(settings.fim_family) if settings.fim_family else None
        self._llama_server: bool | None = None
        # Chat servers disagree on how to ask for a JSON schema; remember what worked.
        self._schema_style = "json_schema"

    # -- what the server offers -------------------------------------------------

    def models(self) -> list[str]:
        """Model ids the endpoint serves (GET /models); raises ModelError when unreachable."""
        url = f"{self.api_base}/models"
        body = self.client.request_json("GET", url)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ModelError(f"model endpoint {url} answered with something that is not a model list")
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]

    def model_id(self) -> str:
        """The model name to send: configured, else the first one the server lists."""
        if self._model is None:
            listed = self.models()
            self._model = listed[0] if listed else ""
        return self._model

    def _probe(self, budget_s: float = PROBE_TIMEOUT_S) -> None:
        """Learn once what the server offers: llama-server's /props, a tokenize endpoint, chars per token.

        Network trouble (down, stalled, over `budget_s`) leaves it unlearned
        and quiet for PROBE_BACKOFF_S, so callers on the completion path never
        wait on a dead server more than once in a while.
        """
        if self._probed or time.monotonic() < self._probe_again_at:
            return
        end = time.monotonic() + budget_s

        def left() -> float:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise Unreachable("probe ran out of time")
            return remaining

        try:
            try:
                props = self.client.request_json("GET", f"{self.root}/props", timeout=left())
            except Unreachable:
                raise
            except ModelError:
                props = {}
            self._llama_server = isinstance(props, dict) and ("default_generation_settings" in props or "total_slots" in props)
            for flavor in _TOKENIZERS:
                try:
                    body = self.client.request_json("POST", self.root + flavor.path, flavor.body("", self._model or "", False), left())
                    self._strip = self._tokens_from(flavor, body)  # what the server adds around any text (BOS)
                except Unreachable:
                    raise
                except ModelError:
                    continue
                self._tokenizer = flavor
                break
            if self._tokenizer is not None:
                counted = len(self._server_tokens(_CALIBRATION_TEXT, special=False, timeout=left()))
                # 10% on the safe side: an underestimate could overflow the server's context.
                self._chars_per_token = 0.9 * len(_CALIBRATION_TEXT) / counted if counted else DEFAULT_CHARS_PER_TOKEN
        except Unreachable as exc:
            log.info("%s: cannot learn what the server offers yet (%s)", self.endpoint, exc)
            self._tokenizer = None
            self._probe_again_at = time.monotonic() + PROBE_BACKOFF_S
            return
        self._probed = True
        log.info("%s: llama-server %s, tokenizer %s, %.2f chars/token", self.endpoint, self._llama_server,
                 self._tokenizer.name if self._tokenizer else "none", self._chars_per_token)

    def is_llama_server(self) -> bool:
        """llama.cpp's own server (it has /props and /infill)."""
        self._probe()
        return bool(self._llama_server)

    @staticmethod
    def _tokens_from(flavor: _TokenizerFlavor, body: Any) -> list[int]:
        tokens = body.get("tokens") if isinstance(body, dict) else None
        if not isinstance(tokens, list):
            raise ModelError(f"{flavor.name} tokenizer answer has no token list")
        # llama-server can answer {"id": n, "piece": …} items.
        ids = [t["id"] if isinstance(t, dict) else t for t in tokens]
        if not all(isinstance(t, int) for t in ids):
            raise ModelError(f"{flavor.name} tokenizer answer has non-integer tokens")
        return ids

    def _server_tokens(self, text: str, special: bool, timeout: float = PROBE_TIMEOUT_S) -> list[int]:
        flavor = self._tokenizer
        if flavor is None:
            raise ModelError(f"model endpoint {self.endpoint} offers no tokenizer")
        body = self.client.request_json("POST", self.root + flavor.path, flavor.body(text, self._model or "", special), timeout)
        tokens = self._tokens_from(flavor, body)
        if self._strip and tokens[: len(self._strip)] == self._strip:
            tokens = tokens[len(self._strip):]
        return tokens

    @property
    def fim(self) -> FimTemplate:
        """From settings.fim_family, else found through the server's tokenizer, else prefix-only."""
        if self._fim is not None:
            return self._fim
        self._probe()
        if not self._probed:
            return PREFIX_ONLY  # server unreachable: try again on a later request
        if self._tokenizer is None:
            self._fim = PREFIX_ONLY
            return self._fim
        texts: dict[int, str] = {}
        known: dict[str, int | None] = {}

        def lookup(text: str) -> int | None:
            # One tokenize request per control-token text, remembered.
            if text not in known:
                try:
                    tokens = self._server_tokens(text, special=True)
                except Unreachable:
                    raise
                except ModelError:
                    tokens = []
                known[text] = tokens[0] if len(tokens) == 1 else None
                if known[text] is not None:
                    texts[tokens[0]] = text
            return known[text]

        try:
            # Most models have none of the families' prefix tokens: settle that in a few requests.
            if any(lookup(family.prefix) is not None for family in KNOWN_FAMILIES):
                self._fim = detect_fim_template({}, lambda token: texts.get(token, ""), lookup)
            else:
                self._fim = PREFIX_ONLY
        except Unreachable:
            return PREFIX_ONLY
        log.info("%s: FIM template %s", self.endpoint, self._fim.family)
        return self._fim

    # -- tokens -----------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        if not text:
            return []
        self._probe()
        return self._server_tokens(text, special=False)

    def count_tokens(self, text: str) -> int:
        # Estimated from the ratio measured on this vocabulary: prompt assembly
        # counts line by line, and one HTTP round trip per line would cost more
        # than the completion itself.
        self._probe()
        return math.ceil(len(text) / self._chars_per_token) if text else 0

    # A remote server samples on its own: it cannot be told how the output must begin.
    constrains_start = False

    def last_token_text(self, text: str) -> str:
        return ""

    # -- completion -------------------------------------------------------------

    def _infill_body(self, request: GenerationRequest) -> dict | None:
        """llama-server /infill fields from a prefix-suffix-middle prompt, or None."""
        fim = self.fim
        if fim.order != "psm" or not (fim.prefix and fim.suffix and fim.middle):
            return None
        pieces = list(request.prompt)
        marks = [next((i for i, p in enumerate(pieces) if isinstance(p, SpecialToken) and p.text == tok.text), -1)
                 for tok in (fim.prefix, fim.suffix, fim.middle)]
        if not (0 <= marks[0] < marks[1] < marks[2]):
            return None
        # Cross-file context: each file_sep opens a "path\ncontent" chunk; the repo
        # name and the current file's own marker (no content) carry nothing for /infill.
        chunks: list[list[str]] = []
        collecting = False
        for piece in pieces[: marks[0]]:
            if isinstance(piece, SpecialToken):
                collecting = fim.file_sep is not None and piece.text == fim.file_sep.text
                if collecting:
                    chunks.append([])
            elif collecting:
                chunks[-1].append(piece)
        input_extra = []
        for chunk in chunks:
            name, _, body = "".join(chunk).partition("\n")
            if body.strip():
                input_extra.append({"filename": name, "text": body})
        return {
            "input_prefix": render_prompt(pieces[marks[0] + 1 : marks[1]]),
            "input_suffix": render_prompt(pieces[marks[1] + 1 : marks[2]]),
            "input_extra": input_extra,
            "prompt": render_prompt(pieces[marks[2] + 1 :]),
        }

    def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        deadline = Deadline(request.max_time_s)
        self._probe(min(PROBE_TIMEOUT_S, request.max_time_s))
        infill = self._infill_body(request) if self._llama_server else None
        common = {"max_tokens": request.max_tokens, "temperature": request.temperature, "stream": True}
        if infill is not None:
            url = f"{self.root}/infill"
            payload = {**infill, **common, "n_predict": request.max_tokens, "cache_prompt": True}
        else:
            url = f"{self.api_base}/completions"
            payload = {"model": self.model_id(), "prompt": render_prompt(request.prompt), **common}
            if self._llama_server:
                payload["cache_prompt"] = True

        text: list[str] = []
        stop: StopReason = "eos"
        first_at: float | None = None
        timings: dict = {}
        usage: dict = {}
        chunks = 0
        try:
            for event in self.client.stream(url, payload, request.cancel, deadline, request.max_time_s):
                if isinstance(event, str):
                    stop = event  # type: ignore[assignment]
                    break
                timings = event.get("timings") or timings
                usage = event.get("usage") or usage
                choice = (event.get("choices") or [{}])[0]
                piece = choice.get("text", event.get("content", "")) or ""
                finish = choice.get("finish_reason") or event.get("stop_type")
                if piece:
                    chunks += 1
                    first_at = first_at or time.perf_counter()
                    text.append(piece)
                    if request.on_text:
                        request.on_text(piece)
                    if request.stop_check and request.stop_check("".join(text)):
                        stop = "stop_check"
                        break
                if finish in ("length", "limit"):
                    stop = "max_tokens"
        except StreamFailed as exc:
            if not text:
                raise ModelError(str(exc)) from None
            log.warning("%s; keeping the %d characters received", exc, len("".join(text)))
            stop = "error"
        ended = time.perf_counter()
        prompt_tokens = int(usage.get("prompt_tokens") or timings.get("prompt_n", 0) + timings.get("cache_n", 0) or 0)
        if not prompt_tokens:
            prompt_tokens = self.count_tokens(render_prompt(request.prompt))
        first_at = first_at or ended
        return GenerationResult(
            text="".join(text),
            stop_reason=stop,
            prompt_tokens=prompt_tokens,
            prompt_tokens_evaluated=int(timings.get("prompt_n", prompt_tokens)),
            generated_tokens=int(usage.get("completion_tokens") or timings.get("predicted_n") or chunks),
            prompt_ms=float(timings.get("prompt_ms", (first_at - started) * 1000)),
            generate_ms=float(timings.get("predicted_ms", (ended - first_at) * 1000)),
        )

    def score_text(self, text: str, cancel: threading.Event) -> None:
        """Prompt-token likelihoods are not part of the OpenAI API; the likelihood scan is skipped."""
        return None

    # -- chat -------------------------------------------------------------------

    def _response_format(self, schema: dict) -> dict:
        if self._schema_style == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        # llama-cpp-python and older llama-server builds.
        return {"type": "json_object", "schema": schema}

    def chat(self, request: ChatRequest) -> ChatResult:
        deadline = Deadline(request.max_time_s)
        payload: dict[str, Any] = {
            "model": self.model_id(),
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if request.json_schema is not None:
            payload["response_format"] = self._response_format(request.json_schema)
        try:
            return self._chat_stream(payload, request, deadline)
        except StreamFailed as exc:
            rejected = exc.received == 0 and "response_format" in str(exc) and self._schema_style == "json_schema"
            if not (rejected and request.json_schema is not None):
                raise ModelError(str(exc)) from None
            log.info("%s: json_schema response format refused, using json_object+schema", self.endpoint)
            self._schema_style = "json_object"
            payload["response_format"] = self._response_format(request.json_schema)
            try:
                return self._chat_stream(payload, request, deadline)
            except StreamFailed as again:
                raise ModelError(str(again)) from None

    def _chat_stream(self, payload: dict, request: ChatRequest, deadline: Deadline) -> ChatResult:
        content: list[str] = []
        reasoning: list[str] = []
        stop: StopReason = "eos"
        chunks = 0
        usage: dict = {}
        try:
            for event in self.client.stream(f"{self.api_base}/chat/completions", payload, request.cancel, deadline,
                                            request.max_time_s):
                if isinstance(event, str):
                    stop = event  # type: ignore[assignment]
                    break
                usage = event.get("usage") or usage
                choice = (event.get("choices") or [{}])[0]
                delta = choice.get("delta") or choice.get("message") or {}
                thought = delta.get("reasoning_content") or delta.get("reasoning") or ""
                piece = delta.get("content") or ""
                if thought:
                    reasoning.append(thought)
                if piece:
                    content.append(piece)
                    if request.on_text:
                        request.on_text(piece)
                if piece or thought:
                    chunks += 1
                if choice.get("finish_reason") == "length":
                    stop = "max_tokens"
        except StreamFailed as exc:
            if not content and not reasoning:
                raise
            log.warning("%s; keeping the partial answer", exc)
            stop = "error"
        answer, inline_thoughts = split_reasoning("".join(content))
        thoughts = "\n\n".join(t for t in ("".join(reasoning).strip(), inline_thoughts) if t)
        return ChatResult(content=answer, reasoning=thoughts, stop_reason=stop,
                          generated_tokens=int(usage.get("completion_tokens") or chunks))

    def close(self) -> None:
        self.client.close()
