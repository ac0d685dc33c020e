"""Run the pacspdf command line inside the test process -> its exit code, stdout and stderr.

What a ``python -m pacspdf ...`` subprocess would show, without paying ~1 s per call for a new
interpreter and the import of the drawing stack. :func:`run_cli` calls ``pacspdf.cli.main`` with
its own argv, environment and working folder, and gives the process-wide state it touches back
as it found it:

- ``os.environ`` (with ``PACSPDF_*`` cleared unless kept, as the subprocess helpers did), the
  working folder, ``sys.stdout`` / ``sys.stderr``;
- what :func:`pacspdf.runtime.own_process` sets (the collector's thresholds, the "owned" flag);
- the root and ``pacspdf`` loggers' handlers and levels, and the SIGINT / SIGTERM handlers.

The streams are UTF-8 byte buffers with the error handlers a real interpreter has here
(``LANG=C.UTF-8``: ``surrogateescape`` on stdout, ``backslashreplace`` on stderr), so an
unprintable name fails the same way in both. An exception that escapes ``main`` is written to
stderr as a traceback with exit code 1, as the interpreter would, so "no traceback" checks keep
their meaning. Tests about the process itself (signals, SIGKILL, pipes, import cost, worker
processes, the ``python -m`` entry) still start a real one.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliRun:
    """One command's outcome, shaped like ``subprocess.CompletedProcess`` with bytes output."""

    args: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def run_cli(argv: Sequence[str], *, cwd: Path | str | None = None, env: Mapping[str, str] | None = None,
            envb: Mapping[bytes, bytes] | None = None, unset: Sequence[str] = (),
            keep_pacspdf_env: bool = False) -> CliRun:
    """``pacspdf *argv`` in this process, in ``cwd``, with ``env`` (and raw ``envb``) on top of this
    process's environment minus ``unset`` and its ``PACSPDF_*`` variables (unless ``keep_pacspdf_env``)."""
    args = [str(a) for a in argv]
    out, err = _stream("surrogateescape"), _stream("backslashreplace")
    with _environment(env or {}, envb or {}, unset, keep_pacspdf_env), _cwd(cwd), _process_state():
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = _exit_code(args)
        finally:
            out.flush()
            err.flush()
            sys.stdout, sys.stderr = saved
    return CliRun(args, code, out.buffer.getvalue(), err.buffer.getvalue())  # type: ignore[attr-defined]


def _exit_code(args: list[str]) -> int:
    from pacspdf.cli import main

    try:
        return int(main(args))
    except SystemExit as exc:  # argparse (usage errors, --help, --version)
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        sys.stderr.write(f"{exc.code}\n")
        return 1
    except Exception:  # what the interpreter does with an uncaught exception
        traceback.print_exc(file=sys.stderr)
        return 1


def _stream(errors: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


@contextmanager
def _environment(env: Mapping[str, str], envb: Mapping[bytes, bytes], unset: Sequence[str],
                 keep: bool) -> Iterator[None]:
    saved = dict(os.environb)
    try:
        for name in [k for k in os.environ if k in unset or (not keep and k.startswith("PACSPDF_"))]:
            del os.environ[name]
        for key, value in env.items():
            os.environ[key] = value  # str values may hold surrogates: os.environ encodes them back
        for bkey, bvalue in envb.items():
            os.environb[bkey] = bvalue
        yield
    finally:
        os.environb.clear()
        os.environb.update(saved)


@contextmanager
def _cwd(cwd: Path | str | None) -> Iterator[None]:
    before = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(before)


@contextmanager
def _process_state() -> Iterator[None]:
    """Give back what ``main`` may change for the whole interpreter."""
    from pacspdf import runtime

    thresholds, owned = gc.get_threshold(), runtime._owned
    loggers = [logging.getLogger(), logging.getLogger("pacspdf")]
    logs = [(lg, list(lg.handlers), lg.level) for lg in loggers]
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        runtime._owned = owned
        for lg, kept, level in logs:
            for handler in [h for h in lg.handlers if h not in kept]:
                lg.removeHandler(handler)
                handler.close()
            lg.setLevel(level)
        for sig, handler in handlers.items():
            if signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)
