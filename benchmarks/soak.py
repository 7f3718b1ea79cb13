"""Soak: completions at typing speed (~30 % cancelled), reviews and disk changes, for minutes.

A user types real code into one buffer of a small workspace: words of a few
keys at 70-160 ms per key, then a pause. Every keystroke sends an inline
completion; about 30 % are cancelled 10-150 ms later (as an editor does when
the next key comes). Meanwhile a review runs every --review-every seconds and a
file of the workspace is rewritten, created or deleted on disk every few
seconds (the index follows the disk).

Prints the server's RSS (from /proc/<pid>/status) at start, middle and end,
p50/p95 latency per minute, requests answered and errors. Exits non-zero when
- any request went unanswered (no result and no error within --answer-timeout),
- RSS grew more than 10 % from the end of warm-up to the end,
- latency drifted upward: the median latency of the last third of the
  post-warm-up run is more than 50 % and more than 100 ms above that of the
  first third (thirds, not single minutes, and leaving out requests sent while
  a review held the model, so one slow review does not decide).

    python benchmarks/soak.py [--minutes 10] [--model PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_common import QWEN_05B, lsp_session, percentile, require_model, result_line, stdlib_files
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled

# Real code to type, and real files for the workspace around it.
TYPED = "textwrap.py"
WORKSPACE = ["shlex.py", "fnmatch.py", "glob.py", "colorsys.py", "bisect.py"]
CANCEL_SHARE = 0.3
RSS_LIMIT_PCT = 10.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    answered: int = 0
    cancelled: int = 0
    errors: int = 0
    unanswered: int = 0
    reviews: int = 0
    review_errors: int = 0
    disk_changes: int = 0
    server_log_errors: int = 0
    # (seconds since start, latency ms) of every answered, not cancelled request
    latencies: list[tuple[float, float]] = field(default_factory=list)
    # (start, end) seconds of each review: completions then wait for the one model worker
    review_spans: list[tuple[float, float]] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


async def one_request(session, tally: Tally, uri: str, line: int, character: int, cancel: bool, timeout: float) -> None:
    msg_id = f"soak-{tally.sent}"
    tally.sent += 1
    sent = time.monotonic()
    future = session.inline_task(uri, line, character, msg_id)
    if cancel:
        await asyncio.sleep(random.uniform(0.01, 0.15))
        if not future.done():
            session.cancel(msg_id)
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout)
        tally.answered += 1
        tally.latencies.append((sent - tally.started, (time.monotonic() - sent) * 1000))
    except JsonRpcRequestCancelled:
        tally.answered += 1
        tally.cancelled += 1
    except asyncio.TimeoutError:
        tally.unanswered += 1
        print(f"  unanswered: {msg_id} at {sent - tally.started:.0f}s", flush=True)
    except JsonRpcException as error:
        tally.answered += 1
        tally.errors += 1
        print(f"  error answer: {msg_id}: {error}", flush=True)


class Buffer:
    """The client's copy of the typed document and the cursor (line, column)."""

    def __init__(self, session, uri: str, source: str, opened_with: str = "") -> None:
        self.session, self.uri = session, uri
        self.source = source
        self.next_char = 0
        # Typing goes on at the end of what the document was opened with.
        self.line, self.column = opened_with.count("\n"), len(opened_with) - (opened_with.rfind("\n") + 1)

    def type_one(self) -> None:
        char = self.source[self.next_char % len(self.source)]
        self.next_char += 1
        self.session.insert(self.uri, self.line, self.column, char)
        if char == "\n":
            self.line, self.column = self.line + 1, 0
        else:
            self.column += 1


async def typing(session, tally: Tally, buffer: Buffer, until: float, args) -> list[asyncio.Task]:
    tasks: list[asyncio.Task] = []
    while time.monotonic() < until:
        for _ in range(random.randint(2, 8)):  # one word
            buffer.type_one()
            cancel = random.random() < CANCEL_SHARE
            tasks.append(asyncio.ensure_future(one_request(session, tally, buffer.uri, buffer.line, buffer.column, cancel, args.answer_timeout)))
            await asyncio.sleep(random.uniform(0.07, 0.16))
        await asyncio.sleep(random.uniform(0.3, 1.2))  # reading the suggestion
        tasks = [t for t in tasks if not t.done()]
    return tasks


