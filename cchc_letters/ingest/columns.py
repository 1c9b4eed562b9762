"""Column vocabulary: canonical fields, the headings that mean them, and header matching."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_letters.errors import InputError
from cchc_letters.ingest.headings import Grammar, Reading, load_grammar
from cchc_letters.models import Kind
from cchc_letters.resources import data_dir
from cchc_letters.vietnamese import fold


def all_kinds() -> frozenset[Kind]:
    """Return every registered letter kind (what a field of ``kinds = ["all"]`` belongs to)."""
    from cchc_letters.kinds import entries

    return frozenset(e.kind for e in entries())


@functools.cache
def _shipped_labels() -> dict[str, str]:
    shipped = _load_toml(data_dir() / "columns.toml")
    return {name: spec["label"] for name, spec in shipped["fields"].items() if "label" in spec}


@functools.cache
def _shipped_limits() -> dict[str, int]:
    shipped = _load_toml(data_dir() / "columns.toml")
    return {
        name: int(spec["max_length"])
        for spec in shipped.get("limits", {}).values()
        for name in spec["fields"]
    }


def field_limits() -> dict[str, int]:
    """Return the longest value each printed field may hold (``[limits]`` of
    data/columns.toml, and the ``max_length`` of a registered kind's own columns): a longer
    value would not fit its letter on one page."""
    from cchc_letters.kinds import columns

    limits = dict(_shipped_limits())
    for name, (column, _) in columns().items():
        if column.max_length is not None:
            limits.setdefault(name, column.max_length)
    return limits


def field_label(name: str, default: str | None = None) -> str:
    """Return a field's name in messages ("ngày đăng ký"): its ``label`` in data/columns.toml
    or in the registered kind that brings it; else ``default``, else the field's own name."""
    from cchc_letters.kinds import columns

    label = _shipped_labels().get(name)
    if label is None and name in (own := columns()):
        label = own[name][0].label
    return label or (default if default is not None else name)


def heading_key(text: str) -> str:
    """Return a heading folded for matching: no accents, case, punctuation or spacing."""
    return fold(text)


def kind_from_text(text: str) -> Kind | None:
    """Return the register named by ``text`` ("birth", "Khai sinh", "KS" …), or None.

    Short codes must match exactly; longer text ("Sổ đăng ký khai sinh", "KS_2026") is
    recognised when it names exactly one register. The words are each kind's
    (data/kinds.toml).
    """
    from cchc_letters.kinds import from_words

    return from_words(heading_key(text)) or kind_in_title(text)


def kind_in_title(text: str) -> Kind | None:
    """Return the register a title names ("SỔ ĐĂNG KÝ KHAI SINH"), None when none or several."""
    from cchc_letters.kinds import named_in

    return named_in(heading_key(text))


@dataclass
class Vocabulary:
    """Canonical fields with their registers, heading synonyms, groups and roles."""

    kinds: dict[str, frozenset[Kind]] = field(default_factory=dict)  # field -> registers
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # folded heading -> fields
    groups: dict[str, str] = field(default_factory=dict)  # folded group heading -> prefix
    roles: dict[str, list[str]] = field(default_factory=dict)  # folded sub-heading -> suffixes
    required: dict[Kind, tuple[str, ...]] = field(default_factory=dict)
    grammar: Grammar = field(default_factory=Grammar)  # headings understood from their parts

    def add_heading(self, heading: str, name: str, *, first: bool = False) -> None:
        key = heading_key(heading)
        if not key:
            return
        names = self.synonyms.setdefault(key, [])
        if name in names:
            return
        if first:  # the user's own mapping wins over the shipped synonyms
            names.insert(0, name)
        else:
            names.append(name)

    def fields_for(self, heading: str, kind: Kind | None) -> list[str]:
        """Return the fields a heading may mean in a register (all registers when None)."""
        names = self.synonyms.get(heading_key(heading), [])
        if kind is None:
            return names
        return [n for n in names if kind in (self.kinds.get(n) or all_kinds())]

    def field_for(self, heading: str, kind: Kind | None) -> str | None:
        """Return the one field a heading means in a register, None when unknown or ambiguous."""
        names = self.fields_for(heading, kind)
        if kind is None and len({self.kinds.get(n) for n in names}) > 1:
            return None  # "Họ và tên": the child or the deceased, depending on the register
        return names[0] if names else None

    def grouped_field(self, group: str, sub: str, kind: Kind | None) -> str | None:
        """Return the field of a sub-heading under a group heading ("Người mẹ" / "Năm sinh")."""
        prefix = self.groups.get(heading_key(group))
        suffixes = self.roles.get(heading_key(sub))
        if not prefix or not suffixes:
            return None
        for suffix in suffixes:
            for name in (f"{prefix}_{suffix}", suffix):
                if name in self.kinds and (kind is None or kind in self.kinds[name]):
                    return name
        return None

    def is_group(self, heading: str) -> bool:
        """True for a group heading over sub-headings ("Người mẹ", "Bên vợ")."""
        return heading_key(heading) in self.groups or self.grammar.names_subject_only(heading)

    def understand(self, heading: str, kind: Kind | None, group: str = "") -> Reading:
        """Return what a heading means from its parts (concept + subject), see headings.py."""
        return self.grammar.read(heading, kind, group)


def _kinds(values: list[str], where: str) -> frozenset[Kind]:
    from cchc_letters.kinds import names_text

    if not values or "all" in values:
        return all_kinds()
    try:
        return frozenset(Kind(v) for v in values)
    except ValueError:
        ids = [k.value for k in sorted(all_kinds(), key=list(Kind).index)] + ["all"]
        raise InputError(f"{where}: kinds must be {names_text(ids)}") from None


def shipped_toml(path: Path) -> dict[str, Any]:
    """Return a shipped data file (columns.toml, headings.toml) parsed, once per state of the
    file: every input file of a run reads the vocabulary. Callers only read the tables."""
    try:
        stat = path.stat()
    except OSError:
        return _load_toml(path)  # (the error message)
    return _parsed_once(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _parsed_once(path: Path, size: int, mtime_ns: int) -> dict[str, Any]:
    return _load_toml(path)


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        from cchc_letters import cache

        return cache.load_toml(path)
    except OSError as exc:
        raise InputError(f"Không đọc được tệp ánh xạ cột {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"Tệp ánh xạ cột {path} sai cú pháp TOML: {exc}",
            hint='Mỗi trường một mục, ví dụ:\n[fields.child_name]\nheadings = ["Tên trẻ"]',
        ) from None


def load_vocabulary(extra: Path | None = None) -> Vocabulary:
    """Return the shipped vocabulary (data/columns.toml), extended by a user mapping file.

    A mapping file uses the same ``[fields.NAME] headings = [...]`` tables, or a plain
    ``[headings]`` table of ``"Heading as written" = "field_name"`` pairs. Its headings are
    tried before the shipped ones. A broken mapping file is an InputError (stops the run).
    """
    vocab = Vocabulary()
    shipped = shipped_toml(data_dir() / "columns.toml")
    for name, spec in shipped.get("fields", {}).items():
        vocab.kinds[name] = _kinds(spec.get("kinds", []), f"columns.toml [fields.{name}]")
        for heading in [name, *spec.get("headings", [])]:
            vocab.add_heading(heading, name)
    for prefix, spec in shipped.get("groups", {}).items():
        for heading in spec.get("headings", []):
            vocab.groups[heading_key(heading)] = prefix
    for spec in shipped.get("roles", {}).values():
        for heading in spec.get("headings", []):
            vocab.roles[heading_key(heading)] = list(spec.get("fields", []))
    from cchc_letters.kinds import columns, entries

    for name, (column, kind) in columns().items():  # fields a registered kind brings
        vocab.kinds.setdefault(name, frozenset({kind}))
        for heading in [name, *column.headings]:
            vocab.add_heading(heading, name)
    vocab.required = {e.kind: e.required for e in entries()}
    vocab.grammar = load_grammar()
    if extra is not None:
        _add_mapping(vocab, extra)
    vocab.grammar.kinds = vocab.kinds
    return vocab


def _add_mapping(vocab: Vocabulary, path: Path) -> None:
    data = _load_toml(path)
    pairs: list[tuple[str, str]] = []
    for name, spec in data.get("fields", {}).items():
        headings = spec.get("headings", []) if isinstance(spec, dict) else []
        if isinstance(headings, str):
            headings = [headings]
        pairs.extend((h, name) for h in headings)
        if isinstance(spec, dict) and "kinds" in spec and name not in vocab.kinds:
            vocab.kinds[name] = _kinds(spec["kinds"], f"{path} [fields.{name}]")
    pairs.extend((h, n) for h, n in data.get("headings", {}).items() if isinstance(n, str))
    vocab.grammar.extend(data, f"Tệp ánh xạ cột {path}")
    if not pairs and not any(data.get(t) for t in ("subjects", "concepts", "joining")):
        raise InputError(
            f"Tệp ánh xạ cột {path} không có tiêu đề cột nào.",
            hint='Ví dụ:\n[fields.child_name]\nheadings = ["Tên trẻ"]',
        )
    for heading, name in pairs:
        if name not in vocab.kinds:
            known = ", ".join(sorted(vocab.kinds))
            raise InputError(
                f"Tệp ánh xạ cột {path}: không có trường tên {name!r}.",
                hint=f"Các trường hợp lệ: {known}",
            )
        vocab.add_heading(str(heading), name, first=True)
