"""A commune's daily batch, timed as a user runs it: start-up included (issue 17: <= 0.35 s).

Usage (from a checkout):

    python benchmarks/bench_daily.py              # median of 9 runs of each case
    python benchmarks/bench_daily.py --repeat 15 --json daily.json

Each run is a fresh ``python -m cchc_letters ...`` process writing into a fresh ``--out``
folder (a second run into the same folder would find every letter in its ledger), timed from
start to exit; the CPU time (user + system) of that process comes from ``wait4``. Cases:

* ``--version`` and ``generate --help``: start-up alone;
* ``generate data/sample --out OUT``: the sample folder (7 letters of three kinds, so three
  templates), exactly as the README tells a user to try it (today's date);
* ``generate births-20.csv --out OUT --date 2026-11-27``: 20 birth letters (the heaviest
  letter, with the vaccination schedule table) from a CSV;
* the sample folder again with an empty start-up cache (cchc_letters/cache.py) every run:
  the first run after installing or after editing a template;
* 20 births into a folder that already holds a year of letters (2,000 births, their batch
  and their ledger, copied afresh before each run, untimed), as an officer runs it every
  day into the same ``--out``; the other cases write into an empty folder, whose ledger
  is made on the way.

As installed, a package has its bytecode compiled (pip does it); a checkout run with
``PYTHONDONTWRITEBYTECODE=1`` compiles every module of the tool on every run. So the runs use
a bytecode folder of their own (``PYTHONPYCACHEPREFIX``, in the temporary folder, nothing
written to the checkout), filled by one warm-up round that is not counted, which also fills
the start-up cache; ``--no-bytecode`` measures without bytecode instead.

The runs of the cases are interleaved (one of each, then again), so a burst of load on a shared
machine hits every case alike. The median of wall and of CPU seconds is reported; wall time
is what the user waits, CPU time is what is comparable on a busy machine. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import HEADINGS, LETTER_DATE, ROOT, birth_rows, machine, write_csv  # noqa: E402

YEAR = 2000  # births a commune registers in about a year (the ledger case)


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``command`` to exit; return (wall seconds, CPU seconds of that process and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({proc.returncode}):\n{stderr.decode(errors='replace')}"
        )
    return wall, usage.ru_utime + usage.ru_stime


def cases(work: Path) -> dict[str, object]:
    """The commands measured, by name; a callable takes the run's fresh --out folder."""
    tool = [sys.executable, "-m", "cchc_letters"]
    births = write_csv(work / "births-20.csv", 20)
    sample = ROOT / "data" / "sample"
    return {
        "--version": lambda out: [*tool, "--version"],
        "generate --help": lambda out: [*tool, "generate", "--help"],
        "sample folder (7 letters, 3 kinds)": lambda out: [
            *tool,
            "generate",
            str(sample),
            "--out",
            str(out),
        ],
        "20 births from a CSV": lambda out: [
            *tool,
            "generate",
            str(births),
            "--out",
            str(out),
            "--date",
            LETTER_DATE.isoformat(),
        ],
        COLD: lambda out: [*tool, "generate", str(sample), "--out", str(out)],
        LEDGER: lambda out: [
            *tool,
            "generate",
            str(work / "today.csv"),
            "--out",
            str(_copy_of_year(work / "year", out)),
            "--date",
            LETTER_DATE.isoformat(),
        ],
    }


COLD = "sample folder, empty start-up cache"
LEDGER = f"20 births, a year's ledger ({YEAR:,})"


def write_year(work: Path, env: dict[str, str]) -> None:
    """Print a year of births (``YEAR``) into ``work/year`` (batch and ledger), and write the
    20 registered after them to ``work/today.csv``: the ledger case's folder and input."""
    import csv

    rows = birth_rows(YEAR + 20)
    for name, part in (("year.csv", rows[:YEAR]), ("today.csv", rows[YEAR:])):
        with (work / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADINGS)
            writer.writerows(part)
    year = [sys.executable, "-m", "cchc_letters", "generate", str(work / "year.csv")]
    run_once([*year, "--out", str(work / "year"), "--date", LETTER_DATE.isoformat()], env)


def _copy_of_year(year: Path, out: Path) -> Path:
    import shutil

    shutil.copytree(year, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs of each case (median reported)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile every module on every run"
    )
    args = parser.parse_args(argv)

    print(machine(), "(no bytecode)" if args.no_bytecode else "")
    with tempfile.TemporaryDirectory(prefix="bench-daily-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CCHC_CACHE_DIR": str(work / "cache")}
        if args.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(work / "bytecode")
        commands = cases(work)
        write_year(work, env)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for n in range(-1, args.repeat):  # round -1: the warm-up, not counted
            for i, (name, command) in enumerate(commands.items()):
                run_env = env
                if name == COLD:
                    run_env = {**env, "CCHC_CACHE_DIR": str(work / f"cache-{n}")}
                measured = run_once(command(work / f"out-{i}-{n}"), run_env)
                if n >= 0:
                    runs[name].append(measured)
    figures = {}
    for name, measured in runs.items():
        walls = [w for w, _ in measured]
        cpus = [c for _, c in measured]
        figures[name] = {
            "wall_median": statistics.median(walls),
            "cpu_median": statistics.median(cpus),
            "wall_min": min(walls),
            "cpu_min": min(cpus),
            "runs": len(measured),
        }
        f = figures[name]
        print(
            f"{name:<36} wall {f['wall_median']:.3f} s median (min {f['wall_min']:.3f}),"
            f" CPU {f['cpu_median']:.3f} s median (min {f['cpu_min']:.3f}), {len(measured)} runs"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
