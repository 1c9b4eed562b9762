"""Which ấp / khu phố / tổ dân phố an address is in, from the profile's [[hamlets]] list.

Addresses are written many ways ("Ấp Suối Nghệ", "ấp suối nghệ", "Ap Suoi Nghe", "thôn Suối
Nghệ, xã Ngãi Giao"), so names are compared folded (no accents, đ = d, lower case, words
only). An address is split at commas; its parts are tried from the first (the most specific,
as Vietnamese addresses run from house to province), and a part naming a commune, district or
province ("xã Suối Nghệ" is the old commune, not the hamlet) is never taken for a hamlet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from cchc_letters.profile import Hamlet

OTHER = "Khác"  # the group of addresses that name no hamlet of the list

# Words that open an address part naming an administrative unit above the hamlet.
_UNIT_WORDS = ("xa ", "phuong ", "thi tran ", "thi xa ", "huyen ", "quan ", "tinh ", "thanh pho ",
               "tp ", "dac khu ")  # fmt: skip
# Words that open a hamlet's name; the rest ("Suối Nghệ") is tried alone too when it is not
# a bare number ("Ấp 1" and "Khu phố 1" are different places).
_HAMLET_WORDS = ("to dan pho ", "khu pho ", "tdp ", "kp ", "ap ", "thon ", "xom ", "khu ",
                 "buon ", "ban ", "lang ", "to ", "khom ")  # fmt: skip
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_PARTS = re.compile(r"[,;\n]")


# The combining marks of U+0300–U+036F (all of Vietnamese's), removed by one str.translate.
_MARKS = {c: None for c in range(0x300, 0x370) if unicodedata.combining(chr(c))}


def fold(text: str) -> str:
    """Return ``text`` without accents, đ as d, lower case, runs of non-letters as one space."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = decomposed.translate(_MARKS)
    if not plain.isascii():  # other scripts' marks: the rule itself (the ledger folds names)
        plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", plain.casefold()).strip()


def _core(folded: str) -> str | None:
    for word in _HAMLET_WORDS:
        if folded.startswith(word):
            rest = folded[len(word) :]
            return rest if rest and not rest.replace(" ", "").isdigit() else None
    return None


class HamletIndex:
    """The profile's hamlets, ready to place addresses."""

    def __init__(self, hamlets: Iterable[Hamlet]) -> None:
        self.names: list[str] = []
        exact: dict[str, str] = {}
        cores: dict[str, set[str]] = {}
        for hamlet in hamlets:
            self.names.append(hamlet.name)
            for term in (hamlet.name, *hamlet.variants):
                folded = fold(term)
                exact[folded] = hamlet.name
                core = _core(folded)
                if core:
                    cores.setdefault(core, set()).add(hamlet.name)
        # A core two hamlets share ("Bình Ba" of "Ấp Bình Ba" and "Khu phố Bình Ba") places
        # nothing; their full names still do.
        terms = dict(exact)
        for core, owners in cores.items():
            if len(owners) == 1 and core not in terms:
                terms[core] = next(iter(owners))
        # Longest first: "ap suoi nghe 2" before "suoi nghe" (the first of equally long
        # terms in the profile's order). An address part names a term when the term's words
        # are a run of its words: each run of up to the longest term's words is looked up,
        # and the best-ranked term found wins (what testing every term in turn would find).
        ordered = sorted(terms.items(), key=lambda item: -len(item[0]))
        self._rank = {term: (rank, name) for rank, (term, name) in enumerate(ordered)}
        self._longest = max((term.count(" ") + 1 for term in terms), default=0)
        self._parts: dict[str, str | None] = {}  # an address part -> its hamlet (or None)
        self._found: dict[str, str | None] = {}  # an address -> its hamlet (or None)
        self._order: dict[str, int] | None = None

    def find(self, address: str | None) -> str | None:
        """Return the hamlet ``address`` is in, or None when it names none of the list."""
        if not address:
            return None
        if address not in self._found:
            self._found[address] = self._find(address)
        return self._found[address]

    def _find(self, address: str) -> str | None:
        for part in _PARTS.split(address):
            if part not in self._parts:
                self._parts[part] = self._part(part)
            name = self._parts[part]
            if name is not None:
                return name
        return None

    def _part(self, part: str) -> str | None:
        """Return the hamlet one address part names (None: none, or a higher unit)."""
        folded = fold(part)
        if not folded or folded.startswith(_UNIT_WORDS):
            return None
        words = folded.split(" ")
        rank = self._rank
        best: tuple[int, str] | None = None
        for start in range(len(words)):
            for end in range(start + 1, min(start + self._longest, len(words)) + 1):
                hit = rank.get(" ".join(words[start:end]))
                if hit is not None and (best is None or hit[0] < best[0]):
                    best = hit
        return best[1] if best is not None else None

    def group(self, address: str | None) -> str:
        """Return the hamlet of ``address``, or OTHER ("Khác")."""
        return self.find(address) or OTHER

    def order(self, name: str) -> int:
        """Return the sort position of a group: the profile's order, "Khác" last."""
        if self._order is None:
            self._order = {}
            for position, known in enumerate(self.names):
                self._order.setdefault(known, position)
        return self._order.get(name, len(self.names))
