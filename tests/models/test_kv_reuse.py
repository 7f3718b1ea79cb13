"""Which cached tokens a changed prompt keeps (models/kv_reuse.py)."""

from __future__ import annotations

from tandem_lsp.models.kv_reuse import MIN_CHUNK, ReusePlan, Run, plan

HEAD = [1, 2, 3]  # e.g. the FIM prefix token
WINDOW = list(range(1000, 1100))  # the prefix window, and what follows it
BELOW = list(range(2000, 2080))  # lines below the cursor
TAIL = [7, 8, 9]


def test_text_taken_out_near_the_start_moves_the_rest_back_instead_of_evaluating_it():
    before = HEAD + [50, 51, 52, 53] + WINDOW + [9]  # the window moved down past four tokens
    after = HEAD + WINDOW + TAIL
    reuse = plan(before, after, movable=True)
    assert reuse == ReusePlan(keep=3, runs=(Run(old=7, new=3, size=len(WINDOW)),))
    assert reuse.reused == len(HEAD) + len(WINDOW)


def test_the_last_prompt_token_is_always_evaluated_again():
    tokens = HEAD + WINDOW
    assert plan(tokens, tokens, movable=True) == ReusePlan(len(tokens) - 1)
    # A moved run never reaches the last token: its logits start the answer.
    reuse = plan(HEAD + [50] + WINDOW, HEAD + WINDOW, movable=True)
    assert reuse.reused == len(HEAD + WINDOW) - 1


def test_a_new_place_in_the_file_reuses_its_lines_wherever_the_last_prompt_had_them():
    # Before: prefix WINDOW, suffix-marker 5, the lines below, middle-marker 6, the typed line.
    before = HEAD + WINDOW + [5] + BELOW + [6, 40, 41]
    # The cursor went down past the lines below: they are above it now, new text follows.
    after = HEAD + WINDOW[40:] + [40, 41] + BELOW + [5, 90, 91, 92, 6]
    reuse = plan(before, after, movable=True)
    assert reuse.keep == 3
    assert reuse.runs == (Run(old=3 + 40, new=3, size=60), Run(old=3 + len(WINDOW) + 1, new=3 + 60 + 2, size=len(BELOW)))
    assert len(after) - reuse.reused == 2 + 5  # the typed line's two tokens, the markers and the new text


def test_each_cached_token_is_placed_once():
    # The same run twice in the new prompt: the second copy is evaluated.
    before = HEAD + [50] + WINDOW + TAIL
    after = HEAD + WINDOW + WINDOW + TAIL
    reuse = plan(before, after, movable=True)
    assert reuse.runs == (Run(old=4, new=3, size=len(WINDOW)),)


def test_short_runs_and_backends_that_cannot_move_keep_only_the_common_start():
    short = WINDOW[: MIN_CHUNK - 1]
    assert plan(HEAD + [50] + short + [60, 61, 62], HEAD + short + TAIL, movable=True).runs == ()
    assert plan(HEAD + [50] + WINDOW + TAIL, HEAD + WINDOW + TAIL, movable=False) == ReusePlan(3)
    assert plan([], WINDOW, movable=True) == ReusePlan(0)
    # Text inserted before a cached run: the run is still found after it.
    inserted = plan(HEAD + WINDOW + TAIL, HEAD + [5, 6] + WINDOW + TAIL, movable=True)
    assert inserted.runs == (Run(old=3, new=5, size=len(WINDOW) + len(TAIL) - 1),)
