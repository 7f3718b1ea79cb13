"""Model roles, lazy loading and the single model worker thread.

Every model call in the process runs on one worker thread: llama.cpp is not
thread-safe, and two models decoding at once on a laptop's few cores make
both several times slower. Roles that name the same model share one instance.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Callable, Literal, TypeVar

from tandem_lsp.config import ModelSettings, Settings
from tandem_lsp.models.backend import ModelBackend, ModelError
from tandem_lsp.models.embedded import INSTALL_HINT, default_model_path

log = logging.getLogger(__name__)

Role = Literal["completion", "review", "reasoning"]
ROLES: tuple[Role, ...] = ("completion", "review", "reasoning")
T = TypeVar("T")

# GGUF files run in-process through llama-cpp-python, an optional dependency: an
# install that only talks to HTTP endpoints skips compiling it.
LOCAL_INSTALL_HINT = ("reinstall tandem-lsp with its `local` extra (in a clone: pipx install --force './[local]', "
                      "uv tool install --force './[local]' or pip install '.[local]')")


def local_models_available() -> bool:
    """Whether llama-cpp-python is installed (found without importing it: that loads llama.cpp)."""
    return find_spec("llama_cpp") is not None


@dataclass(frozen=True)
class ModelKey:
    """What makes two roles share one loaded model."""

    path: str
    endpoint: str
    remote_model: str
    context_size: int
    gpu_layers: int
    threads: int


def role_settings(settings: Settings, role: Role) -> ModelSettings:
    """A role's settings after fallbacks: reasoning → review → completion."""
    chain = {
        "completion": [settings.completion_model],
        "review": [settings.review_model, settings.completion_model],
        "reasoning": [settings.reasoning_model, settings.review_model, settings.completion_model],
    }[role]
    return next((m for m in chain if m.path or m.endpoint), chain[-1])


def resolve_key(model: ModelSettings) -> ModelKey:
    path = model.path
    if not path and not model.endpoint:
        embedded = default_model_path()
        if embedded is None:
            raise ModelError(f"no model configured and the embedded default is not installed ({INSTALL_HINT})")
        path = str(embedded)
    return ModelKey(path, model.endpoint, model.remote_model, model.context_size, model.gpu_layers, model.threads)


def load_backend(model: ModelSettings, key: ModelKey) -> ModelBackend:
    if key.endpoint:
        from tandem_lsp.models.http_backend import HttpBackend

        return HttpBackend(model)
    if not local_models_available():
        raise ModelError(f"cannot run {key.path}: llama-cpp-python is not installed; {LOCAL_INSTALL_HINT}, "
                         "or point this role at an HTTP endpoint")
    from tandem_lsp.models.llama_backend import LlamaBackend

    return LlamaBackend(key.path, model)


class ModelRegistry:
    def __init__(self, settings: Settings, on_loading: Callable[[Role, str, bool], None] | None = None) -> None:
        self._settings = settings
        self._on_loading = on_loading
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-model")
        self._loaded: dict[ModelKey, ModelBackend] = {}
        self._failed: dict[ModelKey, ModelError] = {}
        self._last_used: dict[ModelKey, float] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self._settings

    def update_settings(self, settings: Settings) -> None:
        """New settings: forget failures (the user may have fixed the path) and drop unused models."""
        self._settings = settings
        self._failed.clear()
        wanted = set()
        for role in ROLES:
            try:
                wanted.add(resolve_key(role_settings(settings, role)))
            except ModelError:
                pass
        self._worker.submit(self._drop_except, wanted)

    def _drop_except(self, wanted: set[ModelKey]) -> None:
        for key in [k for k in self._loaded if k not in wanted]:
            self._loaded.pop(key).close()

    # -- on the worker thread -------------------------------------------------

    def backend(self, role: Role) -> ModelBackend:
        """The role's model, loading it on first use. Call on the worker thread only."""
        model = role_settings(self._settings, role)
        key = resolve_key(model)
        if key in self._failed:
            raise self._failed[key]
        backend = self._loaded.get(key)
        if backend is None:
            if self._on_loading:
                self._on_loading(role, key.endpoint or key.path, True)
            try:
                backend = load_backend(model, key)
            except ModelError as exc:
                self._failed[key] = exc
                raise
            finally:
                if self._on_loading:
                    self._on_loading(role, key.endpoint or key.path, False)
            self._loaded[key] = backend
        self._last_used[key] = time.monotonic()
        return backend

    async def unload_idle_models(self) -> None:
        """`unload_idle` on the worker (it owns the loaded models), from asyncio."""
        await asyncio.get_running_loop().run_in_executor(self._worker, self.unload_idle)

    def unload_idle(self) -> None:
        """Close models idle longer than their role's `idle_unload_seconds`. On the worker thread only."""
        now = time.monotonic()
        for role in ROLES:
            model = role_settings(self._settings, role)
            if not model.idle_unload_seconds:
                continue
            try:
                key = resolve_key(model)
            except ModelError:
                continue
            if key in self._loaded and now - self._last_used.get(key, now) > model.idle_unload_seconds:
                log.info("unloading idle %s model", role)
                self._loaded.pop(key).close()

    # -- from anywhere --------------------------------------------------------

    def call(self, role: Role, job: Callable[[ModelBackend], T]) -> T:
        """Run `job(backend)` on the worker and wait (for CLI and tests)."""
        return self._worker.submit(lambda: job(self.backend(role))).result()

    async def run(self, role: Role, job: Callable[[ModelBackend], T], cancel: threading.Event | None = None) -> T:
        """Run `job(backend)` on the worker from asyncio.

        If the awaiting task is cancelled, `cancel` is set so the job stops at
        its next token, and the worker is free for the next request.
        """
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._worker, lambda: job(self.backend(role)))
        try:
            return await future
        except asyncio.CancelledError:
            if cancel is not None:
                cancel.set()
            raise

    def loaded_roles(self) -> dict[str, str]:
        return {role: resolve_key(role_settings(self._settings, role)).path for role in ROLES if self._is_loaded(role)}

    def _is_loaded(self, role: Role) -> bool:
        try:
            return resolve_key(role_settings(self._settings, role)) in self._loaded
        except ModelError:
            return False

    def close(self) -> None:
        def close_all() -> None:
            for backend in self._loaded.values():
                backend.close()
            self._loaded.clear()

        self._worker.submit(close_all)
        self._worker.shutdown(wait=True, cancel_futures=True)
