"""A generated corpus of heading variants, each read to the right field, for all three
registers: concept x subject x order x joining words x punctuation x case x diacritics
stripped x one- or two-row headers (CSV with the group written once, XLSX merged).

The expected field of each (person, concept) is written here from the registers' content
(domain.md), not taken from the tool's vocabulary; the wordings are the ones the forms and
exports use.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cchc_letters.ingest import read_inputs

# How each concept is written, and the field suffix it gives for each person.
CONCEPTS = {
    "name": ["Họ, chữ đệm, tên", "Họ và tên", "Họ tên", "Họ, chữ đệm và tên"],
    "birth": ["Ngày, tháng, năm sinh", "Ngày sinh", "Năm sinh", "Sinh ngày"],
    "ethnicity": ["Dân tộc"],
    "nationality": ["Quốc tịch"],
    "residence": ["Nơi cư trú", "Nơi thường trú", "Nơi thường trú/tạm trú", "Địa chỉ"],
    "personal_id": ["Số định danh cá nhân", "Số CCCD", "Số ĐDCN", "Số Giấy CMND/Hộ chiếu"],
    "sex": ["Giới tính"],
}
# register -> person -> (how the person is written, {concept: expected field})
PEOPLE = {
    "birth": {
        "child": (
            ["người được khai sinh", "trẻ", "con", "trẻ em"],
            {
                "name": "child_name",
                "birth": "child_birth_date",
                "ethnicity": "child_ethnicity",
                "nationality": "child_nationality",
                "personal_id": "child_personal_id",
                "sex": "child_sex",
            },
        ),
        "mother": (
            ["mẹ", "người mẹ"],
            {
                "name": "mother_name",
                "birth": "mother_birth",
                "ethnicity": "mother_ethnicity",
                "nationality": "mother_nationality",
                "residence": "mother_residence",
                "personal_id": "mother_personal_id",
            },
        ),
        "father": (
            ["cha", "người cha", "bố"],
            {
                "name": "father_name",
                "birth": "father_birth",
                "ethnicity": "father_ethnicity",
                "nationality": "father_nationality",
                "residence": "father_residence",
                "personal_id": "father_personal_id",
            },
        ),
    },
    "marriage": {
        person: (
            words,
            {
                "name": f"{person}_name",
                "birth": f"{person}_birth",
                "ethnicity": f"{person}_ethnicity",
                "nationality": f"{person}_nationality",
                "residence": f"{person}_residence",
                "personal_id": f"{person}_personal_id",
            },
        )
        for person, words in (
            ("husband", ["chồng", "bên chồng", "người chồng", "bên nam"]),
            ("wife", ["vợ", "bên vợ", "người vợ", "bên nữ"]),
        )
    },
    "death": {
        "deceased": (
            ["người chết", "người đã chết", "người mất", "người quá cố"],
            {
                "name": "deceased_name",
                "birth": "deceased_birth",
                "ethnicity": "deceased_ethnicity",
                "nationality": "deceased_nationality",
                "residence": "deceased_residence",
                "personal_id": "deceased_personal_id",
                "sex": "deceased_sex",
            },
        ),
    },
}
# The register's main person may go unnamed in one-row headings ("Họ và tên" in the birth
# register is the child's); the marriage register has two, so its people are always named.
MAIN = {"birth": "child", "death": "deceased"}
TITLES = {
    "birth": "SỔ ĐĂNG KÝ KHAI SINH",
    "marriage": "SỔ ĐĂNG KÝ KẾT HÔN",
    "death": "SỔ ĐĂNG KÝ KHAI TỬ",
}
REGISTRATION = [("Số", "registration_number"), ("Ngày đăng ký", "registration_date")]
# The people's concepts each register needs (the rest of the required fields are the
# registration's, always written).
REQUIRED = {
    "birth": {"child": ("name", "birth")},
    "marriage": {"husband": ("name",), "wife": ("name",)},
    "death": {"deceased": ("name",)},
}
DEATH_DATE = [
    "Ngày chết",
    "Ngày mất",
    "Ngày, tháng, năm chết",
    "Đã chết vào lúc … giờ … phút, ngày … tháng … năm …",
    "NGAY CHET",
    "NgayChet",
]
GROUP_FORMS = ["{s}", "Người {s}", "Thông tin về {s}", "Phần khai về {s}", "{S}"]


def strip(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def camel(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in strip(text).replace(",", " ").split())


@st.composite
def heading_style(draw):
    return {
        "order": draw(st.sampled_from(["concept first", "subject first"])),
        "join": draw(st.sampled_from([" ", " của ", " - ", ": ", "_", " / ", " (", "\n"])),
        "case": draw(st.sampled_from(["as is", "upper", "lower"])),
        "strip": draw(st.booleans()),
        "camel": draw(st.booleans()),
    }


def one_row_heading(concept: str, subject: str, style: dict) -> str:
    if not subject:
        text = concept
    elif style["camel"]:
        parts = [concept, subject] if style["order"] == "concept first" else [subject, concept]
        return "".join(camel(p) for p in parts)
    else:
        join = style["join"]
        if style["order"] == "concept first":
            text = f"{concept}{join}{subject}" + (")" if join == " (" else "")
        else:
            text = f"{subject}{' - ' if join == ' của ' else join}{concept}"
            text += ")" if join == " (" else ""
    if style["strip"]:
        text = strip(text)
    return {"as is": text, "upper": text.upper(), "lower": text.lower()}[style["case"]]


@st.composite
def register_export(draw):
    kind = draw(st.sampled_from(sorted(PEOPLE)))
    two_rows = draw(st.booleans())
    people = PEOPLE[kind]
    columns = []  # (group heading or "", heading, expected field)
    for person, (words, fields) in people.items():
        concepts = draw(
            st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=len(fields), unique=True)
        )
        for needed in REQUIRED[kind].get(person, ()):
            if needed not in concepts:
                concepts.insert(0, needed)
        word = draw(st.sampled_from(words))
        group = ""
        if two_rows:
            form = draw(st.sampled_from(GROUP_FORMS))
            if word not in ("mẹ", "cha", "bố", "chồng", "vợ"):
                form = form.replace("Người ", "")  # "Người mẹ", but never "Người bên vợ"
            group = form.format(s=word, S=word.upper())
            if draw(st.booleans()):
                group = strip(group)
        for concept in concepts:
            wording = draw(st.sampled_from(CONCEPTS[concept]))
            if two_rows:
                heading = wording if not draw(st.booleans()) else strip(wording).upper()
            else:
                unnamed = MAIN.get(kind) == person and draw(st.booleans())
                heading = one_row_heading(wording, "" if unnamed else word, draw(heading_style()))
            columns.append((group, heading, fields[concept]))
    if kind == "death":
        columns.append(("", draw(st.sampled_from(DEATH_DATE)), "death_date"))
    return kind, two_rows, columns, draw(st.sampled_from(["csv", "xlsx"]))


def write_export(path, kind, two_rows, columns, fmt):
    title = [TITLES[kind]]
    top = [h for h, _ in REGISTRATION]
    sub = ["" for _ in REGISTRATION]
    previous = None
    merges = []
    for i, (group, heading, _) in enumerate(columns, start=len(REGISTRATION)):
        if two_rows:
            written_once = group if group != previous else ""
            top.append(written_once if fmt == "csv" else group)
            sub.append(heading)
            if fmt == "xlsx" and group == previous:
                merges[-1][1] = i
            elif fmt == "xlsx":
                merges.append([i, i])
            previous = group
        else:
            top.append(heading)
    values = ["07", "20/11/2026"] + [f"v{i}" for i in range(len(columns))]
    rows = [title, top] + ([sub] if two_rows else []) + [values]
    if fmt == "csv":

        def cell(v):
            return '"' + v.replace('"', '""') + '"'

        path = path.with_suffix(".csv")
        path.write_text(
            "\r\n".join(",".join(cell(v) for v in r) for r in rows) + "\r\n", encoding="utf-8"
        )
        return path
    path = path.with_suffix(".xlsx")
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in rows:
        ws.append(r)
    for first, last in merges:
        if last > first:
            ws.merge_cells(start_row=2, start_column=first + 1, end_row=2, end_column=last + 1)
    wb.save(path)
    return path


@pytest.mark.slow  # a property search: 150 exports written and read
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(register_export())
def test_every_heading_variant_is_read_to_its_field(tmp_path, export):
    kind, two_rows, columns, fmt = export
    path = write_export(tmp_path / "export", kind, two_rows, columns, fmt)
    result = read_inputs([path])
    assert result.issues == [], [i.message for i in result.issues]
    [table] = result.files[0].tables
    assert table.kind.value == kind
    [row] = result.rows
    for i, (_, _, field) in enumerate(columns):
        assert field in row.cells, (field, columns, table.columns, table.unmapped)
        assert row.cells[field].value == f"v{i}", (field, row.cells[field], columns)
    assert row.value("registration_number") == "07"
    assert table.unmapped == ()
