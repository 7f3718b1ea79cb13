"""Server-side debounce that adapts to how fast the user types.

While keystrokes come faster than the wait, no generation starts: a burst of
typing costs one model call at its end. When the user types slowly, there is
no wait at all.
"""

from __future__ import annotations

import time


class AdaptiveDebounce:
    SMOOTHING = 0.3

    def __init__(self) -> None:
        self._last: float | None = None
        self._interval_s: float | None = None

    def note_keystroke(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self._last is not None:
            gap = now - self._last
            # Pauses longer than a second are not typing rhythm.
            if gap < 1.0:
                self._interval_s = gap if self._interval_s is None else (1 - self.SMOOTHING) * self._interval_s + self.SMOOTHING * gap
        self._last = now

    def delay_s(self, min_ms: int, max_ms: int) -> float:
        if self._interval_s is None:
            return min_ms / 1000
        # Wait a little longer than the typical gap between keys, within bounds.
        wanted = self._interval_s * 1.3
        if wanted > max_ms / 1000 * 2:
            # Slow typist: waiting would only add latency.
            return min_ms / 1000
        return max(min_ms / 1000, min(max_ms / 1000, wanted))
