"""Completion figures kept in memory only: latency, cache hits, tokens, acceptance."""

from __future__ import annotations

import statistics
from collections import Counter, deque
from dataclasses import dataclass, field

HISTORY = 2000


@dataclass
class CompletionStats:
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    prompt_tokens: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    evaluated_tokens: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    sources: Counter = field(default_factory=Counter)
    requests: int = 0
    model_calls: int = 0
    cancelled_generations: int = 0
    shown: int = 0
    accepted: int = 0

    def record_answer(self, latency_ms: float, source: str) -> None:
        self.latencies_ms.append(latency_ms)
        self.sources[source] += 1

    def record_generation(self, prompt_tokens: int, evaluated: int, cancelled: bool) -> None:
        self.model_calls += 1
        self.prompt_tokens.append(prompt_tokens)
        self.evaluated_tokens.append(evaluated)
        if cancelled:
            self.cancelled_generations += 1

    def snapshot(self) -> dict:
        latencies = sorted(self.latencies_ms)
        answered = sum(self.sources.values())
        hits = self.sources["cache"] + self.sources["inflight"]
        return {
            "requests": self.requests,
            "answered": answered,
            "p50Ms": _percentile(latencies, 50),
            "p95Ms": _percentile(latencies, 95),
            "cacheHitRate": round(hits / answered, 3) if answered else 0.0,
            "sources": dict(self.sources),
            "modelCalls": self.model_calls,
            "cancelledGenerations": self.cancelled_generations,
            "promptTokensPerCall": round(statistics.fmean(self.prompt_tokens), 1) if self.prompt_tokens else 0.0,
            "evaluatedTokensPerCall": round(statistics.fmean(self.evaluated_tokens), 1) if self.evaluated_tokens else 0.0,
            "shown": self.shown,
            "accepted": self.accepted,
            "acceptanceRate": round(self.accepted / self.shown, 3) if self.shown else 0.0,
        }


def _percentile(sorted_values: list[float], percent: int) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(percent / 100 * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[index], 1)
