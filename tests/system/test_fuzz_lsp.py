"""Property-based fuzzing of the LSP surface over one real stdio server per test.

Hypothesis draws sequences of document edits (valid, past-the-end, inside
multi-byte characters, overlapping, CRLF), completions at random positions,
code actions on random ranges, unknown methods, malformed JSON bodies and
wrongly typed params. Invariants, checked after every step:
- every request gets an answer (a result or an error) within a timeout;
- the process stays up;
- the server's text of each document equals the client's model of it.

The server's text is read through an observable, not a debug request: with a
scripted model that has no FIM tokens (prompts are prefix-only, as for the
embedded SmolLM2) and cannot be made to re-type text (no token healing), no
workspace index and the cache off, an inline completion at the very end of a
document makes `tandem/lastPrompt` exactly the document's text after a
code-fence line, less one space at the very end (the prompt leaves that to the
model). The real server runs; only its model is scripted.

The client model of an edit (`apply_edit` below) is the protocol's rule for
invalid positions, as VS Code applies it:
- lines end at "\\n", "\\r\\n" or "\\r" only (the protocol's line endings);
- a line past the last one means the end of the document;
- a column past the end of its line is the end of the line (before its line break);
- a column inside a character (the middle of a UTF-8 sequence or a UTF-16
  surrogate pair) moves to the end of that character;
- a range whose end comes before its start is the same range with its ends swapped;
- a change with a negative position is invalid JSON-RPC params: the whole
  notification is dropped;
- the changes of one didChange apply one after another, each to the text the
  previous one left (so overlapping ranges are fine).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from fakes import Reply, Script
from lsp_session import raw_request, scripted_session, send_raw
from pygls.exceptions import JsonRpcException

# Cheap model calls: a few tokens, no speculative next suggestion, no cache (every
# read of the text must build a fresh prompt), no debounce, no cross-file context.
INIT_OPTIONS = {
    "completion": {"maxTokens": 2, "prefetch": False, "cache": False, "debounceMinMs": 0, "debounceMaxMs": 0},
    "index": {"enabled": False},
}
ANSWER_TIMEOUT = 30
# Prefix-only, and two "tokens" of answer.
MODEL = Script(replies=[Reply(["x", "y"])], fim="none")
# More for a long hunt: TANDEM_FUZZ_EXAMPLES=500 pytest tests/system/test_fuzz_lsp.py
EXAMPLES = int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "40"))

# Characters of every UTF-8 length (1-4 bytes; the last is a UTF-16 surrogate pair) and line breaks.
PIECES = ["a", "b", "x", " ", "(", ")", "é", "中", "😋", "\t", "\n", "\r\n", "\r"]
# Characters str.splitlines() breaks at but the protocol does not (form feed, NEL, U+2028).
PIECES += ["\x0c", "\x85", "\u2028"]
text_strategy = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def lsp_lines(text: str) -> list[str]:
    """Lines as the protocol counts them, each with its line break."""
    return _LINE.findall(text)


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


def offset_of(text: str, line: int, character: int, encoding: str) -> int:
    """The client model's offset (in code points) of a non-negative position."""
    lines = lsp_lines(text)
    if line >= len(lines):
        return len(text)
    start = sum(len(x) for x in lines[:line])
    content = lines[line].rstrip("\r\n")
    used = 0
    for index, char in enumerate(content):
        if used >= character:
            return start + index
        used += units(char, encoding)
    return start + len(content)


def apply_edit(text: str, change: dict, encoding: str) -> str:
    if "range" not in change:
        return change["text"]
    start, end = change["range"]["start"], change["range"]["end"]
    a = offset_of(text, start["line"], start["character"], encoding)
    b = offset_of(text, end["line"], end["character"], encoding)
    a, b = min(a, b), max(a, b)
    return text[:a] + change["text"] + text[b:]


def end_position(text: str, encoding: str) -> dict:
    lines = lsp_lines(text)
    if not lines:
        return {"line": 0, "character": 0}
    last = lines[-1]
    if last.endswith(("\n", "\r")):
        return {"line": len(lines), "character": 0}
    return {"line": len(lines) - 1, "character": units(last, encoding)}


