"""`python -m pacspdf send` keeps its peak memory flat however long the enquiries file is.

Each run is a fresh process sending to the file transport over the session's base build,
so it needs neither a rebuild nor the build stack. Its peak RSS is read from ``VmHWM`` in
/proc: ``getrusage(RUSAGE_SELF).ru_maxrss`` would not do, because Linux carries the
high-water mark of the forking test process into the child across ``exec``.
"""

from __future__ import annotations

import csv
import itertools
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pacspdf.delivery.outbox import NewEntry, Outbox, State
from pacspdf.document.personal import sidecar_path

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "content" / "pacs"
NEW = 150              # rows sent for real in every run (personalised, composed, written)
LIMIT_MIB = 130        # the ceiling for any batch size
GROWTH_MIB = 12        # what 100 times more rows may add to the peak (allocator noise, SQLite cache)

CHILD = """
import json, sys
from pacspdf.cli import main
rc = main(sys.argv[1:])
with open('/proc/self/status') as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith('VmHWM:'))
stack = sorted(m for m in ('pandas', 'matplotlib', 'numpy') if m in sys.modules)
print(json.dumps({'rc': rc, 'peak_kib': peak, 'stack': stack}), file=sys.stderr)
"""


def _workdir(root: Path, sample_pdf) -> Path:  # type: ignore[no-untyped-def]
    out = root / "out"
    out.mkdir(parents=True)
    shutil.copy(sample_pdf.path, out / "pacs-sample.pdf")
    shutil.copy(sidecar_path(sample_pdf.path), sidecar_path(out / "pacs-sample.pdf"))
    return root


def _peak_of_send(root: Path, rows: int) -> dict[str, object]:
    """Peak RSS of one `send` over ``rows`` rows: the first NEW are new, the rest already sent."""
    import json

    with (root / "e.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "email", "company", "job_title", "country", "enquiry_id"])
        w.writerows([f"Zoë Enquirer {i}", f"zoe{i}@example.com", f"Hôpital {i}", "CIO", "France",
                     f"M-{i:06d}"] for i in range(rows))
    db = root / "out" / "pacspdf.db"
    with Outbox(db) as outbox:   # recorded as sent by an earlier run: streamed, reported, not sent
        earlier = (NewEntry(key=f"id:M-{i:06d}", report_slug="pacs", report_dir=str(REPORT), transport="file",
                            email=f"zoe{i}@example.com", enquiry_id=f"M-{i:06d}", state=State.SENT)
                   for i in range(NEW, rows))
        while chunk := list(itertools.islice(earlier, 5000)):
            outbox.record(chunk)
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE outbox SET sent_at = created_at WHERE state = 'sent'")
    con.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSPDF_")}
    run = subprocess.run([sys.executable, "-c", CHILD, "send", "e.csv", "--db", str(db),
                          "--report", str(REPORT), "--transport", "file"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    result: dict[str, object] = json.loads(run.stderr.strip().splitlines()[-1])
    assert result["rc"] == 0, run.stdout[-2000:]
    assert len(list((root / "out" / "outbox").glob("*.eml"))) == NEW
    return result


@pytest.mark.slow
def test_peak_memory_of_send_does_not_grow_with_the_file(tmp_path: Path, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    """150 rows and 15,000 rows (150 of them new each time) peak within a few MiB, under 130 MiB,
    and `send` over a current base build never loads the build stack (pandas, matplotlib)."""
    small = _peak_of_send(_workdir(tmp_path / "small", sample_pdf), NEW)
    large = _peak_of_send(_workdir(tmp_path / "large", sample_pdf), 100 * NEW)
    for run in (small, large):
        assert run["stack"] == [], f"send imported {run['stack']}"
        assert isinstance(run["peak_kib"], int) and run["peak_kib"] <= LIMIT_MIB * 1024
    assert isinstance(small["peak_kib"], int) and isinstance(large["peak_kib"], int)
    growth = (large["peak_kib"] - small["peak_kib"]) / 1024
    assert growth <= GROWTH_MIB, f"peak grew {growth:.1f} MiB from {NEW} to {100 * NEW} rows"
