"""Which parts of the KV cache a new prompt can keep, wherever they now stand in it.

A prompt at a new place in a file holds mostly text the last prompt held too,
cut and ordered differently: the prefix window moved down (text taken out at
its start), lines of the old suffix are now above the cursor, the line just
typed is no longer after the middle token. Everything after the first
difference would be evaluated again: seconds on a laptop CPU for a window of
1,500 tokens. Replayed on the nine moves to a new line of
benchmarks/pause_latency.py (0.5B's tokenizer, 13,005 prompt tokens), moving
one run after the common start left 9,235 tokens to evaluate; moving every run
found, 3,812, and four of the nine new places needed 20 or fewer.

llama.cpp can move cached entries to other positions (RoPE shift), as its
server's `--cache-reuse` does; the backend puts each run found here where the
new prompt has it, and evaluates only the tokens between runs. A moved entry
was computed with the old text before it in view: an approximation that
server makes too; the tokens evaluated after it, and the answer, see only the
new prompt.

`plan` only reads token lists; the backend applies the plan to the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

# A run shorter than this is not worth moving (and short runs match by chance).
MIN_CHUNK = 32
# Places a run may start that are tried per prompt position (repetitive text has many).
MAX_STARTS_TRIED = 8


@dataclass(frozen=True)
class Run:
    """Cached tokens [old, old + size) that the new prompt holds at [new, new + size)."""

    old: int
    new: int
    size: int


@dataclass(frozen=True)
class ReusePlan:
    keep: int  # tokens cached at the same positions (the common start)
    runs: tuple[Run, ...] = ()  # after it, in the new prompt's order; the tokens between them are evaluated

    @property
    def reused(self) -> int:
        """Tokens not evaluated again."""
        return self.keep + sum(run.size for run in self.runs)


def common_start(cached: Sequence[int], tokens: Sequence[int]) -> int:
    limit = min(len(cached), len(tokens))
    keep = 0
    while keep < limit and cached[keep] == tokens[keep]:
        keep += 1
    return keep


def plan(cached: Sequence[int], tokens: Sequence[int], movable: bool) -> ReusePlan:
    """How to bring a cache holding `cached` to `tokens`.

    The last prompt token is always evaluated (its logits start the answer).
    With `movable`, the new prompt after the common start is covered, from its
    start on, by the longest runs of cached tokens (each cached token used
    once) at least MIN_CHUNK long.
    """
    keep = min(common_start(cached, tokens), len(tokens) - 1)
    if not movable or keep < 0:
        return ReusePlan(max(keep, 0))
    last = len(tokens) - 1  # never covered
    starts: dict[tuple[int, ...], list[int]] = {}
    for start in range(keep, len(cached) - MIN_CHUNK + 1):
        starts.setdefault(tuple(cached[start : start + MIN_CHUNK]), []).append(start)
    used: list[tuple[int, int]] = []  # cached ranges already placed
    runs: list[Run] = []
    position = keep
    while position + MIN_CHUNK <= last:
        best_start, best_size = -1, 0
        for start in starts.get(tuple(tokens[position : position + MIN_CHUNK]), ())[:MAX_STARTS_TRIED]:
            size = 0
            while (
                start + size < len(cached)
                and position + size < last
                and cached[start + size] == tokens[position + size]
                and not _inside(start + size, used)
            ):
                size += 1
            if size > best_size:
                best_start, best_size = start, size
        if best_size >= MIN_CHUNK:
            runs.append(Run(best_start, position, best_size))
            used.append((best_start, best_start + best_size))
            position += best_size
        else:
            position += 1
    return ReusePlan(keep, tuple(runs))


def _inside(index: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= index < end for start, end in ranges)
