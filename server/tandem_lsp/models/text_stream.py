"""Turn token bytes into text as they arrive.

A token may end in the middle of a multi-byte UTF-8 character; the
incremental decoder holds those bytes until the character is complete.
"""

from __future__ import annotations

import codecs


class Utf8Stream:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)
