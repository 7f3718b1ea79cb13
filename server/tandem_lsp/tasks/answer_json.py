"""Reading model answers: the JSON in them, salvage of odd or truncated ones, and coercion of
loosely shaped findings to types (`RawFinding`). Never raises; checking a finding against the
document is tasks/findings.py's job.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from tandem_lsp.models.reasoning import split_reasoning

Severity = Literal["error", "warning", "info", "hint"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info", "hint")
_SEVERITY_WORDS = {"critical": "error", "bug": "error", "high": "error", "medium": "warning", "low": "info",
                   "style": "hint", "note": "info", "suggestion": "hint", "information": "info"}


@dataclass
class RawFinding:
    """One finding as the model wrote it, coerced to types but not yet checked."""

    line: int  # 1-based as cited
    end_line: int
    severity: Severity
    message: str
    replacement: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


FENCE = re.compile(r"^```[\w+-]*\n?|\n?```\s*$")


def load_json(text: str) -> Any:
    """The JSON value in a model answer, or None. Tolerates fences, prose and truncation."""
    answer, _ = split_reasoning(text)
    answer = FENCE.sub("", answer.strip())
    try:
        return json.loads(answer)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for index, char in enumerate(answer):
        if char in "{[":
            try:
                return decoder.raw_decode(answer, index)[0]
            except ValueError:
                continue
    return None


def salvage_objects(text: str) -> list[dict]:
    """Every complete JSON object in `text` that looks like a finding (for truncated answers)."""
    decoder = json.JSONDecoder()
    found: list[dict] = []
    end = 0
    for index, char in enumerate(text):
        if char != "{" or index < end:
            continue
        try:
            value, stop = decoder.raw_decode(text, index)
        except ValueError:
            continue
        if isinstance(value, dict) and "message" in value:
            found.append(value)
            end = stop
    return found


def as_line(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        match = re.search(r"\d+", value)
        return int(match.group()) if match else None
    return None


def _as_severity(value: Any) -> Severity:
    word = str(value or "").strip().lower()
    if word in SEVERITIES:
        return word  # type: ignore[return-value]
    return _SEVERITY_WORDS.get(word, "warning")  # type: ignore[return-value]


def coerce_finding(item: Any) -> RawFinding | None:
    """A finding from a loosely shaped dict, or None when it has no line or message."""
    if not isinstance(item, dict):
        return None
    line = as_line(item.get("line", item.get("start_line", item.get("lineNumber"))))
    message = item.get("message", item.get("description", item.get("issue")))
    if line is None or not isinstance(message, str) or not message.strip():
        return None
    end_line = as_line(item.get("end_line", item.get("endLine")))
    if isinstance(item.get("line"), str) and end_line is None:
        # "12-14" in a line field.
        numbers = re.findall(r"\d+", item["line"])
        end_line = int(numbers[1]) if len(numbers) > 1 else None
    replacement = item.get("replacement", item.get("fix"))
    return RawFinding(
        line=line,
        end_line=end_line if end_line is not None else line,
        severity=_as_severity(item.get("severity")),
        message=message.strip(),
        replacement=replacement if isinstance(replacement, str) else None,
        extra={k: v for k, v in item.items() if k not in {"line", "end_line", "severity", "message", "replacement"}},
    )


def read_findings(text: str, key: str = "findings") -> tuple[list[RawFinding], bool]:
    """Findings from a model answer, and whether it held any JSON we could read at all
    ("no findings" and "unreadable" differ). Never raises, salvages what it can."""
    value = load_json(text)
    items: Iterable[Any]
    if isinstance(value, dict) and isinstance(value.get(key), list):
        items = value[key]
    elif isinstance(value, list):
        items = value
    elif isinstance(value, dict) and "message" in value:
        items = [value]
    else:
        items = salvage_objects(split_reasoning(text)[0])
    readable = value is not None or bool(items)
    return [finding for finding in (coerce_finding(item) for item in items) if finding is not None], readable