# The prefix-only prompt opens a code fence in the document's language.
FENCE = "```python\n"


def prompt_of(text: str) -> str:
    """The prompt for a cursor at the end of `text`: inside a Python code fence,
    less the last space typed before the cursor (the model writes it itself)."""
    return FENCE + (text[:-1] if text.endswith(" ") else text)


# -- drawing positions --------------------------------------------------------

@st.composite
def any_position(draw, text: str, encoding: str, allow_negative: bool) -> dict:
    """Anywhere: on or past the last line, at or past the end of a line, inside characters."""
    lines = lsp_lines(text)
    longest = max((units(x, encoding) for x in lines), default=0)
    line = draw(st.integers(0, len(lines) + 3))
    character = draw(st.integers(0, longest + 6))
    if allow_negative and draw(st.integers(0, 9)) == 0:
        line, character = draw(st.sampled_from([(-1, character), (line, -1), (-2, -3)]))
    return {"line": line, "character": character}


@st.composite
def edit_position(draw, text: str, encoding: str) -> dict:
    """A position for an edit: any line (past the last one too), any column (past its
    line's end too, inside multi-byte characters too), mostly near real text."""
    lines = lsp_lines(text)
    line = draw(st.integers(0, len(lines) + 2))
    width = units(lines[line].rstrip("\r\n"), encoding) if line < len(lines) else 0
    return {"line": line, "character": draw(st.one_of(st.integers(0, width), st.integers(0, width + 4)))}


@st.composite
def change_strategy(draw, text: str, encoding: str) -> dict:
    if draw(st.integers(0, 4)) == 0:
        return {"text": draw(text_strategy)}  # a full-text change
    start, end = draw(edit_position(text, encoding)), draw(edit_position(text, encoding))
    return {"range": {"start": start, "end": end}, "text": draw(text_strategy)}  # reversed ones too


@st.composite
def changes_strategy(draw, text: str, encoding: str) -> list[dict]:
    """One didChange: up to three changes, each drawn against the text the previous left."""
    changes = []
    for _ in range(draw(st.integers(1, 3))):
        change = draw(change_strategy(text, encoding))
        changes.append(change)
        text = apply_edit(text, change, encoding)
    return changes


MALFORMED_BODIES = [
    b"{",
    b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ",
    b"not json at all",
    b"[1, 2, 3]",
    b"\"a string\"",
    b"null",
    b"{}",
    b"{\"jsonrpc\": \"2.0\"}",
    b"{\"jsonrpc\": \"2.0\", \"method\": 42}",
    b"{\"jsonrpc\": \"2.0\", \"method\": \"textDocument/didChange\", \"params\": 7}",
    b"{\"jsonrpc\": \"2.0\", \"method\": \"textDocument/didOpen\", \"params\": {\"textDocument\": null}}",
    b"\xff\xfe\x00garbage\x80",
    "{\"jsonrpc\": \"2.0\", \"method\": \"$/unknown\", \"params\": \"é中😋\"}".encode(),
]

WRONG_PARAMS = [
    ("textDocument/inlineCompletion", {"textDocument": {"uri": 42}, "position": "here"}),
    ("textDocument/inlineCompletion", {"position": {"line": 0, "character": 0}}),
    ("textDocument/completion", None),
    ("textDocument/completion", [1, 2]),
    ("textDocument/codeAction", {"textDocument": {"uri": "file:///x.py"}, "range": {"start": 1, "end": 2}}),
    ("textDocument/codeAction", {"textDocument": {}, "range": None, "context": {"diagnostics": "no"}}),
    ("workspace/executeCommand", {"command": 12, "arguments": "x"}),
    ("workspace/executeCommand", {"command": "tandem.review", "arguments": [{"uri": 5}]}),
    # (A truthy "enabled": the toggle must leave completions on for the text reads.)
    ("workspace/executeCommand", {"command": "tandem.toggle", "arguments": [{"enabled": [1]}]}),
    ("codeAction/resolve", {"title": None}),
    ("workspace/symbol", {"query": {"not": "a string"}}),
]


