"""Which cached tokens a changed prompt keeps (models/kv_reuse.py)."""

from __future__ import annotations

from tandem_lsp.models.kv_reuse import MIN_CHUNK, ReusePlan, plan

HEAD = [1, 2, 3]  # e.g. the FIM prefix token
WINDOW = list(range(1000, 1100))  # the prefix window, and what follows it
TAIL = [7, 8, 9]


def test_text_taken_out_near_the_start_moves_the_rest_back_instead_of_evaluating_it():
    before = HEAD + [50, 51, 52, 53] + WINDOW + [9]  # the window moved down past four tokens
    after = HEAD + WINDOW + TAIL
    reuse = plan(before, after, movable=True)
    assert reuse == ReusePlan(keep=3, chunk_from=7, chunk=len(WINDOW))
    assert reuse.shift == -4
    assert reuse.reused == len(HEAD) + len(WINDOW)


def test_the_last_prompt_token_is_always_evaluated_again():
    tokens = HEAD + WINDOW
    assert plan(tokens, tokens, movable=True) == ReusePlan(len(tokens) - 1, len(tokens) - 1, 0)
    # A moved run never reaches the last token: its logits start the answer.
    reuse = plan(HEAD + [50] + WINDOW, HEAD + WINDOW, movable=True)
    assert reuse.reused == len(HEAD + WINDOW) - 1


def test_inserted_text_short_runs_and_backends_that_cannot_move_keep_only_the_common_start():
    # llama.cpp takes new tokens only after the last cached position: an insertion cannot move the run after it.
    assert plan(HEAD + WINDOW + TAIL, HEAD + [5, 6] + WINDOW + TAIL, movable=True) == ReusePlan(3, 3, 0)
    short = WINDOW[: MIN_CHUNK - 1]
    assert plan(HEAD + [50] + short + [60, 61, 62], HEAD + short + TAIL, movable=True).chunk == 0
    assert plan(HEAD + [50] + WINDOW + TAIL, HEAD + WINDOW + TAIL, movable=False) == ReusePlan(3, 3, 0)
    assert plan([], WINDOW, movable=True) == ReusePlan(0, 0, 0)
