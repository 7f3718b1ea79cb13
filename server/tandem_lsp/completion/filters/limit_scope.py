"""Keep a suggestion inside the scope the cursor is in.

In the middle of a line (real text after the cursor, anything but nothing
before it) a suggestion is one line, unless the model filled a span across
lines (a random span missing, HumanEval-style): within a few lines it ended its
answer by itself, or re-typed the rest of the cursor's line at the end of a
line (only a rest with a word in it: a lone `)` or `:` ends many lines). The
span is then the suggestion, up to that point; trim_suffix_overlap drops the
re-typed text. A model that goes on, or re-types the file's next line, gets
its first line. (infill.py i, 38 such holes: the 1.5B called directly filled
28, the server, cutting at the first line, none.) Only blanks before the
cursor count as the middle too: a span that begins inside an indentation, or
a statement written before the code that follows the cursor; so does column 0
before text without an indentation, the rest of a line whose indentation is
missing (request.inside_line; infill.py j, random character spans). At the end
of a partly typed statement the suggestion is the rest of that line: waiting
for the model to end a span there made the median wait 40-50 % longer in d and
e (0.5B) for 5 more of 42 spans. Where indentation is syntax and the code below
is indented deeper than the statement, which opens no block, lines are missing
between them (a random span that ended at a line's end): the model's lines up
to that code are kept, as for a span, which d never waits for. So are they
where the file, with the line finished, is still broken after it (Python,
missing_lines.py: a bracket opened above left open, a header without a body, a
name the code below reads that nothing binds), up to where it is whole again:
a right one-line answer leaves it whole, so d does not wait for this either.
At the end of a line that opens a block, it may fill the block; on an empty
line it may add statements at that indentation. At column 0 before an
indented line (request.inserting_above) it is the lines to insert above that
line, out as far as its indentation, ending where the model ends them or
re-types that line (trim_suffix_overlap), or with the header whose body that
line is (`else:`; further out too when the model ends its answer with it within
a few lines); above code indented deeper, a header and the first lines of its
body (rejected.py keeps the header alone when the code below does not go on
from that body). HumanEval's multi-line holes look like this in an editor
(infill.py k, 80 holes of 2-4 lines: cut at its first line, the 0.5B passed 7,
the bare model 20, these lines 22; the 1.5B 45, 45). It never runs into the
enclosing scope, never past a blank line followed by a dedent, and never past
`MAX_LINES`. A blank line followed by a statement at the fresh line's own
indentation ends it too (most often the model going on past the gap), except
in the rest of a function with nothing of it below the cursor, whose steps a
blank line parts (infill.py h, whole bodies: the 1.5B passed 10 of 42 cut at
the first blank line, 12 without).

On a fresh line above code indented deeper than it, that code is a block
waiting for its header (the user is writing the `for` or `if` it belongs to):
a line that opens a block there ends the suggestion, since the body is the
code already below, unless the model's next line is less deep than that code
(a header nested in it), or its own body is followed by another branch of the
statement (`if b == 0:`, `return a`, `else:`). A small model otherwise writes a
body of its own above the real one (infill.py a, on a fresh line: 12 of 13 such multi-line
answers failed, their header alone passed in 5; d, the header partly typed: 4
of 6 lost to the bare model were such a body).
"""

from __future__ import annotations

import re

from tandem_lsp.completion.missing_lines import leaves_code_broken
from tandem_lsp.completion.request import CompletionRequest
from tandem_lsp.indentation import indent_width, same_but_spacing

MAX_LINES = 24
# How many lines after the first a span filled in the middle of a line may take.
MAX_SPAN_LINES = 3
_WORD = re.compile(r"\w")
_BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", "\\")
# Ends of a line that opens a block of statements (not a bracket of arguments).
_STATEMENT_BLOCK_OPENERS = (":", "{")
_CLOSERS = ")]}"
_BRACKET_OPENERS = ("(", "[", "{")
# Languages whose blocks are their indentation (elsewhere it is layout).
_INDENTATION_IS_SYNTAX = frozenset({"python", "yaml", "nim", "haskell", "coffeescript", "fsharp"})
# Words that open the next branch of the statement above (if/try); a blank line before them does not end it.
_CONTINUATIONS = ("else:", "else ", "elif ", "except", "finally:", "catch ", "catch(")


