"""The letter kinds: one registry entry per kind holds everything the kind is.

An entry (``LetterKind``) says what a kind is called and how exports name it (data, from
``data/kinds.toml`` for the built-in kinds), which fields a row needs, its template file and
print-file stem, and the code half: how a checked row becomes a registration (``build``),
what its letter may say (``context``, with its honorific rules), the names a template may
use (``variables``) and its sample data (``samples``). Everything else — validation,
enrichment, templates check, preview, the README tables, the writer — asks the registry,
so a kind nobody registered is an error everywhere, never silently another kind.

The built-in kinds are ``cchc_letters/kinds/<id>.py``, one module per table of
``data/kinds.toml``, imported on first use. ``register`` adds a kind at run time (a test
does, with its own fields, template and context).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc_letters.models import Kind, Registration
from cchc_letters.resources import data_dir

if TYPE_CHECKING:
    from cchc_letters.models import Person
    from cchc_letters.profile import Profile

# Variable types, as the README shows them.
TEXT, DATE, NUMBER, YES_NO, TEXT_LIST, ROWS = (
    "chữ (text)",
    "ngày (date)",
    "số (number)",
    "đúng/sai (true/false)",
    "danh sách dòng chữ (list of text)",
    "danh sách (list)",
)


@dataclass(frozen=True)
class Variable:
    """One name a template may use.

    ``path`` is dotted; ``[]`` marks a list whose items have the fields declared below it
    (``schedule.visits[].label`` is ``visit.label`` inside ``{%tr for visit in schedule.visits %}``).
    ``kinds`` empty means every kind (the common variables).
    """

    path: str
    kinds: tuple[Kind, ...]
    type: str
    vi: str
    en: str


@dataclass(frozen=True)
class Column:
    """An input field a kind brings with it (the built-in kinds' are in data/columns.toml)."""

    name: str
    label: str
    headings: tuple[str, ...] = ()
    max_length: int | None = None  # the longest value its letter fits one page with


# (reader of one row: a validate.RowReader, the fields every registration has) -> the
# kind's registration, or None after noting each problem with ``reader.note(RowProblem)``.
# (The reader is Any here: the registry sits below validate, which asks it for kinds.)
RowBuilder = Callable[[Any, dict[str, Any]], Registration | None]
# (registration, profile, letter date, schedule version or None) -> the kind's own values
ContextBuilder = Callable[[Any, "Profile", date, Any], dict[str, Any]]
# registration -> the people whose residence a letter is taken to, in order of preference
Addressed = Callable[[Any], Sequence["Person | None"]]
# (letter date, long) -> sample registrations: the first is the one preview shows; with
# long=True every worst case the one-page check renders.
SampleBuilder = Callable[[date, bool], list[Registration]]


@dataclass(frozen=True)
class LetterKind:
    """Everything one letter kind is."""

    kind: Kind
    vietnamese: str  # "khai sinh"
    words: tuple[str, ...]  # folded words that name it exactly ("ks")
    title_words: tuple[str, ...]  # folded words that name it inside a title
    required: tuple[str, ...]  # fields a row needs
    print_stem: str  # print files: STEM-001.docx
    heading: str  # its section of templates/README.md
    build: RowBuilder
    context: ContextBuilder
    samples: SampleBuilder
    variables: tuple[Variable, ...]
    uses_schedule: bool = False  # the letter carries the vaccination schedule
    addressed: Addressed = lambda registration: ()  # whose residence the letter goes to
    file_aliases: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()  # its own input fields, when not in data/columns.toml
    template: Path | None = None  # the default template (else templates/<id>.docx)

    @property
    def template_name(self) -> str:
        """Return the template's file name in a commune's templates folder."""
        return f"{self.kind.value}.docx"

    def default_template(self) -> Path:
        """Return the template used when a commune's folder has none of its own."""
        from cchc_letters.resources import templates_dir

        return self.template or templates_dir() / self.template_name


_ENTRIES: dict[Kind, LetterKind] = {}
_BUILT_IN_LOADED = False


def _data() -> dict[str, Any]:
    from cchc_letters import cache

    kinds: dict[str, Any] = cache.load_toml(data_dir() / "kinds.toml")["kinds"]
    return kinds


def from_data(kind_id: str, **code: Any) -> LetterKind:
    """Return the entry of a kind described in data/kinds.toml, with its code parts."""
    spec = _data()[kind_id]
    return LetterKind(
        kind=Kind.define(kind_id, spec["vietnamese"]),
        vietnamese=spec["vietnamese"],
        words=tuple(spec["words"]),
        title_words=tuple(spec.get("title_words", ())),
        required=tuple(spec["required"]),
        print_stem=spec["print_stem"],
        heading=spec["heading"],
        file_aliases=tuple(spec.get("file_aliases", ())),
        **code,
    )


def _load_built_in() -> None:
    global _BUILT_IN_LOADED
    if _BUILT_IN_LOADED:
        return
    _BUILT_IN_LOADED = True
    for kind_id in _data():
        module = importlib.import_module(f"cchc_letters.kinds.{kind_id}")
        _ENTRIES[Kind(kind_id)] = module.ENTRY
    # Registration order is the order of data/kinds.toml, then run-time kinds.
    order = [Kind(k) for k in _data()]
    for kind in list(_ENTRIES):
        if kind not in order:
            _ENTRIES[kind] = _ENTRIES.pop(kind)


def register(entry: LetterKind) -> LetterKind:
    """Add a letter kind (its id must be new); return it."""
    _load_built_in()
    if entry.kind in _ENTRIES:
        raise ValueError(f"letter kind {entry.kind.value!r} is already registered")
    Kind.define(entry.kind.value, entry.vietnamese)
    _ENTRIES[entry.kind] = entry
    return entry


def unregister(kind: Kind) -> None:
    """Remove a kind added with ``register``."""
    _ENTRIES.pop(kind, None)
    Kind.forget(kind.value)


def entry(kind: Kind | str) -> LetterKind:
    """Return the entry of ``kind``; LookupError for a kind nobody registered."""
    _load_built_in()
    try:
        return _ENTRIES[Kind(kind)]
    except (KeyError, ValueError):
        raise LookupError(f"letter kind {str(kind)!r} is not registered") from None


def entries() -> tuple[LetterKind, ...]:
    """Return every registered kind, built-in ones first."""
    _load_built_in()
    return tuple(_ENTRIES.values())


def from_words(folded: str) -> Kind | None:
    """Return the kind a folded word names exactly ("ks", "khaisinh"), None when none."""
    return next((e.kind for e in entries() if folded in e.words), None)


def named_in(folded: str) -> Kind | None:
    """Return the one kind a folded title names ("sodangkykhaisinh"), None when none or several."""
    found = {e.kind for e in entries() for word in e.title_words if word in folded}
    return found.pop() if len(found) == 1 else None


def columns() -> Mapping[str, tuple[Column, Kind]]:
    """Return the input fields registered kinds bring themselves, by name."""
    return {c.name: (c, e.kind) for e in entries() for c in e.columns}


def names_text(items: Sequence[str] | None = None) -> str:
    """Return the kind ids for a message: "birth, marriage or death"."""
    ids = list(items) if items is not None else [e.kind.value for e in entries()]
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + " or " + ids[-1]


def help_text() -> str:
    """Return the built-in kinds for a help screen: "birth, marriage or death (khai sinh /
    kết hôn / khai tử)", in the order of data/kinds.toml. Read from that file alone, so
    ``--help`` imports no kind's module."""
    data = _data()
    return f"{names_text(list(data))} ({' / '.join(spec['vietnamese'] for spec in data.values())})"


__all__ = [
    "Column",
    "LetterKind",
    "Variable",
    "entries",
    "entry",
    "from_data",
    "help_text",
    "register",
    "unregister",
]
