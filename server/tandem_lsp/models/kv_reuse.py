"""Which part of the KV cache a new prompt can keep, when text was taken out before its end.

When the prefix window moves down by a stride (every 16 lines typed once a
file outgrows it), or a line above the cursor is deleted, the prompt loses
tokens near its start and everything after them would be evaluated again:
seconds on a laptop CPU for a window of 1,500 tokens. Those tokens are the
same, only at earlier positions: llama.cpp can move cached entries (RoPE
shift), the way its server's `--cache-reuse` does. The moved entries were
computed with the removed text in view: an approximation that server makes
too; the tokens after them (the cursor line and the answer) see only the new
prompt.

Only text taken out can be handled this way: llama.cpp accepts new tokens
only after the last cached position, so text inserted before a cached run
(a line added to the prefix) means evaluating that run again.

`plan` only reads token lists; the backend applies the plan to the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

# A moved chunk shorter than this is not worth the bookkeeping (and short runs
# match by chance).
MIN_CHUNK = 32


@dataclass(frozen=True)
class ReusePlan:
    keep: int  # tokens cached at the same positions (the common start)
    chunk_from: int  # then the cached tokens [chunk_from, chunk_from + chunk) ...
    chunk: int  # ... moved back to follow them (0: nothing moved)

    @property
    def shift(self) -> int:
        return self.keep - self.chunk_from

    @property
    def reused(self) -> int:
        return self.keep + self.chunk


def common_start(cached: Sequence[int], tokens: Sequence[int]) -> int:
    limit = min(len(cached), len(tokens))
    keep = 0
    while keep < limit and cached[keep] == tokens[keep]:
        keep += 1
    return keep


def plan(cached: Sequence[int], tokens: Sequence[int], movable: bool) -> ReusePlan:
    """How to bring a cache holding `cached` to `tokens`.

    The last prompt token is always evaluated (its logits start the answer).
    With `movable`, when the new prompt goes on after the common start with a
    run of the cached tokens found further on (text was taken out), that run
    moves back into place, when long enough.
    """
    keep = min(common_start(cached, tokens), len(tokens) - 1)
    nothing_moved = ReusePlan(keep, keep, 0)
    wanted = list(tokens[keep : keep + MIN_CHUNK])
    if not movable or len(wanted) < MIN_CHUNK or keep + MIN_CHUNK >= len(tokens):
        return nothing_moved
    old = list(cached)
    for start in range(keep + 1, len(old) - MIN_CHUNK + 1):
        if old[start] == wanted[0] and old[start : start + MIN_CHUNK] == wanted:
            size = MIN_CHUNK
            # Longer while it agrees, short of the last prompt token.
            while start + size < len(old) and keep + size < len(tokens) - 1 and old[start + size] == tokens[keep + size]:
                size += 1
            return ReusePlan(keep=keep, chunk_from=start, chunk=size)
    return nothing_moved
