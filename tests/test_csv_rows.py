"""output.write_csv joins most rows itself (a lot of rows a column at a time, issue 17): the
file must be the one csv.writer writes after spreadsheet_safe, value by value, whatever the
values (commas, quotes, line breaks, formula starts, None, numbers, NUL, ragged rows)."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_letters import output

COLUMNS = ("a", "b", "c")


def value_by_value(path: Path, columns, rows) -> None:
    """write_csv as it was: csv.writer, each value through spreadsheet_safe."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([output.spreadsheet_safe(v) for v in row])


TEXT = st.text(alphabet=st.sampled_from('aẤ ,"\r\n=+-@\t\x00x'), max_size=4)
VALUE = st.one_of(TEXT, st.integers(-3, 3), st.none(), st.booleans(), st.just(1.5))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(VALUE, min_size=3, max_size=3),
            st.lists(TEXT, min_size=3, max_size=3),
            st.lists(VALUE, min_size=1, max_size=4),
        ),
        max_size=1200,  # more than one lot of 512
    )
)
def test_write_csv_is_csv_writer_after_spreadsheet_safe(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("csv")
    output.write_csv(folder / "fast.csv", COLUMNS, iter(rows))
    value_by_value(folder / "slow.csv", COLUMNS, rows)
    assert (folder / "fast.csv").read_bytes() == (folder / "slow.csv").read_bytes()


def test_rows_of_plain_text_and_numbers_are_joined_without_csv():
    rows = [("Ấp Suối Nghệ, xã Ngãi Giao", 1, 'say "hi"'), ("b", -0, "")]
    assert output._joined_rows(rows) == ('"Ấp Suối Nghệ, xã Ngãi Giao",1,"say ""hi"""\r\nb,0,\r\n')
    assert output._joined_rows([("=1+2", "x")]) is None  # spreadsheet_safe's job
    assert output._joined_rows([(None, "x")]) is None
