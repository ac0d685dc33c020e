"""Settings for an interpreter that pacspdf owns: the CLI's process and the catalogue's workers.

A program that calls pacspdf as a library keeps its interpreter as it was; :func:`own_process`
is called only by ``pacspdf.cli.main`` and the catalogue's pool initializer. It

- lets matplotlib load without its 3-D toolkit (see :mod:`pacspdf.matplotlib_import`);
- makes the cyclic garbage collector run less often. A cold build allocates millions of
  short-lived objects (imports, chart artists, ReportLab fragments), and with CPython's
  default thresholds (700, 10, 10) the collector ran ~265 times in one, full collections
  walking every imported module's objects: about 0.2 s of a 2 s build (measured with
  ``gc.callbacks``). Cycles are still collected, just in larger batches.
"""

from __future__ import annotations

import gc

#: Collector thresholds for owned processes: a young collection every 50,000 net allocations.
GC_THRESHOLDS = (50_000, 20, 100)

_owned = False


def own_process() -> None:
    """Declare that pacspdf owns this interpreter, and tune it for building PDFs."""
    global _owned
    _owned = True
    gc.set_threshold(*GC_THRESHOLDS)


def owned() -> bool:
    return _owned


def settle() -> None:
    """Exclude everything alive now (the imported stack) from future collections (a worker
    calls this once its imports are done, so later full collections only walk its reports)."""
    if _owned:
        gc.collect()
        gc.freeze()
