"""Output cut off by the time or token limit loses the line it was in the middle of."""

from tandem_lsp.completion.engine import without_unfinished_line


def test_an_unfinished_second_line_is_dropped():
    assert without_unfinished_line("for x in arr[k:]:\n        yield heapq.heappushpop(heap,") == "for x in arr[k:]:"


def test_a_lone_unfinished_first_line_stays():
    # The start of the line the user is writing: typing through it still works.
    assert without_unfinished_line("rest_subsets = powers") == "rest_subsets = powers"
