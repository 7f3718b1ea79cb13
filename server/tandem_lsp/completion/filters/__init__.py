"""Post-processing of raw model output, one rule per module, applied in order.

Each filter is `apply(request, text) -> text`. The same rules that cut a
finished suggestion also stop a running generation early (`reached_end`), so
the model never spends tokens on text we would throw away.

The engine runs the pipeline at two moments (engine.py): on a generation, for
the request that started it (`cut_for_its_request`: what is checked, scored
and cached), and on every answer, for the request being answered
(`fit_to_request`: a cached or joined text read from a cursor the user may have
moved by typing through it). The rules are the same; the request differs. One
decision is not taken again: a span across lines in the middle of a line was
kept for the rest of the line its last line re-typed (limit_scope), and that
evidence is gone once trim_suffix_overlap has dropped it.
"""

from __future__ import annotations

from tandem_lsp.completion.filters import cut_at_fence, drop_blank, drop_repetition, insert_line_above, limit_scope, trim_suffix_overlap
from tandem_lsp.completion.request import CompletionRequest

PIPELINE = (cut_at_fence, drop_repetition, limit_scope, trim_suffix_overlap, drop_blank, insert_line_above)


def postprocess(request: CompletionRequest, raw: str) -> str:
    return _applied(PIPELINE, request, raw)


def _applied(rules: tuple, request: CompletionRequest, raw: str) -> str:
    text = raw
    for rule in rules:
        text = rule.apply(request, text)
        if not text:
            return ""
    return text


# The two moments the engine cuts text at (see above).
cut_for_its_request = postprocess


# A kept span is not cut again (see above).
_PIPELINE_FOR_A_KEPT_SPAN = tuple(rule for rule in PIPELINE if rule is not limit_scope)


def fit_to_request(request: CompletionRequest, text: str) -> str:
    return _applied(_PIPELINE_FOR_A_KEPT_SPAN if limit_scope.kept_span(request, text) else PIPELINE, request, text)


def reached_end(request: CompletionRequest, partial: str) -> bool:
    """True once the output so far already runs past where the suggestion ends."""
    return (
        cut_at_fence.cut_index(request, partial) is not None
        or limit_scope.cut_index(request, partial) is not None
        or trim_suffix_overlap.repeats_next_line(request, partial)
    )
