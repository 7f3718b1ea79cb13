"""The tandem language server: state shared by the feature modules, and start-up.

Each LSP feature lives in its own module with a `register(server)` function;
lsp/app.py lists them and builds the server. Features import this module, never
the other way round: a feature that others use is a declared attribute here
(`index`), set by its register(). Document notifications (open/change/save/close)
are registered once here and fanned out to listeners, so several features can
follow document changes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from tandem_lsp import __version__
from tandem_lsp.completion.engine import CompletionEngine
from tandem_lsp.config import Settings, parse_settings
from tandem_lsp.lsp.protocol import TandemProtocol
from tandem_lsp.models.registry import ModelRegistry

if TYPE_CHECKING:  # for the attributes' types only: features import this module
    from tandem_lsp.lsp.index_feature import IndexService

log = logging.getLogger(__name__)


class DocumentListener(Protocol):
    def __call__(self, event: str, document: TextDocument, params: Any) -> None:
        """`event` is "open", "change", "save" or "close"."""


SettingsLayer = Literal["initialization", "client", "override"]
SETTINGS_LAYERS: tuple[SettingsLayer, ...] = ("initialization", "client", "override")


@dataclass
class StatusReport:
    state: str = "ready"
    message: str = ""
    shown_errors: set[str] = field(default_factory=set)


class TandemServer(LanguageServer):
    def __init__(self, settings: Settings | None = None, flags: dict[str, Any] | None = None, read_config_files: bool = False) -> None:
        super().__init__(
            "tandem-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=TandemProtocol,
        )
        # Below the client's settings: the defaults, then (read at initialize, when
        # the workspace root is known) the user and project config files.
        self.defaults = settings or Settings()
        self.base_settings = self.defaults
        # The command line's settings (camelCase changes): on top of every other layer.
        self.flags: dict[str, Any] = flags or {}
        self.read_config_files = read_config_files
        self.config_files: list[str] = []
        self.settings = self.base_settings.merged(self.flags)
        self._settings_layers: dict[SettingsLayer, Any] = {}
        self.registry = ModelRegistry(self.settings, on_loading=self._model_loading)
        self.engine = CompletionEngine(self.registry, lambda: self.settings.completion, on_error=self.show_error)
        self.document_listeners: list[DocumentListener] = []
        self.settings_listeners: list[Callable[[Settings], None]] = []
        # Run during `initialize`, before capabilities are computed: features that
        # depend on what the client supports register themselves here.
        self.initialize_hooks: list[Callable[[types.InitializeParams], None]] = []
        # Run on the event loop after `initialized` and at `shutdown`.
        self.initialized_hooks: list[Callable[[], None]] = []
        self.shutdown_hooks: list[Callable[[], None]] = []
        self.status = StatusReport()
        self.loop: asyncio.AbstractEventLoop | None = None
        # The workspace index, set by index_feature.register (None in a server without that feature).
        self.index: IndexService | None = None

    # -- settings -------------------------------------------------------------

    def apply_settings(self, raw: Any, layer: SettingsLayer = "client") -> None:
        """Replace one layer of settings and recompute the settings in force.

        In force (see config_files for the whole precedence): the base (defaults <
        user file < project file) with, on top and in this order,
        initializationOptions, the client's configuration (didChangeConfiguration),
        runtime overrides (tandem.toggle) and, last, the command-line flags. An
        update replaces its layer whole, so a key the user removed goes back to
        what is below it, without a restart. An invalid update is reported and
        leaves its layer as it was.
        """
        _, error = parse_settings(raw, self.base_settings)
        if error:
            self.show_error(error)
            return
        self._settings_layers[layer] = raw
        self._recompute_settings()

    def load_config_files(self, root: str | None) -> None:
        """Read the user file and the project file for the workspace `root` as the new base.

        A file that cannot be used is reported once and left out; the server goes on.
        """
        from tandem_lsp.config_files import load_settings

        loaded = load_settings(root, self.defaults)
        self.config_files = [str(path) for path in loaded.files]
        for error in loaded.errors:
            self.show_error(error)
        self.base_settings = loaded.settings
        self._recompute_settings()

    def _recompute_settings(self) -> None:
        settings = self.base_settings
        for name in SETTINGS_LAYERS:
            settings, _ = parse_settings(self._settings_layers.get(name), settings)
        settings = settings.merged(self.flags)
        if settings != self.settings:
            logging.getLogger("tandem_lsp").setLevel(settings.log_level.upper())
            self.settings = settings
            self.registry.update_settings(settings)
            self.engine.clear_cache()
            self.status.shown_errors.clear()
            for listener in self.settings_listeners:
                listener(settings)

    # -- telling the user -----------------------------------------------------

    def show_error(self, message: str) -> None:
        """Show an error once (not on every keystroke) and keep it in the status."""
        self.set_status("error", message)
        if message in self.status.shown_errors:
            return
        self.status.shown_errors.add(message)
        log.error("%s", message)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"tandem: {message}"))

    def set_status(self, state: str, message: str = "") -> None:
        self.status.state, self.status.message = state, message
        self.protocol.notify("tandem/status", {"state": state, "message": message})

    def _model_loading(self, role: str, where: str, starting: bool) -> None:
        """Called on the model worker thread; hop to the event loop."""
        if self.loop is None:
            return
        text = f"loading {role} model {where.rsplit('/', 1)[-1]}"
        self.loop.call_soon_threadsafe(lambda: self.set_status("loading", text) if starting else self._loaded())

    def _loaded(self) -> None:
        if self.status.state == "loading":
            self.set_status("ready")

    # -- documents ------------------------------------------------------------

    def open_document(self, uri: str) -> TextDocument | None:
        """An open document, or None for a URI the client never opened."""
        return self.workspace.text_documents.get(uri)

    def notify_documents(self, event: str, uri: str, params: Any) -> None:
        document = self.open_document(uri)
        if document is None and event != "close":
            return
        for listener in self.document_listeners:
            try:
                listener(event, document, params)
            except Exception:  # one feature's bug must not break the others
                log.exception("document listener failed on %s", event)


_DOCUMENT_EVENTS = {
    types.TEXT_DOCUMENT_DID_OPEN: "open",
    types.TEXT_DOCUMENT_DID_CHANGE: "change",
    types.TEXT_DOCUMENT_DID_SAVE: "save",
    types.TEXT_DOCUMENT_DID_CLOSE: "close",
}


def register_document_events(server: TandemServer) -> None:
    # pygls has already applied the change to its workspace when these run.
    for method, event in _DOCUMENT_EVENTS.items():

        def forward(ls: TandemServer, params: Any, event: str = event) -> None:
            ls.notify_documents(event, params.text_document.uri, params)

        server.feature(method)(forward)

