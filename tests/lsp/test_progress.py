"""The throttled progress reporter that indexing and model tasks share."""

from __future__ import annotations

from tandem_lsp.lsp.progress import ThrottledProgress


class _RecordingLoop:
    def __init__(self) -> None:
        self.reports: list[tuple] = []

    def call_soon_threadsafe(self, callback, *args) -> None:
        self.reports.append(args)


def test_reports_within_the_interval_are_dropped_but_the_final_one_shows() -> None:
    loop = _RecordingLoop()
    throttled = ThrottledProgress(lambda message, percentage: None, 60.0, loop)  # type: ignore[arg-type]
    throttled("1/3 files", 33)
    throttled("2/3 files", 66)
    throttled("3/3 files", 100, final=True)
    assert loop.reports == [("1/3 files", 33), ("3/3 files", 100)]
