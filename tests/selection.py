"""Decide how much a test run does: the developer's quick ``pytest -q`` or CI's everything.

``PACSPDF_ALL_TESTS=1`` (set by .ci/run) selects everything: tests marked ``slow`` run and every
hypothesis property gets its full example count (the ``ci`` profile). Without it the ``dev``
profile gives a tenth of the examples, and ``slow`` tests are deselected (see conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import settings

CI_EXAMPLES = 100  # hypothesis's own default: what a property without a count gets in CI
DEV_EXAMPLES = 10
MIN_EXAMPLES = 5


def run_everything() -> bool:
    """True in CI (``PACSPDF_ALL_TESTS`` set and not ``0``): slow tests and full example counts."""
    return os.environ.get("PACSPDF_ALL_TESTS", "") not in ("", "0")


def load_profile() -> str:
    """Register the ``ci`` and ``dev`` hypothesis profiles and load the one this run asks for.

    Both start from what Hypothesis itself chose: its own ``ci`` settings (derandomised, no
    deadline, no example database) where it detects CI, else its defaults. Only the number of
    examples differs.
    """
    chosen = settings()
    settings.register_profile("ci", parent=chosen, max_examples=CI_EXAMPLES)
    settings.register_profile("dev", parent=chosen, max_examples=DEV_EXAMPLES)
    name = "ci" if run_everything() else "dev"
    settings.load_profile(name)
    return name


def examples(full: int) -> int:
    """``full`` under the ``ci`` profile; scaled like the profile's default (a tenth) otherwise."""
    scaled = full * settings().max_examples // CI_EXAMPLES
    return full if scaled >= full else max(MIN_EXAMPLES, scaled)


def slow_except(values: Iterable[Any], keep: Iterable[Any], *, several: bool = False) -> list[Any]:
    """Parameters for ``parametrize``: those in ``keep`` run by default, the others are ``slow``.

    ``several``: each value is a tuple holding the values of several argument names.

    For cases that each start a process: the kept ones stand for their class in the quick run,
    CI runs every one.
    """
    every, kept = list(values), list(keep)
    missing = [k for k in kept if k not in every]
    assert not missing, f"kept values that are not parameters: {missing}"
    return [v if v in kept else pytest.param(*(v if several else (v,)), marks=pytest.mark.slow)
            for v in every]
