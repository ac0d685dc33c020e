"""An interpreter pacspdf owns (the CLI's, a catalogue worker's) -> tuned gc and a lighter matplotlib import.

A program that calls pacspdf as a library keeps its interpreter as it was; :func:`own_process`
is called only by ``pacspdf.cli.main`` and the catalogue's pool initializer. It

- lets matplotlib load without its 3-D toolkit (see :func:`import_matplotlib`);
- makes the cyclic garbage collector run less often. A cold build allocates millions of
  short-lived objects (imports, chart artists, ReportLab fragments), and with CPython's
  default thresholds (700, 10, 10) the collector ran ~265 times in one, full collections
  walking every imported module's objects: about 0.2 s of a 2 s build (measured with
  ``gc.callbacks``). Cycles are still collected, just in larger batches.
"""

from __future__ import annotations

import gc
import sys
import types

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


# ---------------------------------------------------------------- matplotlib without mplot3d
# ``matplotlib.projections`` imports ``mpl_toolkits.mplot3d`` only to register the "3d"
# projection, which pacspdf never draws; that import is about 0.09 s of a cold build's
# ~0.8 s matplotlib import (``-X importtime``: mplot3d.art3d, axis3d and axes3d). matplotlib
# supports the toolkit being absent (``Axes3D = None``, nothing registered).
#
# Only a process that pacspdf owns (see :func:`own_process`) skips it, and only while
# matplotlib loads: a placeholder module stands in for the toolkit and is removed again, so
# a later ``import mpl_toolkits.mplot3d`` gets the real one. A program that calls pacspdf as
# a library keeps matplotlib exactly as it would load by itself.

_TOOLKIT = "mpl_toolkits.mplot3d"


def import_matplotlib() -> None:
    """Load ``matplotlib.figure`` and ``matplotlib.axes``, without the 3-D toolkit if allowed."""
    if not owned() or "matplotlib.projections" in sys.modules or _TOOLKIT in sys.modules:
        import matplotlib.axes
        import matplotlib.figure
        return
    placeholder = types.ModuleType(_TOOLKIT, "Stands in for the 3-D toolkit while matplotlib loads.")
    placeholder.Axes3D = None  # type: ignore[attr-defined]  # what matplotlib checks
    sys.modules[_TOOLKIT] = placeholder
    try:
        import matplotlib.axes
        import matplotlib.figure  # noqa: F401
    finally:
        if sys.modules.get(_TOOLKIT) is placeholder:
            del sys.modules[_TOOLKIT]