async def reviewing(session, tally: Tally, buffer: Buffer, until: float, every: float) -> None:
    while time.monotonic() + every < until:
        await asyncio.sleep(every)
        began = tally.elapsed()
        try:
            await asyncio.wait_for(session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="tandem.review", arguments=[{"uri": buffer.uri}])), 300)
            tally.reviews += 1
        except (JsonRpcException, asyncio.TimeoutError) as error:
            tally.review_errors += 1
            print(f"  review failed: {error!r}", flush=True)
        tally.review_spans.append((began, tally.elapsed()))


async def disk_changes(tally: Tally, root: Path, sources: list[Path], until: float) -> None:
    made: list[Path] = []
    while time.monotonic() < until:
        await asyncio.sleep(random.uniform(2, 6))
        action = random.choice(["rewrite", "create", "delete"])
        if action == "create" or not made:
            target = root / f"generated_{tally.disk_changes}.py"
            shutil.copyfile(random.choice(sources), target)
            made.append(target)
        elif action == "delete":
            made.pop(random.randrange(len(made))).unlink(missing_ok=True)
        else:
            target = random.choice(made)
            target.write_text(target.read_text() + f"\n\ndef added_{tally.disk_changes}(value):\n    return value * 2\n")
        tally.disk_changes += 1


async def sample_rss(tally: Tally, pid: int, until: float) -> None:
    while time.monotonic() < until:
        tally.rss.append((tally.elapsed(), rss_kib(pid)))
        await asyncio.sleep(5)


async def drain_log(stream, tally: Tally, log_path: Path) -> None:
    """Read the server's stderr (a full pipe would stall it) and count logged errors."""
    with log_path.open("wb") as log:
        while line := await stream.readline():
            log.write(line)
            if line.startswith((b"ERROR", b"Traceback", b"CRITICAL")):
                tally.server_log_errors += 1


