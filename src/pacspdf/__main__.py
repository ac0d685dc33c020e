"""Run the command line as ``python -m pacspdf``."""

from pacspdf.cli import main

raise SystemExit(main())
