"""Separate a reasoning model's thinking from its answer.

Reasoning text (`<think>…</think>`) is shown to the user on request, never
pasted into code. Models differ: some open the block in the chat template and
emit only the closing tag; a truncated answer may leave a block open.
"""

from __future__ import annotations

import re

_BLOCK = re.compile(r"<(think|thinking|reasoning)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_CLOSE_ONLY = re.compile(r"^(.*?)</(think|thinking|reasoning)>", re.DOTALL | re.IGNORECASE)
_OPEN_ONLY = re.compile(r"<(think|thinking|reasoning)>(.*)$", re.DOTALL | re.IGNORECASE)


def split_reasoning(text: str) -> tuple[str, str]:
    """Return (answer, reasoning)."""
    thoughts: list[str] = []

    def keep(match: re.Match[str]) -> str:
        thoughts.append(match.group(2).strip())
        return ""

    answer = _BLOCK.sub(keep, text)
    # The template opened <think> for the model: only the closing tag is in the output.
    closed = _CLOSE_ONLY.match(answer)
    if closed:
        thoughts.insert(0, closed.group(1).strip())
        answer = answer[closed.end() :]
    # Cut off while still thinking: everything after the open tag is reasoning.
    opened = _OPEN_ONLY.search(answer)
    if opened:
        thoughts.append(opened.group(2).strip())
        answer = answer[: opened.start()]
    return answer.strip(), "\n\n".join(t for t in thoughts if t)