def minute_table(tally: Tally) -> list[tuple[int, int, float, float]]:
    rows = []
    minutes = int(max((t for t, _ in tally.latencies), default=0) // 60) + 1
    for minute in range(minutes):
        values = [ms for t, ms in tally.latencies if minute * 60 <= t < (minute + 1) * 60]
        rows.append((minute + 1, len(values), percentile(values, 50), percentile(values, 95)))
    return rows


def drifted(tally: Tally, warmup_s: float, end_s: float) -> tuple[bool, float, float]:
    """Requests sent while a review ran wait for it; they measure the review, not drift."""
    def calm(t: float) -> bool:
        return not any(start - 1 <= t <= end for start, end in tally.review_spans)

    span = (end_s - warmup_s) / 3
    first = [ms for t, ms in tally.latencies if warmup_s <= t < warmup_s + span and calm(t)]
    last = [ms for t, ms in tally.latencies if t >= end_s - span and calm(t)]
    if not first or not last:
        return False, 0.0, 0.0
    a, b = statistics.median(first), statistics.median(last)
    return (b > a * 1.5 and b - a > 100), a, b


def rss_growth(tally: Tally, warmup_s: float) -> tuple[float, int, int]:
    after = [kib for t, kib in tally.rss if t >= warmup_s]
    if len(after) < 2:
        return 0.0, 0, 0
    start = statistics.median(after[:3])
    end = statistics.median(after[-3:])
    return (end - start) / start * 100, int(start), int(end)


async def soak(args) -> int:
    model = require_model(Path(args.model).expanduser())
    root = Path(tempfile.mkdtemp(prefix="tandem-soak-"))
    sources = stdlib_files(WORKSPACE)
    for source in sources:
        shutil.copyfile(source, root / source.name)
    typed = stdlib_files([TYPED])[0].read_text()
    options = {
        "completionModel": {"path": str(model)},
        "completion": {"maxTokens": args.max_tokens},
        "review": {"maxTokens": args.review_tokens},
        "index": {"cacheDir": str(root / ".cache")},
    }
    duration = args.minutes * 60
    warmup_s = min(60.0, duration * 0.25)
    tally = Tally()
    async with lsp_session(options) as session:
        server = session.client._server
        log_task = asyncio.ensure_future(drain_log(server.stderr, tally, root / "server.log"))
        session.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=[types.WorkspaceFolder(uri=root.as_uri(), name="soak")], removed=[])))
        # The typed document starts as a whole module, so prompts are at their
        # full budget from the first minute: a growing document would make the
        # last third slower than the first by design, and hide or fake drift.
        opened_with = typed if typed.endswith("\n") else typed + "\n"
        uri = session.open(root / "typed.py", opened_with)
        buffer = Buffer(session, uri, typed, opened_with)
        await session.inline(uri, buffer.line, buffer.column)  # the model is loaded before the clock starts
        tally.started = time.monotonic()
        until = tally.started + duration
        rss_start = rss_kib(server.pid)
        print(f"server pid {server.pid}, RSS at start {rss_start / 1024:.0f} MiB; {args.minutes} min, warm-up {warmup_s:.0f}s", flush=True)
        side = [
            asyncio.ensure_future(reviewing(session, tally, buffer, until, args.review_every)),
            asyncio.ensure_future(disk_changes(tally, root, sources, until)),
            asyncio.ensure_future(sample_rss(tally, server.pid, until)),
        ]
        middle = asyncio.get_running_loop().call_later(duration / 2, lambda: print(
            f"RSS at middle {rss_kib(server.pid) / 1024:.0f} MiB ({tally.sent} requests so far)", flush=True))
        pending = await typing(session, tally, buffer, until, args)
        await asyncio.gather(*pending, *side, return_exceptions=True)
        middle.cancel()
        end_s = tally.elapsed()
        tally.rss.append((end_s, rss_kib(server.pid)))
        rss_end = tally.rss[-1][1]
        print(f"RSS at end {rss_end / 1024:.0f} MiB", flush=True)
        alive = server.returncode is None
        log_task.cancel()

    print(f"{'minute':>6} {'answers':>7} {'p50 ms':>8} {'p95 ms':>8}")
    rows = minute_table(tally)
    for minute, count, p50, p95 in rows:
        print(f"{minute:>6} {count:>7} {p50:>8.0f} {p95:>8.0f}")
    growth, after_warmup, end = rss_growth(tally, warmup_s)
    drift, first_third, last_third = drifted(tally, warmup_s, end_s)
    print(f"requests {tally.sent}, answered {tally.answered} ({tally.cancelled} cancelled, {tally.errors} errors), "
          f"unanswered {tally.unanswered}; reviews {tally.reviews} ({tally.review_errors} failed); "
          f"disk changes {tally.disk_changes}; server log errors {tally.server_log_errors} (log: {root / 'server.log'})")
    thirds = (f"first third {first_third:.0f} ms, last third {last_third:.0f} ms" if first_third and last_third
              else "too few requests outside reviews to compare (run longer)")
    print(f"RSS after warm-up {after_warmup / 1024:.0f} MiB -> end {end / 1024:.0f} MiB ({growth:+.1f} %); "
          f"median latency outside reviews: {thirds}")
    failures = []
    if tally.unanswered:
        failures.append(f"{tally.unanswered} requests unanswered")
    if not alive:
        failures.append("the server exited")
    if growth > RSS_LIMIT_PCT:
        failures.append(f"RSS grew {growth:.1f} % after warm-up")
    if drift:
        failures.append(f"latency drifted upward ({first_third:.0f} -> {last_third:.0f} ms)")
    for failure in failures:
        print(f"FAIL: {failure}")
    print(result_line(
        requests=tally.sent, unanswered=tally.unanswered, rss_growth_pct=round(growth, 1),
        p95_first_min_ms=round(rows[0][3]) if rows else 0, p95_last_min_ms=round(rows[-1][3]) if rows else 0,
        cancelled=tally.cancelled, errors=tally.errors, reviews=tally.reviews,
    ))
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--model", default=str(QWEN_05B))
    parser.add_argument("--review-every", type=float, default=45, help="seconds between reviews")
    parser.add_argument("--max-tokens", type=int, default=48, help="completion maxTokens")
    parser.add_argument("--review-tokens", type=int, default=256, help="review maxTokens")
    parser.add_argument("--answer-timeout", type=float, default=120, help="seconds before a request counts as unanswered")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    random.seed(args.seed)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
