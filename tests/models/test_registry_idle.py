"""An idle model is unloaded (its memory given back) and loads again on the next use."""

from __future__ import annotations

import asyncio
import time

from tandem_lsp.config import Settings
from tandem_lsp.models import registry as registry_module
from tandem_lsp.models.registry import ModelRegistry


class _Loaded:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_an_idle_model_is_unloaded_and_reloaded_on_the_next_use(monkeypatch):
    loads: list[_Loaded] = []

    def load(model, key):
        loads.append(_Loaded())
        return loads[-1]

    monkeypatch.setattr(registry_module, "load_backend", load)
    settings = Settings().merged({"completionModel": {"path": "/models/m.gguf", "idleUnloadSeconds": 0.001}})
    registry = ModelRegistry(settings)
    try:
        assert registry.call("completion", lambda backend: backend) is loads[0]
        time.sleep(0.01)  # longer than the idle limit (a lower bound, not a race)
        asyncio.run(registry.unload_idle_models())
        assert loads[0].closed
        assert registry.call("completion", lambda backend: backend) is loads[1]
    finally:
        registry.close()


def test_a_model_in_use_stays(monkeypatch):
    monkeypatch.setattr(registry_module, "load_backend", lambda model, key: _Loaded())
    settings = Settings().merged({"completionModel": {"path": "/models/m.gguf", "idleUnloadSeconds": 3600}})
    registry = ModelRegistry(settings)
    try:
        backend = registry.call("completion", lambda backend: backend)
        asyncio.run(registry.unload_idle_models())
        assert not backend.closed
    finally:
        registry.close()
