"""Initialization, configuration changes and shutdown."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types
from pygls.uris import to_fs_path

from tandem_lsp.lsp.progress import work_done
from tandem_lsp.lsp.server import TandemServer
from tandem_lsp.lsp.text_sync import use_protocol_documents
from tandem_lsp.models.backend import GenerationRequest, ModelBackend, ModelError

log = logging.getLogger(__name__)


def register(server: TandemServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: TandemServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        use_protocol_documents(ls.workspace)
        if ls.read_config_files:
            # The project file is found from the workspace root, known only now.
            ls.load_config_files(workspace_root(params))
        ls.apply_settings(params.initialization_options, "initialization")
        for hook in ls.initialize_hooks:
            hook(params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: TandemServer, params: types.InitializedParams) -> None:
        ls.set_status("ready" if ls.settings.completion.enabled else "disabled")
        # Load the completion model now, so the first keystroke does not pay for it.
        loop = asyncio.get_running_loop()
        loop.create_task(_preload(ls))
        idle_check = loop.create_task(_unload_idle_models(ls))
        ls.shutdown_hooks.append(idle_check.cancel)
        _run_hooks(ls.initialized_hooks)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: TandemServer, params: types.DidChangeConfigurationParams) -> None:
        ls.apply_settings(params.settings)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: TandemServer, params: None) -> None:
        ls.engine.cancel_all()
        _run_hooks(ls.shutdown_hooks)


def workspace_root(params: types.InitializeParams) -> str | None:
    """The folder the project config file is looked up from: the first workspace folder, else the root."""
    uris = [folder.uri for folder in params.workspace_folders or ()] + [params.root_uri or ""]
    for uri in uris:
        if uri.startswith("file:"):
            return to_fs_path(uri)
    return params.root_path or None


def _run_hooks(hooks) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # one feature's failure must not stop the others
            log.exception("lifecycle hook %r failed", hook)


def _warm_up(backend: ModelBackend) -> str:
    """Load and run one token: llama.cpp's first decode after loading is many
    times slower than the next (buffers allocated, weights paged in)."""
    backend.generate(GenerationRequest(prompt=["\n"], max_tokens=1))
    return backend.name


# How often models are checked for idleness (their roles' idleUnloadSeconds).
IDLE_CHECK_S = 30.0


async def _unload_idle_models(server: TandemServer) -> None:
    """Give back the memory (VRAM on a laptop GPU) of models nobody used for a while.

    The next request loads the model again, with the loading status shown.
    """
    while True:
        await asyncio.sleep(IDLE_CHECK_S)
        try:
            await server.registry.unload_idle_models()
        except Exception:  # a failed check must not end the loop
            log.exception("unloading idle models failed")


async def _preload(server: TandemServer) -> None:
    async with work_done(server, "tandem: loading completion model") as report:
        try:
            name = await server.registry.run("completion", _warm_up)
            report(f"{name} ready", 100)
        except ModelError as exc:
            server.show_error(str(exc))
