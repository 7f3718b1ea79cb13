"""The server with its features: the one list of what tandem offers over LSP."""

from __future__ import annotations

from typing import Any

from tandem_lsp.config import Settings
from tandem_lsp.lsp import commands_feature, completion_feature, index_feature, lifecycle_feature, log_handler, review_feature
from tandem_lsp.lsp.server import TandemServer, register_document_events

# Registered in this order, which is the order their hooks and document listeners run in.
FEATURES = (lifecycle_feature, completion_feature, commands_feature, index_feature, review_feature)


def create_server(settings: Settings | None = None, flags: dict[str, Any] | None = None, read_config_files: bool = False) -> TandemServer:
    server = TandemServer(settings, flags, read_config_files)
    register_document_events(server)
    for feature in FEATURES:
        feature.register(server)
    log_handler.attach(server)  # logs also go to the client (window/logMessage) once initialized
    return server
