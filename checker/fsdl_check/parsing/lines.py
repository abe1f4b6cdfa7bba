"""Line numbers of offsets in a text, from one index per text (not by counting from the start for each offset)."""

from __future__ import annotations

from bisect import bisect_left

from fsdl_check.regex import lazy

_NEWLINE = lazy("\n")


class LineIndex:
    """``LineIndex(text).line(offset)``: the 1-based line of `offset`, as ``text.count("\\n", 0, offset) + 1``.

    The newline positions are found once, on the first lookup; each lookup after that is a binary search. Build one
    per file when a scan may report many offsets in it.
    """

    __slots__ = ("_newlines", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._newlines: list[int] | None = None

    def line(self, offset: int) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in _NEWLINE.finditer(self._text)]
        return bisect_left(self._newlines, offset) + 1
