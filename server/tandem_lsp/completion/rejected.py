"""When the model's first answer is not the one to show, and its next choices are tried.

Cases the server can see and the bare model cannot:
- the answer breaks the code, or in the middle of a line leaves that line
  broken or split in two statements (syntax_guard.py);
- the answer leaves code below it unreachable: a `return` or `break` the model
  wrote before statements the user already has (unreachable.py);
  for these two, and a body left without its header (below), when a
  multi-line answer's first lines alone are not rejected, they are the
  answer (first_lines_to_keep), for the first answer and for each next choice;
- the user is on a fresh line (only indentation before the cursor: they pressed
  Enter, or put the cursor at the start of a line to insert one) and the answer
  is nothing, most often because the model ended at once or re-typed the next
  line, which the filters drop. The user is there to write a line; a small
  model's runner-up first token is often that line (infill.py b/c: a third of
  the requests on an empty line at column 0 came back empty);
- the answer leaves unbound a name that the code below reads and nothing
  binds (needed_names.py; Python);
Python's blocks as a fresh line sees them (block_structure.py):
- on a fresh line whose indentation the user (or the editor) has typed, the
  answer indents its line deeper still, where no block was opened for it:
  the line lands in the block above or breaks the one below (infill.py a/f:
  1 of 10 such 0.5B answers passed; the 1.5B never wrote one);
- on a fresh line between code and a block indented deeper than it, which no
  line opens, the answer does not end by opening a block: the block below is
  a body waiting for its header (the `for` or `if` the user is to write),
  and the file stays broken (infill.py a-c, 0.5B: 5 such answers, none
  passed; the file parses no worse, so syntax_guard lets them through);
- on a fresh line inside a block (the code above is indented or opens one,
  the code below is indented), the answer writes a line at column 0: it ends
  the function the code below belongs to (`def main():`, `# Example usage:`
  in the middle of a function; infill.py b/c, 0.5B: 12 such answers, none
  passed).
The unbound names and these last two only steer: when no next choice does
better, the first answer is shown all the same (WORTH_SHOWING_ANYWAY).

An answer cut by the time or token limit is not retried: a second try would
hit the same limit and make the user wait twice.
"""

from __future__ import annotations

import logging

from tandem_lsp.completion.block_structure import indents_past_the_user, leaves_body_without_header, steps_out_to_column_0
from tandem_lsp.completion.needed_names import leaves_needed_names_unbound
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.completion.syntax_guard import breaks_code, breaks_its_line
from tandem_lsp.completion.unreachable import leaves_code_unreachable
from tandem_lsp.indentation import leading_whitespace

log = logging.getLogger(__name__)

_RETRIABLE_ENDS = ("eos", "stop_check")
NOTHING_ON_A_FRESH_LINE = "nothing on a fresh line"
BREAKS_THE_CODE = "breaks the code"
LEAVES_CODE_UNREACHABLE = "leaves code below unreachable"
LEAVES_NEEDED_NAMES_UNBOUND = "leaves names the code below reads unbound"
LEAVES_BODY_WITHOUT_HEADER = "leaves the block below without its header"
# Reasons a later line of an answer can give while its first lines are right (a header, then a body of
# its own that does not go on into the one below).
LATER_LINES_CAN_CAUSE = frozenset({BREAKS_THE_CODE, LEAVES_CODE_UNREACHABLE, LEAVES_BODY_WITHOUT_HEADER})
STEPS_OUT_TO_COLUMN_0 = "steps out of the block to column 0"
# Reasons that send the engine to the next choices but not to silence: the first answer is shown when none is better.
WORTH_SHOWING_ANYWAY = frozenset({LEAVES_NEEDED_NAMES_UNBOUND, LEAVES_BODY_WITHOUT_HEADER, STEPS_OUT_TO_COLUMN_0})


def why_rejected(request: CompletionRequest, shown: str, stop_reason: str) -> str | None:
    """Why the next choices should be tried instead of showing `shown`, or None."""
    if not shown.strip():
        fresh_line = not request.line_prefix.strip()
        return NOTHING_ON_A_FRESH_LINE if fresh_line and stop_reason in _RETRIABLE_ENDS else None
    if breaks_code(request, shown) or breaks_its_line(request, shown):
        return BREAKS_THE_CODE
    if leaves_code_unreachable(request, shown):
        return LEAVES_CODE_UNREACHABLE
    if indents_past_the_user(request, shown):
        return "indents deeper than the line"
    if leaves_needed_names_unbound(request, shown):
        return LEAVES_NEEDED_NAMES_UNBOUND
    if leaves_body_without_header(request, shown):
        return LEAVES_BODY_WITHOUT_HEADER
    if steps_out_to_column_0(request, shown):
        return STEPS_OUT_TO_COLUMN_0
    return None


def judged(request: CompletionRequest, shown: str, stop_reason: str) -> tuple[str, str | None]:
    """The answer to show and why it is rejected (None: it is not); when only its later lines are, its first lines."""
    why = why_rejected(request, shown, stop_reason)
    if why in LATER_LINES_CAN_CAUSE and (kept := first_lines_to_keep(request, shown, why)):
        log.debug("answer %r %s: its first lines %r", shown, why, kept)
        return kept, None
    return shown, why


def first_lines_to_keep(request: CompletionRequest, shown: str, why: str | None = None) -> str:
    """The first lines of a rejected multi-line answer, as many as are not rejected ("" if none).

    A small model that has written the missing line often goes on with a mangled
    copy of the code below it (`return search_from(n) for n in ...` above the real
    `return any(...)`), or ends the function early with a `return` of its own
    above the user's statements (`middle = len(arr) // 2` then `return merge(...)`
    above the real `left = ...`); the lines before that are the answer. Or, above
    a body without its header, writes the header and a body of its own that the
    body below does not go on from: the header is the answer. First lines
    rejected for the answer's own reason (`why`) are not kept, not even those
    worth showing anyway.
    """
    # A line inserted above the cursor's line ends with its line break: that is no second line.
    line_break = "\n" if shown.endswith("\n") else ""
    lines = shown[: len(shown) - len(line_break)].split("\n")
    for count in range(len(lines) - 1, 0, -1):
        start = "\n".join(lines[:count]) + line_break
        if start.strip() and why_rejected(request, start, "eos") in (None, *(WORTH_SHOWING_ANYWAY - {why})):
            return start
    return ""


def indentation_to_keep(request: CompletionRequest, output: str, why: str) -> str:
    """At column 0, the indentation the model chose for the line it was not to write, to keep.

    Its runner-up first token there is another indentation, not another line:
    the choices are taken after the indentation instead. Not when the answer
    broke the code: the indentation may be what broke it.
    """
    if why != NOTHING_ON_A_FRESH_LINE or request.line_prefix:
        return ""
    first_line = output.split("\n", 1)[0]
    return leading_whitespace(first_line) if first_line.strip() else ""
