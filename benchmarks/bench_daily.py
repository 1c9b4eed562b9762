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
  letter, with the vaccination schedule table) from a CSV.

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

from bench_batch import LETTER_DATE, ROOT, machine, write_csv  # noqa: E402


def run_once(command: list[str]) -> tuple[float, float]:
    """Run ``command`` to exit; return (wall seconds, CPU seconds of that process and its children)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
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
    return {
        "--version": lambda out: [*tool, "--version"],
        "generate --help": lambda out: [*tool, "generate", "--help"],
        "sample folder (7 letters, 3 kinds)": lambda out: [
            *tool,
            "generate",
            str(ROOT / "data" / "sample"),
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
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs of each case (median reported)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    print(machine())
    with tempfile.TemporaryDirectory(prefix="bench-daily-") as tmp:
        work = Path(tmp)
        commands = cases(work)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for n in range(args.repeat):
            for i, (name, command) in enumerate(commands.items()):
                runs[name].append(run_once(command(work / f"out-{i}-{n}")))
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
