"""Wall time of ``python -m pacspdf check REPORT`` (whole process), plus where it goes.

Usage: python benchmarks/check_timing.py [REPORT] [--runs N]

Prints the median, minimum and maximum over N runs (default 5) of the complete command,
then the same for a bare interpreter start and for an in-process breakdown (imports,
load, validate), so a regression can be placed. Asserts nothing: timings depend on the
machine and on what else it is doing.

Runs measure an installed program as users run it, with compiled bytecode: the children
get PYTHONDONTWRITEBYTECODE unset and a private PYTHONPYCACHEPREFIX (filled by a warm-up
run), so nothing is written into the source tree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BREAKDOWN = """
import sys, time
t0 = time.perf_counter()
from pacspdf.content.load import load
t1 = time.perf_counter()
from pacspdf.validate import validate, heavy_modules_loaded
t2 = time.perf_counter()
content = load(sys.argv[1])
t3 = time.perf_counter()
problems = validate(content)
t4 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f} {t3 - t2:.4f} {t4 - t3:.4f} {','.join(heavy_modules_loaded()) or '-'}")
"""


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False, env=ENV)
    return time.perf_counter() - start, done


def summary(label: str, times: list[float]) -> str:
    return (f"{label:<34} median {statistics.median(times):.3f} s   min {min(times):.3f} s   "
            f"max {max(times):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", default="content/pacs")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    command = [sys.executable, "-m", "pacspdf", "check", args.report]
    with tempfile.TemporaryDirectory(prefix="pacspdf-pycache-") as cache:
        ENV["PYTHONPYCACHEPREFIX"] = cache
        run(command, args.report, args.runs)


def run(command: list[str], report: str, runs: int) -> None:
    wall(command)  # warm the file-system cache and compile the .pyc files
    wall([sys.executable, "-c", BREAKDOWN, report])
    times, last = [], None
    for _ in range(runs):
        seconds, last = wall(command)
        times.append(seconds)
    print(f"$ {' '.join(['python', *command[1:]])}   (exit {last.returncode if last else '?'}: "
          f"{(last.stderr.strip().splitlines() or ['?'])[-1] if last else ''})")
    print(summary("whole process", times))

    bare = [wall([sys.executable, "-c", "pass"])[0] for _ in range(runs)]
    print(summary("python -c pass", bare))

    parts: list[list[float]] = [[], [], [], []]
    heavy = "-"
    for _ in range(runs):
        _, done = wall([sys.executable, "-c", BREAKDOWN, report])
        fields = done.stdout.split()
        if len(fields) != 5:
            sys.stderr.write(done.stderr)
            return
        for i in range(4):
            parts[i].append(float(fields[i]))
        heavy = fields[4]
    for label, values in zip(("import pacspdf.content.load", "import pacspdf.validate", "load()",
                              "validate()"), parts, strict=True):
        print(summary(f"  in process: {label}", values))
    print(f"  heavy modules on the check path: {heavy}")


if __name__ == "__main__":
    main()
