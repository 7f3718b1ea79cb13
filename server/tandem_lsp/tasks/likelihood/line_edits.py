"""What changed between two versions of code, change by change.

A model's rewrite often carries more than the fix. Asked to continue a line
from one token, it changes a second thing further on (`range(1, r + 1)` for
`range(0, r)`, where only the `+ 1` is right); asked for a fix in a chat, it
rewrites the whole function to change one line. A bug is usually one slip, so
each change of a rewrite is also worth trying on its own: the right half of a
proposal is then not lost to a wrong other half, and a one-line change hidden
in a rewrite can be weighed like any other local fix.
"""

from __future__ import annotations

import difflib
import re

# Words, runs of whitespace and single symbols: `))` is two pieces, so one `)` can change alone.
_PIECES = re.compile(r"\w+|\s+|[^\w\s]")
# For describing a change: runs of symbols stay whole (`^=` reads better than `^`).
_WORDS = re.compile(r"\w+|[^\w\s]+|\s+")


def _changes(a: list[str], b: list[str]) -> list[tuple[int, int, int, int]]:
    """The (i1, i2, j1, j2) spans where `b` differs from `a`."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def changed_words(old: str, new: str) -> tuple[str, str]:
    """The stretch of `old` that differs from `new` (whole words), and what replaces it."""
    a, b = _WORDS.findall(old.strip()), _WORDS.findall(new.strip())
    changes = _changes(a, b)
    if not changes:
        return "", ""
    (i1, _, j1, _), (_, i2, _, j2) = changes[0], changes[-1]
    if not "".join(a[i1:i2]).strip():
        # Only an insertion: show it with the word it follows, so the old side is not empty.
        back = i1
        while back > 0 and (back == i1 or not a[back].strip()):
            back -= 1
        i1, j1 = back, j1 - (i1 - back)
    return "".join(a[i1:i2]).strip(), "".join(b[j1:j2]).strip()


def one_change_versions(old: str, new: str) -> list[str]:
    """`old` with each change that turns it into `new` applied alone; nothing when there is at most one change.

    Changes of spacing alone are not changes. When `new` keeps less than half of
    `old`'s code it is another statement, not an edit of this one, and its
    pieces mean nothing alone.
    """
    a, b = _PIECES.findall(old), _PIECES.findall(new)
    changes = [
        (i1, i2, j1, j2) for i1, i2, j1, j2 in _changes(a, b) if "".join(a[i1:i2]).split() != "".join(b[j1:j2]).split()
    ]
    changed = sum(1 for i1, i2, _, _ in changes for piece in a[i1:i2] if piece.strip())
    code = sum(1 for piece in a if piece.strip())
    if len(changes) < 2 or 2 * changed > code:
        return []
    return ["".join(a[:i1] + b[j1:j2] + a[i2:]) for i1, i2, j1, j2 in changes]
