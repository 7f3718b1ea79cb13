"""Cut a suggestion where the model starts looping on the same line."""

from __future__ import annotations

from tandem_lsp.completion.request import CompletionRequest

MAX_REPEATS = 2


def apply(request: CompletionRequest, text: str) -> str:
    lines = text.split("\n")
    kept: list[str] = []
    for line in lines:
        tail = kept[-MAX_REPEATS:]
        if line.strip() and len(tail) == MAX_REPEATS and all(previous.strip() == line.strip() for previous in tail):
            break
        kept.append(line)
    return "\n".join(kept)
