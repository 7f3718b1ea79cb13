"""HTTP to a model endpoint: small JSON requests, SSE streams, retries and readable errors.

Every generation streams (server-sent events). The response is read on a
helper thread and handed over through a queue, so a cancel or deadline stops
the caller at once, even while the server is still evaluating the prompt; the
reader then closes the connection, which tells the server to stop generating.
Nothing here knows what the server is (see http_backend.py).
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from typing import Any, Iterator

import httpx

from tandem_lsp.models.backend import Deadline, ModelError

CONNECT_TIMEOUT_S = 3.0
# A JSON answer (model list, props, tokens) is small; more means a broken endpoint.
MAX_JSON_ANSWER_BYTES = 4_000_000
# Waits between attempts when the server cannot be reached before any token.
RETRY_DELAYS_S = (0.1, 0.3, 0.8)
# Server starting up, overloaded or behind a restarting proxy.
_RETRY_STATUS = {502, 503, 504}
# How often the caller looks at cancel/deadline while no token arrives.
_POLL_S = 0.02


class StreamFailed(ModelError):
    """The stream broke; `received` events had arrived before it did."""

    def __init__(self, message: str, received: int) -> None:
        super().__init__(message)
        self.received = received


class Unreachable(ModelError):
    """The server could not be reached or did not answer in time (as opposed to answering an error)."""


class EndpointClient:
    """Requests to one model endpoint, with its API key, and errors worded for the user."""

    def __init__(self, endpoint: str, api_key_env: str, timeout_s: float, transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = endpoint
        self._api_key_env = api_key_env
        self._timeout_s = timeout_s
        headers = {"Accept": "text/event-stream, application/json"}
        key = os.environ.get(api_key_env, "") if api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(headers=headers, transport=transport, timeout=timeout_s, follow_redirects=True)

    # -- errors ---------------------------------------------------------------

    def network_message(self, exc: Exception, received: int) -> str:
        if received:
            return f"model endpoint {self.endpoint} closed the stream mid-answer ({type(exc).__name__}: {exc})"
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return f"cannot reach the model endpoint {self.endpoint} ({exc}); is the server running?"
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"model endpoint {self.endpoint} closed the connection without answering ({exc})"
        return f"model endpoint {self.endpoint} failed: {type(exc).__name__}: {exc}"

    def status_error(self, response: httpx.Response, url: str) -> ModelError:
        try:
            response.read()
            try:
                detail = _error_text(response.json())
            except ValueError:
                detail = response.text[:200]
        except httpx.HTTPError:
            detail = ""
        code = response.status_code
        if code in (401, 403):
            return ModelError(f"model endpoint {url} refused the request (HTTP {code}): check the API key "
                              f"in the environment variable {self._api_key_env or '(none set)'}")
        if code == 404:
            return ModelError(f"model endpoint has no {url} (HTTP 404): the endpoint usually ends in /v1 ({detail})")
        return ModelError(f"model endpoint {url} answered HTTP {code}: {detail}")

    # -- requests -------------------------------------------------------------

    def request_json(self, method: str, url: str, body: dict | None = None, timeout: float | None = None) -> Any:
        """A small non-streaming request. Raises Unreachable for network trouble, ModelError otherwise."""
        timeout = self._timeout_s if timeout is None else timeout
        # httpx's timeout is per read: an answer that trickles in forever would
        # never time out, so the whole read gets a wall-clock deadline and a size cap.
        end = time.monotonic() + timeout
        chunks: list[bytes] = []
        size = 0
        try:
            with self._client.stream(method, url, json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self.status_error(response, url)
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if time.monotonic() > end or size > MAX_JSON_ANSWER_BYTES:
                        raise Unreachable(f"model endpoint {url} did not finish its answer within {timeout:.0f} s")
        except httpx.HTTPError as exc:
            raise Unreachable(self.network_message(exc, 0)) from None
        text = b"".join(chunks)
        try:
            return json.loads(text)
        except ValueError:
            raise ModelError(f"model endpoint {url} answered with something that is not JSON: {text[:120]!r}") from None

    def stream(self, url: str, payload: dict, cancel: threading.Event, deadline: Deadline,
               max_time_s: float) -> Iterator[dict | str]:
        """Stream events; yields "cancelled" or "time" (then stops) when the caller must stop waiting."""
        reader = _StreamReader(self, url, payload, deadline, read_timeout_s=max(max_time_s, 1.0) + CONNECT_TIMEOUT_S)
        reader.start()
        try:
            while True:
                if cancel.is_set():
                    yield "cancelled"
                    return
                if deadline.passed():
                    yield "time"
                    return
                try:
                    item = reader.events.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if item is _StreamReader._END:
                    return
                if isinstance(item, ModelError):
                    raise item
                yield item
        finally:
            reader.stop.set()

    def close(self) -> None:
        self._client.close()


class _StreamReader(threading.Thread):
    """Sends one streaming POST and queues its SSE events (dicts), then a final marker.

    Retries connection failures and 502/503/504 answers with backoff, but only
    before any event arrived: a retried generation would repeat text.
    """

    _END = object()

    def __init__(self, endpoint: EndpointClient, url: str, payload: dict, deadline: Deadline, read_timeout_s: float) -> None:
        super().__init__(daemon=True, name="tandem-http-stream")
        self.events: queue.Queue[Any] = queue.Queue()
        self.stop = threading.Event()
        self._endpoint = endpoint
        self._url = url
        self._payload = payload
        self._deadline = deadline
        self._timeout = httpx.Timeout(CONNECT_TIMEOUT_S, read=read_timeout_s, write=CONNECT_TIMEOUT_S, pool=CONNECT_TIMEOUT_S)

    def run(self) -> None:
        received = 0
        failure: ModelError | None = None
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S)):
            if delay and (self.stop.wait(delay) or self._deadline.passed()):
                break
            try:
                with self._endpoint._client.stream("POST", self._url, json=self._payload, timeout=self._timeout) as response:
                    if response.status_code in _RETRY_STATUS and attempt < len(RETRY_DELAYS_S):
                        failure = self._endpoint.status_error(response, self._url)
                        continue
                    if response.status_code >= 400:
                        raise self._endpoint.status_error(response, self._url)
                    for event in _sse_events(response, self._url):
                        if self.stop.is_set():
                            break  # leaving the block closes the connection
                        received += 1
                        self.events.put(event)
                failure = None
                break
            except ModelError as exc:
                failure = StreamFailed(str(exc), received)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                failure = StreamFailed(self._endpoint.network_message(exc, received), received)
                if received:
                    break
            except httpx.ReadTimeout:
                failure = StreamFailed(f"model endpoint {self._url} sent nothing for {self._timeout.read:.0f}s", received)
                break
            except httpx.HTTPError as exc:
                failure = StreamFailed(self._endpoint.network_message(exc, received), received)
                break
        self.events.put(failure if failure is not None else self._END)


def _sse_events(response: httpx.Response, url: str) -> Iterator[dict]:
    """The JSON objects of an SSE stream (OpenAI style: `data: {...}` … `data: [DONE]`)."""
    for line in response.iter_lines():
        if not line or line.startswith(":") or line.startswith(("event:", "id:", "retry:")):
            continue
        field, _, data = line.partition(":")
        data = data.strip()
        if field not in ("data", "error"):
            raise ModelError(f"model endpoint {url} sent something that is not a server-sent event: {line[:120]!r}")
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError:
            raise ModelError(f"model endpoint {url} sent unreadable stream data: {data[:120]!r}") from None
        if field == "error" or (isinstance(event, dict) and event.get("error")):
            raise ModelError(f"model endpoint {url} reported an error: {_error_text(event)}")
        if not isinstance(event, dict):
            raise ModelError(f"model endpoint {url} sent unexpected stream data: {data[:120]!r}")
        yield event


def _error_text(body: Any) -> str:
    """The human part of an error answer from any of the usual servers."""
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body))
        if isinstance(err, dict):
            return str(err.get("message") or err.get("msg") or err)
        if isinstance(err, list) and err and isinstance(err[0], dict):  # FastAPI validation errors
            return "; ".join(f"{'.'.join(map(str, e.get('loc', [])))}: {e.get('msg', '')}" for e in err[:3])
        return str(err)
    return str(body)
