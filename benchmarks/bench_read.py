"""Reading and checking a 10,000-row export: `read_inputs` + `validate_rows`, nothing else.

    python benchmarks/bench_read.py                      # this checkout
    python benchmarks/bench_read.py --against /work/main # and another checkout, side by side

Writes its own exports (fixed seed): a birth register as XLSX with a two-row merged header
in the official wording, the same as CSV, and a CSV whose headings are understood from their
parts only (camel-case field codes, no diacritics, subject first). Each is read --repeat
times in a fresh process per checkout; the median is reported. Separate from bench_batch.py
(which times the whole `generate`).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Gia", "Quốc", "Thanh", "Hoàng"]
GIVEN = ["An", "Bảo", "Châu", "Diệp", "Hà", "Khoa", "Linh", "Mai", "Nam", "Phúc", "Tâm"]

HEADINGS = {  # (group, heading) per layout, in column order
    "official": [
        ("", "Số"),
        ("", "Quyển số"),
        ("", "Ngày, tháng, năm đăng ký"),
        ("Người được đăng ký khai sinh", "Họ, chữ đệm, tên"),
        ("Người được đăng ký khai sinh", "Ngày, tháng, năm sinh"),
        ("Người được đăng ký khai sinh", "Giới tính"),
        ("Người được đăng ký khai sinh", "Nơi sinh"),
        ("Mẹ", "Họ, chữ đệm, tên"),
        ("Mẹ", "Năm sinh"),
        ("Mẹ", "Nơi cư trú"),
        ("Cha", "Họ, chữ đệm, tên"),
        ("Cha", "Năm sinh"),
        ("Cha", "Nơi cư trú"),
        ("", "Ghi chú"),
    ],
    "understood": [
        ("", "SoDangKy"),
        ("", "QuyenSo"),
        ("", "NGAY DK"),
        ("", "HoTenKS"),
        ("", "NgaySinhChon"),
        ("", "GioiTinhKS"),
        ("", "NOI SINH CUA TRE"),
        ("", "Me - ho ten"),
        ("", "NamSinhMeKS"),
        ("", "NoiCuTruMe"),
        ("", "Cha - ho ten"),
        ("", "NamSinhChaKS"),
        ("", "NoiCuTruCha"),
        ("", "Ghi chu"),
    ],
}


def rows(n: int) -> list[list[str]]:
    rng = random.Random(13)
    out = []
    for i in range(1, n + 1):

        def name() -> str:
            return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}".upper()

        day, month = rng.randint(1, 28), rng.randint(1, 10)
        out.append(
            [
                f"{i:02d}",
                "01/2026",
                f"{day:02d}/{month + 1:02d}/2026",
                name(),
                f"{day:02d}/{month:02d}/2026",
                rng.choice(["Nam", "Nữ"]),
                "Trạm Y tế xã Ngãi Giao",
                name(),
                str(rng.randint(1985, 2002)),
                "Ấp Suối Nghệ, xã Ngãi Giao",
                name(),
                str(rng.randint(1980, 2000)),
                "Ấp Suối Nghệ, xã Ngãi Giao",
                "",
            ]
        )
    return out


def write_exports(folder: Path, n: int) -> dict[str, Path]:
    from openpyxl import Workbook

    data = rows(n)
    official = HEADINGS["official"]
    top, previous = [], None
    for group, heading in official:
        top.append(heading if not group else group if group != previous else "")
        previous = group
    sub = [heading if group else "" for group, heading in official]
    title = [["SỔ ĐĂNG KÝ KHAI SINH"], []]
    paths = {}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Khai sinh")
    for r in [*title, top, sub, *data]:
        ws.append(r)
    paths["xlsx, official two-row header"] = folder / "official.xlsx"
    wb.save(paths["xlsx, official two-row header"])

    def csv(path: Path, header: list[list[str]]) -> Path:
        def cell(v: str) -> str:
            return f'"{v}"' if "," in v else v

        lines = [",".join(cell(v) for v in r) for r in [*title, *header, *data]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    paths["csv, official two-row header"] = csv(folder / "official.csv", [top, sub])
    understood = [h for _, h in HEADINGS["understood"]]
    paths["csv, headings understood from parts"] = csv(folder / "understood.csv", [understood])
    return paths


MEASURE = r"""
import json, statistics, sys, time
from datetime import date
from pathlib import Path
from cchc_letters.ingest import read_inputs
from cchc_letters.validate import validate_rows
path, repeat = Path(sys.argv[1]), int(sys.argv[2])
times = []
for _ in range(repeat):
    t0 = time.perf_counter()
    read = read_inputs([path], kind=None)
    checked = validate_rows(read.rows, letter_date=date(2026, 11, 27))
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": statistics.median(times), "rows": len(read.rows),
                  "valid": len(checked.registrations)}))
"""


def measure(checkout: Path, path: Path, repeat: int) -> dict:
    env_path = str(checkout)
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(repeat)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        cwd=checkout,  # `python -c` puts the working folder first on sys.path
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    checkouts = {"this checkout": here}
    if args.against:
        checkouts[str(args.against)] = args.against.resolve()
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in write_exports(Path(tmp), args.rows).items():
            for name, checkout in checkouts.items():
                try:
                    got = measure(checkout, path, args.repeat)
                except subprocess.CalledProcessError as exc:
                    print(f"{label:40} {name}: failed\n{exc.stderr[-400:]}")
                    continue
                figures.append({"export": label, "checkout": name, **got})
                rate = got["rows"] / got["seconds"] if got["seconds"] else 0
                print(
                    f"{label:40} {name:>22}: {got['seconds']:6.2f} s, {got['rows']:>6} rows "
                    f"({got['valid']} valid), {rate:,.0f} rows/s"
                )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if not figures:
        sys.exit("no figures")


if __name__ == "__main__":
    main()