def write_body(client, body: bytes) -> None:
    """A message with a correct Content-Length header and any body at all."""
    client.protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)


# -- the session under test ---------------------------------------------------

class FuzzSession:
    def __init__(self, client, encoding: str, folder: Path) -> None:
        self.client = client
        self.encoding = encoding
        self.folder = folder
        self.ids = itertools.count()
        self.versions: dict[str, int] = {}
        self.requests = 0
        # Classic completion is offered only to clients without inline completion.
        self.classic_completion = False

    def next_id(self, kind: str) -> str:
        return f"fuzz-{kind}-{next(self.ids)}"

    async def request(self, method: str, params) -> object:
        """Any answer is fine (a result or an error); no answer fails the test."""
        self.requests += 1
        try:
            return await raw_request(self.client, method, params, self.next_id("req"), timeout=ANSWER_TIMEOUT)
        except JsonRpcException as error:
            return error
        except asyncio.TimeoutError:
            pytest.fail(f"no answer to {method} {json.dumps(params)[:300]} within {ANSWER_TIMEOUT}s")

    def notify(self, method: str, params) -> None:
        send_raw(self.client, {"jsonrpc": "2.0", "method": method, "params": params})

    async def server_text(self, uri: str, expected: str) -> str:
        """The document's text as the server holds it (see the module docstring)."""
        params = {"textDocument": {"uri": uri}, "position": end_position(expected, self.encoding), "context": {"triggerKind": 1}}
        answer = await self.request("textDocument/inlineCompletion", params)
        assert not isinstance(answer, Exception), f"completion at the end failed: {answer}"
        last = await self.request("tandem/lastPrompt", None)
        assert not isinstance(last, Exception), last
        return last["prompt"] if isinstance(last, dict) else last.prompt

    async def check_text(self, uri: str, expected: str, history: list) -> None:
        got = await self.server_text(uri, expected)
        expected = prompt_of(expected)
        assert got == expected, f"server text differs after {history!r}:\nserver {got!r}\nclient {expected!r}"


