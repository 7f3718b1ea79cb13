"""The whole configuration surface of tandem-lsp in one place.

Every setting has a default, so an empty configuration is a working one. On the
wire (initializationOptions, workspace/didChangeConfiguration, the VS Code
`tandem.*` settings) names are camelCase; in Python they are snake_case.
Validation happens once, here, at the edge.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel


class _Settings(BaseModel):
    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel, serialization_alias=to_camel),
        populate_by_name=True,
        extra="ignore",
    )


class ModelSettings(_Settings):
    """One model role: where the weights are and how to run them."""

    # Path to a GGUF file. Empty means "use the default for this role".
    path: str = ""
    # OpenAI-compatible endpoint (e.g. http://127.0.0.1:8080/v1). When set, the
    # role runs over HTTP instead of in-process.
    endpoint: str = ""
    # Model name sent to the HTTP endpoint.
    remote_model: str = ""
    # Name of the environment variable holding the HTTP API key (never the key).
    api_key_env: str = "TANDEM_API_KEY"
    # FIM layout for an HTTP model whose vocabulary we cannot read
    # ("qwen", "starcoder", "codellama", "deepseek", "codestral"); empty = detect.
    fim_family: str = ""
    context_size: int = Field(default=4096, ge=256)
    # -1 offloads every layer when the llama.cpp build has a GPU backend.
    gpu_layers: int = -1
    # 0 lets tandem pick (physical cores, at most 8).
    threads: int = Field(default=0, ge=0)
    # Unload after this many idle seconds, giving the memory (VRAM) back; the next
    # request loads it again in a few seconds (0 keeps the model resident).
    idle_unload_seconds: float = Field(default=1200.0, ge=0)


class CompletionSettings(_Settings):
    enabled: bool = True
    # Languages (LSP language ids) for which inline completion is off.
    disabled_languages: list[str] = Field(default_factory=list)
    max_tokens: int = Field(default=128, ge=1, le=2048)
    # Hard wall-clock cap on one generation, in milliseconds (the prompt's evaluation
    # not counted). maxTokens ends most answers first; this is for a slow machine,
    # where 3000 cut the 1.5B's function bodies on two CPU threads (infill.py h:
    # 6 of 42 passed against 10 with 8000). Typing on stops a generation at once.
    max_time_ms: int = Field(default=8000, ge=50)
    # Token budget for the current file's window (prefix + cursor line + suffix).
    prompt_tokens: int = Field(default=1536, ge=64)
    # Share of that window that the suffix may take.
    suffix_share: float = Field(default=0.25, ge=0.0, le=0.9)
    # Token budget for cross-file context, on top of promptTokens (0 turns it off):
    # context never takes room from the current file. What does not fit the
    # model's context window is taken from this budget first.
    context_tokens: int = Field(default=1024, ge=0)
    # Which kinds of cross-file context go into the prompt: "definition" (definitions
    # and signatures of the names the code uses), "similar" (chunks of other files
    # that share rare identifiers with the code around the cursor), "recent" (lines
    # edited lately in other files).
    context_kinds: list[Literal["definition", "similar", "recent"]] = Field(default_factory=lambda: ["definition", "similar", "recent"])
    # Server-side debounce bounds (adaptive between them), milliseconds.
    debounce_min_ms: int = Field(default=0, ge=0)
    debounce_max_ms: int = Field(default=150, ge=0)
    # Latency techniques; benchmarks switch them off to measure what they buy.
    cache: bool = True
    prefetch: bool = True
    # Reuse llama.cpp's KV cache for the common prompt prefix (off only to measure it).
    reuse_kv_cache: bool = True
    # When the model's best suggestion would leave the file with more syntax errors,
    # or is nothing on a fresh line, its next choices of first token are tried, this
    # many at most, and the first that does neither is shown (none: nothing is
    # shown). 0 turns it off. Local GGUF only (completion/rejected.py).
    alternatives: int = Field(default=3, ge=0, le=8)
    # On a fresh line (only indentation before the cursor), the model writes this
    # many answers - its best and its next choices of first token - and the one
    # with which the file reads most likely on into the lines below is shown.
    # 1 (the default) shows its best at once: on 0.5B over 352 holes comparing 3
    # gained 6 (benchmarks/infill.py a, c, f) and made the median wait 2.6 times
    # as long on a CPU. Local GGUF only.
    compare_candidates: int = Field(default=1, ge=1, le=8)
    # Answers are compared (compareCandidates) only when the model wrote its best
    # one with a mean token probability below this (1: always); a sure answer is
    # shown at once.
    compare_below_confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    # Say nothing when unsure: a suggestion whose first line the model wrote with a
    # mean token probability below this is not shown (0 shows everything; needs a
    # backend that reports token probabilities, i.e. a local GGUF).
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    # The same for each later line of a multi-line suggestion: it ends before the
    # first line written with less confidence than this (0 keeps every line).
    min_line_confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class IndexSettings(_Settings):
    enabled: bool = True
    max_file_bytes: int = Field(default=1_000_000, ge=1)
    max_files: int = Field(default=50_000, ge=1)
    # Time budget for retrieving context for one completion, milliseconds.
    retrieval_budget_ms: int = Field(default=30, ge=1)
    watch: bool = True
    # Answer workspace/symbol from the index. Off by default: the language's own
    # server already does, and the editor would list every symbol twice.
    workspace_symbols: bool = False
    exclude: list[str] = Field(
        default_factory=lambda: ["node_modules", "vendor", "third_party", ".git", ".venv", "venv", "dist", "build"]
    )
    # Folder for the persisted index; empty means the user cache dir.
    cache_dir: str = ""


class ReviewSettings(_Settings):
    max_findings: int = Field(default=8, ge=1)
    max_tokens: int = Field(default=768, ge=32)
    # Also flag lines the model finds unlikely and whose fix makes the file more likely (local models only).
    likelihood_scan: bool = True


class Settings(_Settings):
    completion_model: ModelSettings = Field(default_factory=ModelSettings)
    # Empty path/endpoint: falls back to the completion model.
    review_model: ModelSettings = Field(default_factory=ModelSettings)
    # Empty path/endpoint: falls back to the review model.
    reasoning_model: ModelSettings = Field(default_factory=ModelSettings)
    completion: CompletionSettings = Field(default_factory=CompletionSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    # What the server writes to stderr (editors show it in their LSP log); `--log-level` sets the default.
    log_level: Literal["error", "warning", "info", "debug"] = "warning"

    def merged(self, changes: dict[str, Any] | None) -> "Settings":
        """A copy with `changes` (camelCase or snake_case, nested) laid over this one."""
        if not changes:
            return self
        base = self.model_dump(by_alias=True)
        return Settings.model_validate(_deep_merge(base, _to_camel_keys(changes)))


def _to_camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {to_camel(str(k)): _to_camel_keys(v) for k, v in value.items()}
    return value


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, str | None]:
    """Validate client-sent settings. Returns (settings, error message or None).

    Clients nest our section differently (`{"tandem": {...}}` from VS Code's
    configuration, a bare object from initializationOptions); both are accepted.
    A bad value never breaks the server: the previous settings stay in force.
    """
    base = base or Settings()
    if not isinstance(raw, dict):
        return base, None if raw is None else "tandem settings must be an object"
    if isinstance(raw.get("tandem"), dict):
        raw = raw["tandem"]
    try:
        return base.merged(raw), None
    except ValidationError as exc:
        return base, f"invalid tandem settings: {exc.errors()[0].get('loc')} {exc.errors()[0].get('msg')}"
