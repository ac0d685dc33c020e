"""Content -> Derived figures: ``model`` (the plain data), ``frames`` (pandas, for builds),
``plain`` (no pandas, for ``pacspdf check``) and ``growth`` (the arithmetic both share).

Importing this package imports no pandas: only :func:`pacspdf.derive.frames.derive` does.
"""
