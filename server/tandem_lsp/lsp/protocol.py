"""JSON-RPC protocol tweaks: every request gets an answer.

pygls 2.1 logs a request whose params fail to parse (e.g. a negative
position) and sends nothing back, so the editor waits forever. We answer such
a request with an InvalidParams error instead.
"""

from __future__ import annotations

import logging
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


class _Unparseable:
    """Stands in for a message that could not be read; handle_message skips it."""

    jsonrpc = ""


class TandemProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                log.warning("answering unparseable %s request %r with an error", data.get("method"), data.get("id"))
                if not isinstance(error, JsonRpcInvalidParams):
                    error = JsonRpcInvalidParams()
                self._send_response(data["id"], None, error.to_response_error())
            return _Unparseable()

    def handle_message(self, message):
        if isinstance(message, _Unparseable):
            return
        super().handle_message(message)