async def run_example(session: FuzzSession, data, doc_id: int) -> None:
    encoding = session.encoding
    uri = (session.folder / f"doc{doc_id}.py").as_uri()
    text = data.draw(text_strategy, label="initial text")
    session.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
    version = 1
    history: list = [("open", text)]
    await session.check_text(uri, text, history)
    steps = data.draw(st.integers(1, 6), label="steps")
    for _ in range(steps):
        kind = data.draw(st.sampled_from(["change", "change", "change", "inline", "completion", "codeAction", "unknown", "malformed", "wrong"]))
        if kind == "change":
            changes = data.draw(changes_strategy(text, encoding), label="changes")
            if data.draw(st.booleans(), label="negative") and data.draw(st.booleans()):
                # An invalid position: the whole notification is dropped.
                changes = changes + [{"range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "!"}]
            else:
                for change in changes:
                    text = apply_edit(text, change, encoding)
            version += 1
            history.append(("change", changes))
            session.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes})
            await session.check_text(uri, text, history)
        elif kind in ("inline", "completion"):
            position = data.draw(any_position(text, encoding, allow_negative=True), label="position")
            method = "textDocument/inlineCompletion" if kind == "inline" else "textDocument/completion"
            params = {"textDocument": {"uri": uri}, "position": position}
            if kind == "inline":
                params["context"] = {"triggerKind": data.draw(st.sampled_from([1, 2]))}
            answer = await session.request(method, params)
            offered = kind == "inline" or session.classic_completion
            if offered and position["line"] >= 0 and position["character"] >= 0:
                assert not isinstance(answer, Exception), f"{method} at {position} failed: {answer}"
            history.append((kind, position))
        elif kind == "codeAction":
            start = data.draw(any_position(text, encoding, allow_negative=True))
            end = data.draw(any_position(text, encoding, allow_negative=True))
            answer = await session.request(
                "textDocument/codeAction",
                {"textDocument": {"uri": uri}, "range": {"start": start, "end": end}, "context": {"diagnostics": []}},
            )
            if min(start["line"], start["character"], end["line"], end["character"]) >= 0:
                assert not isinstance(answer, Exception), f"codeAction {start}-{end} failed: {answer}"
            history.append(("codeAction", start, end))
        elif kind == "unknown":
            name = data.draw(st.sampled_from(["tandem/nope", "textDocument/frobnicate", "$/whatever", "", "rpc.x"]))
            answer = await session.request(name, {"x": 1})
            assert isinstance(answer, Exception), f"unknown method {name!r} answered {answer!r}"
            history.append(("unknown", name))
        elif kind == "malformed":
            body = data.draw(st.sampled_from(MALFORMED_BODIES))
            write_body(session.client, body)
            history.append(("malformed", body))
        else:
            method, params = data.draw(st.sampled_from(WRONG_PARAMS))
            await session.request(method, params)
            history.append(("wrong", method))
    session.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def _fuzz(encoding: str, tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    context = scripted_session(tmp_path / "server", MODEL, INIT_OPTIONS, encodings=[encoding])
    try:
        client, server = loop.run_until_complete(context.__aenter__())
        assert server.capabilities.position_encoding == encoding
        session = FuzzSession(client, encoding, tmp_path)
        session.classic_completion = server.capabilities.completion_provider is not None
        doc_ids = itertools.count()
        # An empty document: still an answer, no error.
        empty = (tmp_path / "empty.py").as_uri()
        session.notify("textDocument/didOpen", {"textDocument": {"uri": empty, "languageId": "python", "version": 1, "text": ""}})
        loop.run_until_complete(session.check_text(empty, "", [("open", "")]))

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def example(data) -> None:
            loop.run_until_complete(run_example(session, data, next(doc_ids)))

        example()
        print(f"{encoding}: {EXAMPLES} examples, {session.requests} requests answered")
        # Still up, still answering after everything.
        stats = loop.run_until_complete(session.request("tandem/stats", None))
        assert not isinstance(stats, Exception) and stats.completion.requests > 0
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_fuzzed_lsp_traffic_keeps_answers_and_text_in_sync(encoding: str, tmp_path: Path) -> None:
    _fuzz(encoding, tmp_path)


# Edits the protocol defines but pygls 2.1's TextDocument applied elsewhere (found by
# this fuzzer, fixed by lsp/text_sync.py). Each is (text, start, end, new text) in UTF-16 columns.
EDGE_CASES = [
    ("a", (0, 1), (0, 0), "b"),  # reversed range: pygls writes "aba"
    ("ab\ncd", (1, 0), (0, 1), "X"),  # reversed across lines: pygls drops the change
    ("abc", (0, 9), (0, 9), "X"),  # past the end of the last line: pygls gives "abXc"
    ("abc\ndef", (0, 4), (0, 4), "X"),  # one past a line's end: pygls puts it after the "\n"
    ("abc\r\ndef", (0, 4), (0, 4), "X"),  # ... and between "\r" and "\n"
    ("a\x0cb\nc", (1, 0), (1, 0), "X"),  # form feed is no line break: pygls's str.splitlines says it is
    ("s = 'a\u2028b'\nc", (1, 0), (1, 1), "X"),  # nor is U+2028 (legal inside JS/Python strings)
    ("a\x85b\nc", (1, 0), (1, 0), "X"),  # nor NEL
]


async def test_edits_outside_lines_follow_the_protocol(tmp_path: Path) -> None:
    async with scripted_session(tmp_path / "server", MODEL, INIT_OPTIONS, encodings=["utf-16"]) as (client, _):
        session = FuzzSession(client, "utf-16", tmp_path)
        wrong = []
        for number, (text, start, end, new) in enumerate(EDGE_CASES):
            uri = (tmp_path / f"edge{number}.py").as_uri()
            session.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
            change = {"range": {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}, "text": new}
            session.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]})
            expected = apply_edit(text, change, "utf-16")
            got = await session.server_text(uri, expected)
            if got != prompt_of(expected):
                wrong.append(f"{text!r} {start}-{end} {new!r}: server {got!r} (up to the client's end), protocol {expected!r}")
        assert not wrong, "\n".join(wrong)