def kept_span(request: CompletionRequest, cut_text: str) -> bool:
    """Whether a text already cut for this cursor is a span across lines kept in the middle of a line."""
    return "\n" in cut_text and request.inside_line


def cut_index(request: CompletionRequest, text: str, finished: bool = False) -> int | None:
    """Where the suggestion must end, or None while it may still go on (`finished`: where the model ended it).

    Only lines whose first non-blank character has been seen are judged, so
    this works on partial (streaming) output.
    """
    if request.inside_line:
        return _end_of_span(request, text, finished)
    cut = _end_of_lines(request, text, finished)
    if cut is not None and request.inserting_above:
        return _up_to_header_of_line_below(request, text, cut, finished)
    return cut


def _up_to_header_of_line_below(request: CompletionRequest, text: str, cut: int, finished: bool) -> int | None:
    """`cut`, unless the model ends its answer within a few more lines with the header whose body is the cursor's line.

    The lines missing above a line may leave its block and come back with the
    header it belongs to (`sorted_arr = []`, `for i, count in ...:` above the
    loop's body; a blank line, then `if a[0] == b[0]:` above its `return`), or
    with the bracket it goes on inside (`else:`, `return any(`).
    """
    beyond = text[cut:].split("\n")[1:]
    # The model going on into the cursor's line itself has ended its answer (trim_suffix_overlap drops the copy).
    copy = next((index for index, line in enumerate(beyond) if line.strip() and same_but_spacing(line, request.line_suffix)), None)
    if copy is not None:
        beyond, finished = beyond[:copy] + [""], True
    if len(beyond) - 1 > MAX_SPAN_LINES:
        return cut
    if not finished:
        return None
    written = [line for line in beyond if line.strip()]
    return None if written and (_heads_line_below(request, written[-1]) or _opens_line_below(request, written[-1])) else cut


def _heads_line_below(request: CompletionRequest, line: str) -> bool:
    """Whether a written line is the header whose body is the line the suggestion goes above (one indentation step deeper)."""
    below = indent_width(request.line_suffix)
    return _heads_block_below(line, below) and below - indent_width(line) <= _indentation_step(request)


def _opens_line_below(request: CompletionRequest, line: str) -> bool:
    """Whether a written line opens the bracket the line the suggestion goes above is inside (`return any(` above its generator)."""
    below = indent_width(request.line_suffix)
    return line.rstrip().endswith(_BRACKET_OPENERS) and 0 < below - indent_width(line) <= _indentation_step(request)


def _indentation_step(request: CompletionRequest) -> int:
    """The file's indentation step: the least indentation of a line above the cursor (4 when none is indented)."""
    return min((indent_width(line) for line in request.lines_above() if line.strip() and line[:1].isspace()), default=4)


