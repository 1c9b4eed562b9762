"""A bounded memo of a pure function of one text.

A register repeats the same few values thousands of times (400 birth dates in 10,000
births, a handful of places, "Nam"/"Nữ"): reading, normalising or hashing each distinct
text once is what makes 10,000 rows cheap. Looking a text up is one dict subscript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


class TextMemo(dict[str, _T]):
    """``memo[text]`` is ``compute(text)``, computed once per distinct text.

    Only for pure functions of the text (the same text always gives the same value, and
    the value is immutable). When ``size`` texts are held it starts afresh, so a column of
    distinct values (names, numbers) cannot grow it without bound. An exception raised by
    ``compute`` is raised to the caller and nothing is kept.
    """

    __slots__ = ("_compute", "_size")

    def __init__(self, compute: Callable[[str], _T], size: int = 1 << 14) -> None:
        super().__init__()
        self._compute = compute
        self._size = size

    def __missing__(self, text: str) -> _T:
        if len(self) >= self._size:
            self.clear()
        value = self[text] = self._compute(text)
        return value
