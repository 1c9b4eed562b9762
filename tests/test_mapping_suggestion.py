"""The mapping line suggested for a missing column never proposes a column that belongs to
another person of the registration (an officer copying it would print letters to the mother
as if she were the child)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc_letters.ingest import read_inputs

# Headings for the missing person's own column that no vocabulary knows.
UNKNOWN_OWN = ["Danh tính", "Tên gọi", "Khai cho", "Tên thường gọi", ""]
# Other people's columns, worded so the tool cannot read them but a similarity match would.
OTHERS = {
    "birth": (
        "child_name",
        ["mẹ", "người mẹ", "cha", "bố", "người cha"],
        [
            "Họ tên {s} ruột",
            "Họ và tên {s} đẻ (ghi hoa)",
            "Tên gọi của {s}",
            "{S} - HỌ TÊN KHÁC",
            "Họ, chữ đệm, tên {s} nuôi",
            "Danh tính {s}",
        ],
    ),
    "marriage": (
        "wife_name",
        ["chồng", "bên chồng", "người chồng"],
        ["Họ tên {s} (cũ)", "Tên gọi khác của {s}", "Họ và tên {s} trước đây", "Danh tính {s}"],
    ),
    "death": (
        "deceased_name",
        ["người đi khai", "người yêu cầu"],
        ["Họ tên {s} tử", "Danh tính {s}", "Họ và tên {s} (ghi hoa)"],
    ),
}
REST = {
    "birth": ["Ngày sinh"],
    "marriage": ["Họ tên chồng"],
    "death": ["Ngày chết", "Giới tính"],
}
TITLES = {
    "birth": "SỔ ĐĂNG KÝ KHAI SINH",
    "marriage": "SỔ ĐĂNG KÝ KẾT HÔN",
    "death": "SỔ ĐĂNG KÝ KHAI TỬ",
}


@st.composite
def export(draw):
    kind = draw(st.sampled_from(sorted(OTHERS)))
    missing, people, forms = OTHERS[kind]
    others = [
        draw(st.sampled_from(forms)).format(s=s, S=s.upper())
        for s in draw(st.lists(st.sampled_from(people), min_size=1, max_size=3))
    ]
    own = draw(st.sampled_from(UNKNOWN_OWN))
    headings = ["Số", "Ngày đăng ký", *REST[kind], *others] + ([own] if own else [])
    order = draw(st.permutations(headings[2:]))
    return kind, missing, others, own, ["Số", "Ngày đăng ký", *order]


@pytest.mark.slow  # a property search: 120 exports read
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(export())
def test_the_suggestion_never_names_another_persons_column(tmp_path, case):
    kind, missing, others, own, headings = case
    path = tmp_path / "export.csv"
    values = ["1", "20/11/2026"] + ["x"] * (len(headings) - 2)
    path.write_text(
        "\n".join([TITLES[kind], ",".join(f'"{h}"' for h in headings), ",".join(values)]),
        encoding="utf-8",
    )
    result = read_inputs([path])
    [issue] = [i for i in result.issues if i.code == "missing_column" and missing in i.message]
    [proposed] = re.findall(rf'\[fields\.{missing}\]\nheadings = \["([^"]*)"\]', issue.message)
    assert proposed not in others
    assert proposed in (own, "Tiêu đề cột trong tệp")


def test_the_0_1_case_the_mothers_column_for_the_childs_name(tmp_path):
    path = tmp_path / "ks.csv"
    path.write_text(
        "SỔ ĐĂNG KÝ KHAI SINH\nSố,Ngày đăng ký,Tên bé,Ngày sinh,Họ tên mẹ ruột\n"
        "1,20/11/2026,An,01/11/2026,Hoa\n",
        encoding="utf-8",
    )
    [issue] = read_inputs([path]).issues
    assert '[fields.child_name]\nheadings = ["Tên bé"]' in issue.message
    assert 'mẹ ruột"]' not in issue.message