def _end_of_lines(request: CompletionRequest, text: str, finished: bool) -> int | None:
    """Where a suggestion that is no span in the middle of a line must end (None: it may go on)."""
    lines = text.split("\n")
    first_line = request.line_prefix + lines[0]
    fresh_line = not request.line_prefix.strip()
    if not fresh_line and not first_line.rstrip().endswith(_BLOCK_OPENERS):
        # Completing a statement: the rest of this line only, unless lines are missing below it.
        newline = text.find("\n")
        below = _next_line_below(request) if newline >= 0 else None
        if below is not None and _lines_missing_between(request, first_line, below):
            return _end_of_missing_lines(text, newline, finished, below)
        if below is not None and leaves_code_broken(request, text[:newline]):
            return _end_of_mending_lines(request, text, newline, finished)
        return None if newline < 0 else newline

    # On a fresh line, or above the cursor's line, the first line sets the indentation (at column 0 the model writes it).
    base = indent_width(first_line) if lines[0].strip() or not fresh_line else indent_width(request.line_prefix)
    if fresh_line and request.line_prefix and request.language.lower() not in _INDENTATION_IS_SYNTAX:
        # Where indentation is only layout, a first line indented past the editor's is still
        # in the cursor's block: the lines after it at the editor's indentation belong too.
        base = min(base, indent_width(request.line_prefix))
    body_below = _indent_of_code_below(request)
    # Above a deeper line at column 0 the missing lines may well be a header and the first lines of its body.
    body_waiting = None if request.inserting_above else body_below
    if request.inserting_above:
        # Lines inserted above a line may go back out as far as that line: it goes on after them.
        base = min(base, body_below)
    if len(lines) > 1:
        ends = _ends_at_header(lines, 0, first_line, body_waiting, finished)
        if ends is not False:
            return None if ends is None else len(lines[0])
    position = len(lines[0]) + 1
    blank_run = 0
    for number, line in enumerate(lines[1:], start=1):
        is_last = number == len(lines) - 1
        if not line.strip():
            blank_run += 1
            if blank_run >= 2 and not is_last:
                # Before this run of blank lines; `position` is where this one (the run's last) starts.
                return _before(position, blank_run - 1, lines, number)
            position += len(line) + 1
            continue
        indent = indent_width(line)
        deeper_needed = not fresh_line
        inside = indent > base if deeper_needed else indent >= base
        if not inside:
            if request.inserting_above and blank_run == 0 and _heads_line_below(request, line):
                # The header whose body is the cursor's line (`else:`) ends the lines inserted above it.
                end = position + len(line)
                return end if not is_last or "\n" in text[end:] else None
            if indent == base and deeper_needed and line.lstrip()[0] in _CLOSERS and blank_run == 0:
                # The closing bracket of the block we opened belongs to it.
                end = position + len(line)
                return end if not is_last or "\n" in text[end:] else None
            return _before(position, blank_run, lines, number)
        # A blank line then a statement at the base ends it, except in the rest of a function (nothing of it below).
        parted = blank_run and indent <= base and not _continues_statement(line)
        if parted and not (indent == base and fresh_line and _at_end_of_function(request, base)):
            if is_last and _may_continue_statement(line):
                return None  # streaming: `e` may still become `else:`
            return _before(position, blank_run, lines, number)
        blank_run = 0
        if not is_last:
            ends = _ends_at_header(lines, number, line, body_waiting, finished)
            if ends is not False:
                return None if ends is None else position + len(line)
        if number >= MAX_LINES:
            return position - 1
        position += len(line) + 1
    return None


def _lines_missing_between(request: CompletionRequest, statement: str, below: str) -> bool:
    """Whether lines are missing between a finished statement and the code below: it is indented deeper, and no block is opened for it.

    Only where indentation is syntax; elsewhere a deeper line may continue the statement.
    """
    return request.language.lower() in _INDENTATION_IS_SYNTAX and indent_width(below) > indent_width(statement)


def _end_of_missing_lines(text: str, newline: int, finished: bool, below: str) -> int | None:
    """After a statement that the code below cannot follow, the lines the model writes up to that code, or its first line.

    Within a few lines it ends its answer, or writes the line below again
    (not kept: it is there); a model that goes on gets its first line.
    """
    position = newline + 1
    later = text[position:].split("\n")
    for number, line in enumerate(later):
        last = number == len(later) - 1
        if last and not finished:
            return None  # still being written
        if line.strip() and same_but_spacing(line, below):
            return position - 1
        if number >= MAX_SPAN_LINES and (line.strip() or not last):
            return newline
        position += len(line) + 1
    return None


def _end_of_mending_lines(request: CompletionRequest, text: str, newline: int, finished: bool) -> int | None:
    """After a line that leaves the code below broken, the model's lines up to where the file is whole again, or its first line.

    Whole within a few written lines, or the first line alone (missing_lines.py).
    """
    position = newline + 1
    later = text[position:].split("\n")
    written = 0
    for number, line in enumerate(later):
        if number == len(later) - 1 and not finished:
            return None  # still being written
        end = position + len(line)
        if line.strip():
            written += 1
            if written > MAX_SPAN_LINES:
                return newline
            if not leaves_code_broken(request, text[:end]):
                return end
        position = end + 1
    return newline


