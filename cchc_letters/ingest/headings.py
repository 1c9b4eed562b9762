"""Headings understood from their parts: a concept (họ tên, ngày sinh …) and a subject (mẹ,
người chết …), in any order, with joining words, punctuation, camel case, capitals or no
diacritics, and the subject possibly in the group heading above (data/headings.toml).

A heading is folded (no accents, case, spacing) and split into vocabulary phrases by a small
dynamic programme: every character must belong to a phrase, fewer phrases win, and a cut that
falls inside a written word ("hotenme" has none to respect, "Họ tên mẹ" has two) costs more
than one between words. Hand-written because no library segments Vietnamese against a
domain vocabulary; the vocabulary is a few hundred short phrases, so it is cheap, and each
distinct heading is read once (cached).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_letters import cache
from cchc_letters.errors import InputError
from cchc_letters.models import Kind
from cchc_letters.resources import data_dir
from cchc_letters.vietnamese import fold

# Parts of a heading.
CONCEPT, SUBJECT, JOIN, REGISTER = "concept", "subject", "join", "register"
_CAMEL = re.compile(r"(?<=[a-zà-ỹđ0-9])(?=[A-ZÀ-ỸĐ])")
_SEPARATORS = re.compile(r"[^\w]+|_")


@dataclass(frozen=True)
class Concept:
    name: str
    suffixes: tuple[str, ...] = ()  # a person's field: PREFIX_SUFFIX
    field: str | None = None  # a field of the registration or the event
    subjects: tuple[str, ...] = ()  # subjects `field` may name (the deceased for death_date)
    subject: str | None = None  # meant when the heading names none


@dataclass(frozen=True)
class Reading:
    """What a heading was understood to be.

    ``fields``: the one field (understood), or the candidates when ``ambiguous``; empty when
    not understood. ``subjects``: the people the heading names (also when not understood),
    so a suggestion never proposes another person's column.
    """

    fields: tuple[str, ...] = ()
    ambiguous: bool = False
    why: str = ""
    subjects: frozenset[str] = frozenset()
    concepts: frozenset[str] = frozenset()

    @property
    def field(self) -> str | None:
        return self.fields[0] if len(self.fields) == 1 and not self.ambiguous else None


@dataclass(eq=False)  # compared and hashed by identity: readings are cached per grammar
class Grammar:
    """The concept and subject vocabularies of data/headings.toml, and the heading reader."""

    phrases: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # folded -> parts
    concepts: dict[str, Concept] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)  # subject -> field prefix
    default_subject: dict[Kind, str] = field(default_factory=dict)
    subject_alone: str = "name"
    longest: int = 0
    kinds: dict[str, frozenset[Kind]] = field(default_factory=dict)  # known fields' registers
    # Derived from ``phrases`` on first use, dropped by ``add`` (see _vocabulary).
    _derived: tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]] | None = field(
        default=None, init=False, repr=False
    )

    def add(self, phrase: str, part: str, name: str) -> None:
        key = fold(phrase)
        if not key:
            return
        parts = self.phrases.setdefault(key, [])
        if (part, name) not in parts:
            parts.append((part, name))
        self.longest = max(self.longest, len(key))
        self._derived = None

    def _vocabulary(self) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
        """Return (every prefix of every phrase, the phrases of 4 characters or more that
        name subjects, with those subjects): a cell's reading stops at the first character
        that continues no phrase, and its scan for subjects looks at those phrases only
        (most cells read while looking for the header row are data, not headings)."""
        if self._derived is None:
            prefixes = frozenset(p[:n] for p in self.phrases for n in range(1, len(p) + 1))
            naming = tuple(
                (phrase, names)
                for phrase, parts in self.phrases.items()
                if len(phrase) >= 4
                and (names := frozenset(name for part, name in parts if part == SUBJECT))
            )
            self._derived = (prefixes, naming)
        return self._derived

    # ---- reading ------------------------------------------------------------------------

    def parts(self, heading: str) -> list[tuple[tuple[str, str], ...]]:
        """Return the best segmentations of ``heading`` into (part, name) phrases."""
        return list(_segment(self, heading))

    def mentioned_subjects(self, heading: str) -> frozenset[str]:
        """Return the subjects whose words appear in ``heading``, read or not (a cautious
        scan: "Tên khai sinh (ghi theo mẹ)" mentions the mother)."""
        return _mentioned(self, heading)

    def _mentioned(self, heading: str) -> frozenset[str]:
        words = [fold(w) for w in _words(heading)]
        found: set[str] = set()
        prefixes, naming = self._vocabulary()
        for i in range(len(words)):
            run = ""
            for j in range(i, min(len(words), i + 6)):
                run += words[j]
                if run and run not in prefixes:
                    break  # no phrase starts with these words: none with more of them
                for part, name in self.phrases.get(run, ()):
                    if part == SUBJECT:
                        found.add(name)
        key = fold(heading)
        for phrase, names in naming:
            if phrase in key:
                found.update(names)
        return frozenset(found)

    def names_subject_only(self, heading: str) -> bool:
        """True for a heading that names a person and nothing else ("Người mẹ", "BÊN VỢ"):
        a group heading over a two-row header's sub-headings."""
        return any(p.subjects and not p.concepts for p in _parses(self, heading))

    def names_concept_only(self, heading: str) -> bool:
        """True for a heading that names a concept and no person ("Giấy báo tử")."""
        parses = _parses(self, heading)
        return bool(parses) and all(p.concepts and not p.subjects for p in parses)

    def extend(self, data: dict[str, Any], where: str) -> None:
        """Add the [joining], [subjects.X] and [concepts.X] words of a mapping file."""
        for word in data.get("joining", {}).get("words", []):
            self.add(str(word), JOIN, "")
        for part, table in ((SUBJECT, "subjects"), (CONCEPT, "concepts")):
            known = self.prefixes if part == SUBJECT else self.concepts
            for name, spec in data.get(table, {}).items():
                if name not in known:
                    raise InputError(
                        f"{where}: không có [{table}.{name}].",
                        hint="Các mục có thể thêm từ: " + ", ".join(sorted(known)),
                    )
                words = spec.get("words", []) if isinstance(spec, dict) else []
                for word in [words] if isinstance(words, str) else words:
                    self.add(str(word), part, name)
        _segment.cache_clear()
        _read.cache_clear()
        _mentioned.cache_clear()

    def read(self, heading: str, kind: Kind | None, group: str = "") -> Reading:
        """Return what ``heading`` (under ``group``, a two-row header's upper cell) means in
        register ``kind`` (None: any register), among the fields in ``kinds``."""
        return _read(self, heading, group, kind)


