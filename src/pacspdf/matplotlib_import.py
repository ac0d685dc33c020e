"""Import matplotlib's figure and axes without its 3-D toolkit, in processes pacspdf owns.

``matplotlib.projections`` imports ``mpl_toolkits.mplot3d`` only to register the "3d"
projection, which pacspdf never draws; that import is about 0.09 s of a cold build's
~0.8 s matplotlib import (``-X importtime``: mplot3d.art3d, axis3d and axes3d). matplotlib
supports the toolkit being absent (``Axes3D = None``, nothing registered).

Only a process that pacspdf owns (see :mod:`pacspdf.owned`) skips it, and only while
matplotlib loads: a placeholder module stands in for the toolkit and is removed again, so
a later ``import mpl_toolkits.mplot3d`` gets the real one. A program that calls pacspdf as
a library keeps matplotlib exactly as it would load by itself.
"""

from __future__ import annotations

import sys
import types

from pacspdf.owned import owned

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
