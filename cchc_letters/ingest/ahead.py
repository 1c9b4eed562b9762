"""Reading a large input in a second process while this one validates the rows read so far.

Reading a register (unzipping and measuring the workbook, calamine's parse, each cell made a
text, each row mapped to its fields) is about half the time of checking it; validation is
the other half, and it must see the rows in order, in this process, where the
registrations stay. So a forked reader reads the rows and hands them over through a pipe,
a parcel at a time, while this process validates the parcels before: both cores work.

Rows cross as plain tuples (their cells' texts; each table's fields and headings once).
Pickled as objects, 10,000 rows took 0.21 s to pickle and unpickle (1.4 s when each row's
cells were a dict of RawCells, against 0.53 s to read them); as tuples, unpickling and
making the rows again costs this process about 0.08 s. The pipe holds a few parcels at most, so memory stays as flat as reading here. Whatever happens to the
reader (killed, out of memory, a fault of its own), this process reads on by itself from the
row the reader had reached: no row is lost or doubled, and the files' problems are those
reading here would have found.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from itertools import islice
from typing import IO, TYPE_CHECKING, Any

from cchc_letters.models import Kind, RawRow, RowCells, SourceRef

if TYPE_CHECKING:
    from cchc_letters.ingest import ReadResult

# Inputs smaller than this are read in this process: forking, and handing the rows over,
# cost more than reading a few hundred rows (a daily batch never forks).
READ_AHEAD_MIN_BYTES = 64 * 1024
# Rows per parcel: small enough that validation starts at once and the pipe stays short,
# large enough that each parcel's pickling overhead is spread over many rows.
ROWS_PER_PARCEL = 250
# What the reader may map beyond what it maps when it starts. It parses a workbook while
# measuring it (ingest/excel.py, "parsing while measuring"), so this is what a workbook
# over the limits can take before its parse fails. A province's year (100,000 births, an
# 8.9 MB workbook) takes about 150 MB; a workbook that needs more than this (one near the
# limits: a 256 MB file is read whole, and copied by calamine) makes the reader die, and
# the run reads that file itself, as it reads every file when it has no second core.
READER_HEADROOM = 512 << 20

_END = "end"

# (file, sheet, fields, headings, understood): the layout of a table's rows, sent once
Layout = tuple[str, "str | None", tuple[str, ...], tuple[str, ...], frozenset[str]]
# (layout number, row number, kind, the cells' texts, problem): one row as it crosses
Crossing = tuple[int, int, "Kind | None", tuple[str, ...], "tuple[str, str] | None"]


def worth_reading_ahead(input_bytes: int) -> bool:
    """True when inputs of ``input_bytes`` bytes should be read by a forked reader: large
    enough, a second core, fork available, and no other thread in this process (a thread
    holding a lock at the fork would leave that lock held in the reader)."""
    from cchc_letters.processes import can_fork

    return input_bytes >= READ_AHEAD_MIN_BYTES and can_fork()


def read_ahead(
    rows: Iterator[RawRow], files: ReadResult, while_reading: Callable[[], None] | None = None
) -> Iterator[RawRow]:
    """Yield ``rows`` (a reading generator not yet started, e.g. ``open_inputs``'), read by a
    forked reader; ``files`` (the ReadResult that reading fills) gets the reader's Issues and
    FileReports once its last row has been taken, as reading here would have filled it.
    ``while_reading()`` is called here once the reader has started: the reader's first rows
    take a workbook's whole parse (0.4-0.6 s at 10,000 rows), which this process would only
    wait for.
    """
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the reader: never returns
        _reader(rows, files, read_end, write_end, parent)
    os.close(write_end)
    taken = 0
    finished = False
    try:
        with open(read_end, "rb") as pipe:
            if while_reading is not None:  # (a failure there stops the reader, below)
                while_reading()
            # layout number -> (the layout, its fields' positions shared by its rows)
            layouts: dict[int, tuple[Layout, dict[str, int]]] = {}
            while True:
                try:
                    message = pickle.load(pipe)
                except Exception:  # noqa: BLE001 — the reader died mid-parcel: read on here
                    break
                if message[0] == _END:
                    files.issues.extend(message[1])
                    files.files.extend(message[2])
                    finished = True
                    break
                _, new_layouts, parcel = message
                for n, layout in new_layouts.items():
                    layouts[n] = (layout, {name: i for i, name in enumerate(layout[2])})
                for layout_number, number, kind, values, problem in parcel:
                    (file, sheet, _, headings, understood), at = layouts[layout_number]
                    cells = RowCells(at, headings, values)
                    yield RawRow(SourceRef(file, sheet, number), kind, cells, understood, problem)
                    taken += 1
    finally:
        if not finished:
            from cchc_letters.processes import kill

            kill(pid)
        os.waitpid(pid, 0)
    if not finished:
        # Deterministic reading: the same files give the same rows, so skipping the ones
        # already taken hands on exactly the rest.
        yield from islice(rows, taken, None)


def _reader(
    rows: Iterator[RawRow], files: ReadResult, read_end: int, write_end: int, parent: int
) -> None:
    """The forked reader: send ``rows`` in parcels, then the files' Issues and reports."""
    status = 1
    try:
        os.close(read_end)
        from cchc_letters.processes import cap_address_space, die_with_parent

        die_with_parent(parent)
        if cap_address_space(READER_HEADROOM):
            from cchc_letters.ingest import excel

            # A workbook over the limits now makes calamine's allocation fail, and Rust
            # says so on stderr before the reader dies; the run reads that file itself
            # and says what is wrong with it. Nothing else of the reader's is printed.
            _quiet_stderr()
            excel.parse_while_measuring()  # (a ReaderGivesWay ends the reader below)
        with open(write_end, "wb", buffering=1 << 16) as pipe:
            _send(rows, pipe)
            pickle.dump((_END, files.issues, files.files), pipe, pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        # Whatever happened (an interrupt, a fault): leave at once, running none of the
        # parent's exit handlers; the parent reads on by itself when the status is not 0.
        os._exit(status)


def _quiet_stderr() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _send(rows: Iterator[RawRow], pipe: IO[bytes]) -> None:
    # a table's layout by its RowCells' ``at`` (held here, so that its id stays its own)
    known: dict[int, tuple[Any, int]] = {}
    new_layouts: dict[int, Layout] = {}
    parcel: list[Crossing] = []
    for row in rows:
        cells = row.cells
        source = row.source
        assert isinstance(cells, RowCells), "rows as rows_from_grid makes them"
        entry = known.get(id(cells.at))
        if entry is None:
            number = len(known)
            known[id(cells.at)] = (cells.at, number)
            new_layouts[number] = (
                source.file, source.sheet, tuple(cells.at), cells.headings, row.understood
            )  # fmt: skip
        else:
            number = entry[1]
        parcel.append((number, source.row, row.kind, cells.texts, row.problem))
        if len(parcel) >= ROWS_PER_PARCEL:
            pickle.dump(("rows", new_layouts, parcel), pipe, pickle.HIGHEST_PROTOCOL)
            new_layouts, parcel = {}, []
    if parcel or new_layouts:
        pickle.dump(("rows", new_layouts, parcel), pipe, pickle.HIGHEST_PROTOCOL)
