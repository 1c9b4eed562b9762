"""One page per letter (issue 11, item 14): a value too long for its letter to fit one page
is that row's rejection, with the reason; the other rows still print."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from unittest import mock

from docx_helpers import letters_text

from cchc_letters.ingest import read_inputs
from cchc_letters.ingest.columns import field_limits
from cchc_letters.models import Kind
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.validate import validate_rows

LETTER_DATE = date(2026, 11, 27)
HEADER = "Số,Quyển số,Ngày đăng ký,Họ và tên,Giới tính,Năm sinh,Nơi cư trú,Ngày chết"
ROWS = [
    "01,01/2026,23/11/2026,Nguyễn Văn Tám,Nam,1941,Ấp Suối Nghệ,20/11/2026",
    "02,01/2026,24/11/2026,{name},Nữ,1950,{residence},21/11/2026",
    "03,01/2026,25/11/2026,Lê Thị Hoa,Nữ,1944,Ấp Bình Ba,22/11/2026",
]
SYLLABLES = "Nguyễn Huỳnh Trương Hoàng Phương Khương Dương Thượng Quỳnh Nhường".split()


def long_text(length: int) -> str:
    """Return a name-like text of exactly ``length`` characters (real, wide syllables)."""
    words: list[str] = []
    while len(" ".join(words)) < length:
        words.append(SYLLABLES[len(words) % len(SYLLABLES)])
    text = " ".join(words)[:length]
    return text if not text.endswith(" ") else text[:-1] + "a"


def export(tmp_path: Path, name: str, residence: str = "Ấp Bình Ba") -> Path:
    path = tmp_path / "so-khai-tu.csv"
    lines = [HEADER, ROWS[0], ROWS[1].format(name=name, residence=residence), ROWS[2]]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def validated(path: Path):
    return validate_rows(read_inputs([path], kind=Kind.DEATH).rows, letter_date=LETTER_DATE)


def test_a_500_character_name_is_rejected_with_its_reason_and_the_other_rows_print(tmp_path):
    name = long_text(500)
    result = run_batch(
        BatchOptions(
            inputs=[export(tmp_path, name)], out_dir=tmp_path / "out", letter_date=LETTER_DATE
        )
    )
    assert result.rejected == 1
    assert sum(result.letters.values()) == 2
    text = "\n".join(letters_text(result.files[0]))
    assert "Nguyễn Văn Tám" in text and "Lê Thị Hoa" in text and name[:40] not in text
    with result.rejects_file.open(encoding="utf-8-sig") as fh:
        [reject] = [r for r in csv.DictReader(fh) if r["severity"] == "error"]
    assert reject["row"] == "3" and reject["column"] == "Họ và tên"
    assert reject["reason_code"] == "value_too_long"
    assert "500 ký tự" in reject["reason"] and "50 ký tự" in reject["reason"]
    assert "không vừa một trang" in reject["reason"]
    # The report shows the start of the value, not all 500 characters.
    assert reject["value"].startswith(name[:30]) and len(reject["value"]) < 80
    with (result.batch_dir / "manifest.csv").open(encoding="utf-8-sig") as fh:
        assert [r["source_row"] for r in csv.DictReader(fh)] == ["2", "4"]


def test_a_name_at_its_limit_is_a_letter_one_character_more_is_rejected(tmp_path):
    limit = field_limits()["deceased_name"]
    assert 40 <= limit <= 60  # generous for real names (the longest are about 40)
    at_limit = validated(export(tmp_path, long_text(limit)))
    assert at_limit.rejected == 0 and len(at_limit.registrations) == 3
    over = validated(export(tmp_path, long_text(limit + 1)))
    assert over.rejected == 1 and len(over.registrations) == 2
    [issue] = over.issues
    assert issue.code == "value_too_long" and issue.source.row == 3


def test_a_long_address_is_rejected_naming_the_address_column(tmp_path):
    limit = field_limits()["deceased_residence"]
    result = validated(export(tmp_path, "Trần Thị Mai", residence=long_text(limit + 30)))
    [issue] = result.issues
    assert issue.code == "value_too_long" and issue.column == "Nơi cư trú"
    assert "nơi cư trú của người chết" in issue.message.lower()
    assert f"{limit + 30} ký tự" in issue.message


def test_every_printed_name_and_address_field_of_every_kind_has_a_limit():
    limits = field_limits()
    for name in (
        "child_name",
        "mother_name",
        "father_name",
        "mother_residence",
        "father_residence",
        "child_birth_place",
        "husband_name",
        "wife_name",
        "husband_residence",
        "wife_residence",
        "deceased_name",
        "deceased_residence",
        "registration_number",
        "book_number",
    ):
        assert limits.get(name, 0) > 0, name


def test_the_page_checks_worst_case_has_every_limited_field_of_its_kind_at_its_limit():
    # What `templates check` renders (variables.at_limits): a limited field it missed would
    # make the per-row limit no guarantee.
    from cchc_letters.ingest.columns import load_vocabulary
    from cchc_letters.kinds import entries
    from cchc_letters.variables import SAMPLE_DATE, at_limits

    limits, vocabulary = field_limits(), load_vocabulary()
    for kind in entries():
        limited = {name for name in limits if kind.kind in vocabulary.kinds.get(name, ())}
        for sample in kind.samples(SAMPLE_DATE, True):
            worst, filled = at_limits(sample)
            assert filled == limited, kind.kind
            assert len(worst.number) == limits["registration_number"]
            assert len(worst.book) == limits["book_number"]
    birth = next(e for e in entries() if e.kind is Kind.BIRTH)
    worst, _ = at_limits(birth.samples(SAMPLE_DATE, True)[0])
    assert len(worst.child.full_name) == limits["child_name"]
    assert len(worst.mother.residence) == limits["mother_residence"]
    assert len(worst.birth_place) == limits["child_birth_place"]


# ---- the safety net at generate time (pagefit.py) --------------------------------------

BIRTH_HEADER = "kind,registration_number,book_number,registration_date,child_name,child_sex,"
BIRTH_HEADER += "child_birth_date,mother_name,mother_birth,mother_residence"


def birth_export(tmp_path: Path, child: str, mother: str) -> Path:
    path = tmp_path / "so-khai-sinh.csv"
    rows = [
        f"khai sinh,01,01/2026,20/11/2026,Nguyễn Gia Bảo,Nam,12/11/2026,{mother[:40]},1996,Ấp Bình Ba",
        f"khai sinh,02,01/2026,21/11/2026,{child},Nữ,13/11/2026,{mother},1996,Ấp Bình Ba",
        "khai sinh,03,01/2026,22/11/2026,Lê Thị An,Nữ,14/11/2026,Lê Thị Hồng,1990,Ấp Suối Nghệ",
    ]
    path.write_text("\r\n".join([BIRTH_HEADER, *rows]) + "\r\n", encoding="utf-8")
    return path


def test_a_letter_the_estimate_puts_over_a_page_is_rejected_even_without_length_limits(
    tmp_path, monkeypatch
):
    # What the limits cannot cover (a commune's template printing more, a limit raised):
    # with no limit at all, a 500-character name for the child and the mother would print
    # the letter over two pages; the writer's estimate rejects that row instead.
    from cchc_letters import validate

    monkeypatch.setattr(validate, "field_limits", dict)
    child, mother = long_text(500), long_text(500)
    result = run_batch(
        BatchOptions(
            inputs=[birth_export(tmp_path, child, mother)],
            out_dir=tmp_path / "out",
            letter_date=LETTER_DATE,
        )
    )
    assert result.rejected == 1 and sum(result.letters.values()) == 2
    with result.rejects_file.open(encoding="utf-8-sig") as fh:
        [reject] = [r for r in csv.DictReader(fh) if r["severity"] == "error"]
    assert reject["row"] == "3" and reject["reason_code"] == "letter_too_long"
    assert "không vừa một trang" in reject["reason"] and "birth.docx" in reject["reason"]
    with (result.batch_dir / "manifest.csv").open(encoding="utf-8-sig") as fh:
        assert [r["source_row"] for r in csv.DictReader(fh)] == ["2", "4"]


def test_the_estimate_refuses_no_sample_letter_of_the_shipped_templates(tmp_path):
    # Measured, not passed by the length shortcut: the short, long and at-the-limits samples
    # (those LibreOffice puts on one page), with the demo profile and with one that
    # lengthens a birth letter all it can.
    from test_templates_check import worst_case_profile

    from cchc_letters.pagefit import FULL_PAGE, LetterFit
    from cchc_letters.profile import load_profile
    from cchc_letters.render import load_templates
    from cchc_letters.variables import limit_contexts, long_contexts, sample_context

    templates = load_templates(set(Kind))
    for profile, at_limits in (
        (load_profile(None), True),
        (load_profile(worst_case_profile(tmp_path)), False),
    ):
        for kind, template in templates.items():
            contexts = [sample_context(kind, profile), *long_contexts(kind, profile)]
            if at_limits:
                contexts += limit_contexts(kind, profile)
            fit = LetterFit.of(template)
            for context in contexts:
                pages = fit.pages(template.render_body(context))
                assert 0.4 < pages <= FULL_PAGE - 0.01, (kind, pages)


def test_a_letter_measured_after_others_has_the_height_it_has_alone():
    # LetterFit keeps each distinct paragraph's height (most of a letter's come back in the
    # next): a letter measured after many others, with the same paragraphs and new ones, is
    # as tall as when measured by itself; the kept heights stay bounded.
    from cchc_letters import pagefit
    from cchc_letters.pagefit import LetterFit, PageGeometry, estimated_height
    from cchc_letters.profile import load_profile
    from cchc_letters.render import load_templates
    from cchc_letters.variables import limit_contexts, long_contexts, sample_context

    profile = load_profile(None)
    templates = load_templates(set(Kind))
    measured: list[str] = []
    real_height = pagefit._paragraph_height

    def measuring(xml, width, geometry):
        measured.append(xml)
        return real_height(xml, width, geometry)

    for kind, template in templates.items():
        contexts = [sample_context(kind, profile), *long_contexts(kind, profile)]
        contexts += limit_contexts(kind, profile)
        bodies = [template.render_body(c) for c in contexts]
        bodies += [b.replace("Nguyễn", long_text(n)) for n in (20, 80, 300) for b in bodies]
        fit = LetterFit(PageGeometry.of(template))
        alone = [estimated_height(body, fit.geometry) for body in bodies]
        measured.clear()
        with mock.patch.object(pagefit, "_paragraph_height", measuring):
            assert [fit.height(body) for body in bodies] == alone, kind
            first = len(measured)
            assert [fit.height(body) for body in bodies] == alone, kind
        paragraphs = sum(body.count("</w:p>") for body in bodies)
        assert 0 < first < paragraphs / 2 and len(measured) == first, kind  # each one once
    small = LetterFit(PageGeometry.of(templates[Kind.BIRTH]))
    many = "".join(
        f"<w:p><w:r><w:t>dòng {i}</w:t></w:r></w:p>" for i in range(3 * pagefit._HEIGHTS_KEPT)
    )
    assert small.height(many) == estimated_height(many, small.geometry)
    assert len(small._heights) <= pagefit._HEIGHTS_KEPT