@functools.lru_cache(maxsize=8192)
def _mentioned(grammar: Grammar, heading: str) -> frozenset[str]:
    return grammar._mentioned(heading)


def _words(heading: str) -> list[str]:
    """Return the written words of a heading: split at separators and camel-case humps."""
    return [w for w in _SEPARATORS.split(_CAMEL.sub(" ", heading)) if w]


@functools.lru_cache(maxsize=8192)
def _segment(grammar: Grammar, heading: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    words = [fold(w) for w in _words(heading)]
    text = "".join(words)
    if not text or len(text) > 160:
        return ()
    bounds = {0}
    pos = 0
    for w in words:
        pos += len(w)
        bounds.add(pos)
    n = len(text)
    prefixes = grammar._vocabulary()[0]
    # best[i] = (cost, segmentations of text[i:]); cost = (cuts inside a word, phrases)
    best: list[tuple[tuple[int, int], list[tuple[tuple[str, str], ...]]] | None] = [None] * (n + 1)
    best[n] = ((0, 0), [()])
    for i in range(n - 1, -1, -1):
        found: tuple[tuple[int, int], list[tuple[tuple[str, str], ...]]] | None = None
        for j in range(i + 1, min(n, i + grammar.longest) + 1):
            piece = text[i:j]
            if piece not in prefixes:
                break  # no phrase starts with it: no longer piece is a phrase either
            parts = grammar.phrases.get(piece)
            tail = best[j]
            if not parts or tail is None:
                continue
            inside = (i not in bounds) + (j not in bounds and j != n)
            cost = (tail[0][0] + inside, tail[0][1] + 1)
            options = [((p,) + rest) for p in parts for rest in tail[1]]
            if found is None or cost < found[0]:
                found = (cost, options)
            elif cost == found[0]:
                found[1].extend(options)
        if found is not None:
            found = (found[0], found[1][:32])  # bounded: a heading has few readings
        best[i] = found
    return tuple(best[0][1]) if best[0] else ()


@dataclass(frozen=True)
class _Parse:
    concepts: frozenset[str]
    subjects: frozenset[str]
    registers: frozenset[str]


def _parses(grammar: Grammar, heading: str) -> list[_Parse]:
    out = []
    for seg in _segment(grammar, heading):
        out.append(
            _Parse(
                frozenset(n for p, n in seg if p == CONCEPT),
                frozenset(n for p, n in seg if p == SUBJECT),
                frozenset(n for p, n in seg if p == REGISTER),
            )
        )
    return out


def _field_of(grammar: Grammar, concept: str, subject: str | None, kind: Kind | None) -> str | None:
    spec = grammar.concepts[concept]
    kinds = grammar.kinds

    def usable(name: str) -> bool:
        return name in kinds and (kind is None or kind in kinds[name])

    if spec.field:
        if subject is not None and subject not in spec.subjects:
            return None
        return spec.field if usable(spec.field) else None
    if subject is None:
        return None
    prefix = grammar.prefixes.get(subject, subject)
    for suffix in spec.suffixes:
        if usable(f"{prefix}_{suffix}"):
            return f"{prefix}_{suffix}"
    return None


def _fields_of_parse(
    grammar: Grammar, parse: _Parse, group: _Parse | None, kind: Kind | None
) -> tuple[set[str], str]:
    """Return (fields, why) for one parse; a ``why`` means it is not one field (report it)."""
    if kind is not None and parse.registers and kind.value not in parse.registers:
        return set(), ""  # "Số đăng ký kết hôn" in the birth register
    subjects = set(parse.subjects)
    if group is not None and not subjects:
        subjects = set(group.subjects)
    concepts = set(parse.concepts) or ({grammar.subject_alone} if subjects else set())
    if not concepts:
        return set(), ""
    if len(subjects) > 1:  # "Họ tên cha mẹ"
        found = {f for s in subjects for c in concepts if (f := _field_of(grammar, c, s, kind))}
        return found, "names two people"
    results: set[str | None] = set()
    for c in concepts:
        spec = grammar.concepts[c]
        if subjects or spec.field:
            subject = next(iter(subjects), None)
            results.add(_field_of(grammar, c, subject, kind))
        elif spec.subject:
            results.add(_field_of(grammar, c, spec.subject, kind))
        elif kind is not None and kind not in grammar.default_subject:
            # the marriage register has two people: "Họ và tên" alone could be either
            found = {f for s in grammar.prefixes if (f := _field_of(grammar, c, s, kind))}
            if found:
                return found, "could be either person's"
        else:
            for k in [kind] if kind is not None else list(Kind):
                if s := grammar.default_subject.get(k):
                    results.add(_field_of(grammar, c, s, k))
    fields = {r for r in results if r}
    if len(concepts) > 1 and len(fields) > 1 and kind is not None:
        return fields, "holds two things"
    return fields, ""


@functools.lru_cache(maxsize=8192)
def _read(grammar: Grammar, heading: str, group: str, kind: Kind | None) -> Reading:
    mentioned = grammar.mentioned_subjects(f"{group} {heading}")
    group_parse = None
    if group:
        group_parses = _parses(grammar, group)
        subjects_only = [p for p in group_parses if p.subjects and not p.concepts]
        if subjects_only:
            group_parse = subjects_only[0]
        elif any(p.concepts for p in group_parses):
            # The upper cell is a concept ("Ngày, tháng, năm sinh" over "Bằng số" / "Bằng
            # chữ"; "Giấy báo tử" over "Số" / "Ngày cấp"): read the two cells as one.
            return _read(grammar, f"{group} {heading}", "", kind)
        elif grammar.mentioned_subjects(group):
            # A group naming a person in words we cannot read ("Mẹ ruột"): its sub-headings
            # are that person's, not the register's main person's — nobody's to guess.
            return Reading((), False, "", mentioned, frozenset())
    parses = _parses(grammar, heading)
    concepts = frozenset(c for p in parses for c in p.concepts)
    mentioned = mentioned.union(*(p.subjects for p in parses))
    if group_parse is not None:
        mentioned |= group_parse.subjects
    fields: set[str] = set()
    why = ""
    for parse in parses:
        found, reason = _fields_of_parse(grammar, parse, group_parse, kind)
        fields |= found
        why = why or (reason if found else "")
    if not fields:
        return Reading((), False, "", mentioned, concepts)
    ambiguous = bool(why) or (len(fields) > 1 and kind is not None)
    return Reading(
        tuple(sorted(fields)),
        ambiguous,
        why or ("could mean several fields" if ambiguous else ""),
        mentioned,
        concepts,
    )


def load_grammar(path: Path | None = None) -> Grammar:
    """Return the grammar of data/headings.toml (or ``path``)."""
    path = path or data_dir() / "headings.toml"
    try:
        data = cache.load_toml(path)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"Không đọc được {path}: {exc}") from None
    grammar = Grammar()
    for word in data.get("joining", {}).get("words", []):
        grammar.add(word, JOIN, "")
    for kind, spec in data.get("registers", {}).items():
        for word in spec.get("words", []):
            grammar.add(word, REGISTER, kind)
    for name, spec in data.get("subjects", {}).items():
        grammar.prefixes[name] = spec.get("prefix", name)
        for word in spec.get("words", []):
            grammar.add(word, SUBJECT, name)
    for name, spec in data.get("concepts", {}).items():
        grammar.concepts[name] = Concept(
            name,
            suffixes=tuple(spec.get("suffixes", ())),
            field=spec.get("field"),
            subjects=tuple(spec.get("subjects", ())),
            subject=spec.get("subject"),
        )
        for word in spec.get("words", []):
            grammar.add(word, CONCEPT, name)
    grammar.default_subject = {Kind(k): v for k, v in data.get("default_subject", {}).items()}
    grammar.subject_alone = data.get("subject_alone", {}).get("concept", "name")
    return grammar