def _at_end_of_function(request: CompletionRequest, base: int) -> bool:
    """Whether lines at indentation `base` are a function's own body with nothing of it below the cursor (Python).

    There (HumanEval's task: a body after the signature) a blank line parts the
    body's steps; elsewhere statements after one are most often the code below again.
    """
    if request.language.lower() not in _INDENTATION_IS_SYNTAX:
        return False
    header = next((line for line in request.lines_above() if line.strip() and indent_width(line) < base), None)
    if header is None or not header.lstrip().startswith(("def ", "async def ")):
        return False
    below = _next_line_below(request)
    return below is None or indent_width(below) <= indent_width(header)


def _indent_of_code_below(request: CompletionRequest) -> int | None:
    """The indentation of the code the suggestion goes above (None at the end of the file)."""
    below = _next_line_below(request)
    return None if below is None else indent_width(below)


def _next_line_below(request: CompletionRequest) -> str | None:
    """The file's next non-blank line after what is written at the cursor (None at the end of the file)."""
    return next((line for line in request.lines_after() if line.strip()), None)


def _ends_at_header(lines: list[str], number: int, line: str, body_below: int | None, finished: bool) -> bool | None:
    """Whether the suggestion ends after its whole line `number`, a header above code deeper than it (None: not known yet).

    The code below is the header's body, unless the model's next line is less
    deep than that code: a header nested in this one (`def search_from(node):`
    then its `if node in nodesvisited:` above the `if`'s body); or the model
    writes a body of its own and then another branch of the same statement,
    which the code below is the body of (`if b == 0:`, `return a`, `else:`).
    """
    if not _heads_block_below(line, body_below):
        return False
    later = [index for index in range(number + 1, len(lines)) if lines[index].strip()]
    if not later:
        return True if finished else None
    if indent_width(lines[later[0]]) < body_below:
        return False
    header_indent = indent_width(line)
    back = next((index for index in later[1:] if indent_width(lines[index]) <= header_indent), None)
    still_written = back == len(lines) - 1 and not finished
    if back is None or (still_written and _may_continue_statement(lines[back])):
        return True if finished else None
    return not _continues_statement(lines[back])


def _heads_block_below(line: str, body_below: int | None) -> bool:
    """Whether a whole written line opens a block whose body is the code below, indented deeper than it."""
    return body_below is not None and line.rstrip().endswith(_STATEMENT_BLOCK_OPENERS) and indent_width(line) < body_below


def _continues_statement(line: str) -> bool:
    """A line that goes on with the statement above it (`else:` after a blank line is no new statement)."""
    return line.lstrip().startswith(_CONTINUATIONS)


def _may_continue_statement(partial: str) -> bool:
    stripped = partial.strip()
    return any(word.startswith(stripped) for word in _CONTINUATIONS)


def _before(position: int, blank_run: int, lines: list[str], number: int) -> int:
    """Index just before the run of blank lines that precedes line `number`."""
    cut = position - 1
    for back in range(1, blank_run + 1):
        cut -= len(lines[number - back]) + 1
    return max(cut, 0)


def _end_of_span(request: CompletionRequest, text: str, finished: bool) -> int | None:
    """The end of the span the model wrote, or of its first line; None while that is not known, or (finished) for all of it."""
    newline = text.find("\n")
    if newline < 0:
        return None
    rest = request.line_suffix.strip()
    if text[:newline].rstrip().endswith(rest):
        return newline  # the rest re-typed on the first line: no span
    below = _next_line_below(request)
    next_line = None if below is None else below.strip()
    position = newline + 1
    later = text[position:].split("\n")
    for number, line in enumerate(later):
        if number >= MAX_SPAN_LINES:
            return newline  # the model goes on: no span, its first line
        if number == len(later) - 1 and not finished:
            return None  # still being written
        if _WORD.search(rest) and line.rstrip().endswith(rest):
            return position + len(line.rstrip())
        if line.strip() == next_line:
            return newline  # the code below again: already past the rest of the line, no span
        position += len(line) + 1
    return None  # the model ended its answer within a few lines: the span


def apply(request: CompletionRequest, text: str) -> str:
    cut = cut_index(request, text, finished=True)
    return text if cut is None else text[:cut]
