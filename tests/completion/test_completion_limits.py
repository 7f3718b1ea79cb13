"""Output cut off by the time or token limit loses the line it was in the middle of."""

from tandem_lsp.completion.engine import without_unfinished_line


def test_an_unfinished_second_line_is_dropped():
    assert without_unfinished_line("for x in arr[k:]:\n        yield heapq.heappushpop(heap,") == "for x in arr[k:]:"


def test_a_lone_unfinished_first_line_stays():
    # The start of the line the user is writing: typing through it still works.
    assert without_unfinished_line("rest_subsets = powers") == "rest_subsets = powers"


def test_a_multi_line_suggestion_ends_before_the_first_unsure_later_line():
    from tandem_lsp.completion.engine import until_unsure_line

    text = "lines = []\n    for line in text:\n        lines.append(line)"
    assert until_unsure_line(text, [0.9, 0.5, 0.95], 0.7) == "lines = []"
    assert until_unsure_line(text, [0.9, 0.8, 0.95], 0.7) == text
    # The first line is the suggestion itself (the overall gate judges it), and 0 turns the cut off.
    assert until_unsure_line(text, [0.1, 0.5, 0.5], 0.0) == text
    assert until_unsure_line(text, [0.1, 0.9, 0.9], 0.7) == text


def test_line_confidences_follow_the_tokens_of_each_line():
    import math

    from tandem_lsp.completion.engine import line_confidences, suggestion_confidence
    from tandem_lsp.models.backend import GenerationResult

    # Output "    x = 1\n    y = 2\n" with the 4 healed spaces already typed by the user.
    result = GenerationResult(
        text="    x = 1\n    y = 2\n",
        stop_reason="eos",
        token_logprobs=[(5, math.log(0.5)), (9, math.log(0.5)), (10, 0.0), (19, math.log(0.25)), (20, 0.0)],
    )
    confidences = line_confidences(result, 4, "x = 1\n    y = 2")
    assert confidences == [0.5, 0.25]
    assert suggestion_confidence(confidences) == 0.5
