"""The command line: arguments, exit codes and messages (the only module that prints)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from pacspdf import __version__
from pacspdf.content import CATALOGUE_ROOT, choose_report
from pacspdf.errors import ContentError, PacspdfError, PreflightError, Problem, UsageError

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _summary(problems: list[Problem]) -> str:
    counts = {kind: sum(p.severity == kind for p in problems) for kind in ("error", "warning", "note")}
    parts = [f"{counts['error']} error{'s' * (counts['error'] != 1)}",
             f"{counts['warning']} warning{'s' * (counts['warning'] != 1)}"]
    if counts["note"]:
        parts.append(f"{counts['note']} note{'s' * (counts['note'] != 1)}")
    return ", ".join(parts)


def _print_problems(problems: list[Problem]) -> None:
    for p in problems:
        print(p, file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    from pacspdf.validate import check

    args.report = str(choose_report(args.report))
    content, problems = check(Path(args.report))
    if content is not None and not any(p.is_error for p in problems):
        from pacspdf.delivery.preview import mail_problems

        problems = sorted([*problems, *mail_problems(content)])
    _print_problems(problems)
    errors = any(p.is_error for p in problems)
    if args.layout and not errors:
        from pacspdf.build import build

        try:
            build(Path(args.report), cache_dir=None, write=False)
        except PreflightError as exc:
            for line in exc.findings:
                print(f"{exc.file}: error: layout: {line}", file=sys.stderr)
            print(f"{_summary(problems)}, {len(exc.findings)} layout "
                  f"problem{'s' * (len(exc.findings) != 1)}", file=sys.stderr)
            return EXIT_USAGE
    print(_summary(problems) + ("" if args.layout or errors else
                                "; layout not checked (check --layout, or build, lays it out)"),
          file=sys.stderr)
    if errors or (args.strict and any(p.severity == "warning" for p in problems)):
        return EXIT_USAGE
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    if args.queue:
        return _queue_all(args)
    if args.all:
        from pacspdf.cli.catalogue import run_all

        return run_all(Path(args.report or CATALOGUE_ROOT), jobs=args.jobs,
                       out_dir=Path(args.output) if args.output else None)
    from pacspdf.build import build

    args.report = str(choose_report(args.report))
    try:
        result = build(Path(args.report), Path(args.output) if args.output else None,
                       force=args.force, pdfa=args.pdfa)
    except ContentError as exc:
        shown = [p for p in exc.problems if p.severity != "note"]  # notes are for `check`
        _print_problems(shown)
        print(f"{_summary(shown)}; no PDF written", file=sys.stderr)
        return EXIT_USAGE
    except PreflightError as exc:
        for line in exc.findings:
            print(f"{exc.file}: error: layout: {line}", file=sys.stderr)
        print(f"{len(exc.findings)} layout problem{'s' * (len(exc.findings) != 1)}; no PDF written "
              "(build --force writes it anyway)", file=sys.stderr)
        return EXIT_USAGE
    for w in result.warnings:
        if not args.quiet and w.severity == "warning":  # notes are for `check`
            print(w, file=sys.stderr)
    for line in result.preflight:
        print(f"warning: layout: {line} (written because of --force)", file=sys.stderr)
    print(f"{result.path}: {result.pages} pages, {result.size / 1024:.0f} KB, {result.seconds:.2f} s")
    return EXIT_OK


def _queue_all(args: argparse.Namespace) -> int:
    if not args.all:
        raise UsageError("--queue goes with --all (it enqueues a whole catalogue)")
    from pacspdf.cli.catalogue import queue_all
    from pacspdf.delivery.settings import default_db

    return queue_all(Path(args.report or CATALOGUE_ROOT), Path(args.output) if args.output else None,
                     args.db or default_db())


def cmd_new(args: argparse.Namespace) -> int:
    from pacspdf.content.scaffold import scaffold

    folder = scaffold(args.slug, Path(args.root))
    print(f"{folder}: a new report; check it with: pacspdf check {folder}")
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pacspdf", description="Build branded sample-report PDFs and mail "
                                                 "personalised copies to enquirers.")
    parser.add_argument("--version", action="version", version=f"pacspdf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    p = sub.add_parser("build", help="build a report's sample PDF")
    p.add_argument("report", nargs="?", default=None,
                   help=f"content folder (default: the only report under {CATALOGUE_ROOT}/; "
                        f"with --all: {CATALOGUE_ROOT}/)")
    p.add_argument("-o", "--output", help="PDF path (default: out/<slug>-sample.pdf)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not list content warnings")
    p.add_argument("--pdfa", choices=("2b", "3b", "none"), default=None,
                   help="PDF/A conformance (default: the brand's pdfa, else 2b)")
    p.add_argument("--all", action="store_true",
                   help="build every report folder under REPORT (default: content/) in parallel")
    p.add_argument("-j", "--jobs", type=int, default=0, help="worker processes for --all (default: cores)")
    p.add_argument("--queue", action="store_true",
                   help="with --all: enqueue one job per report for `pacspdf worker --builds` instead of "
                        "building here (unchanged content is not enqueued again)")
    p.add_argument("--db", default=None,
                   help="with --queue: the job store, a SQLite file or a postgresql:// URL "
                        "(default: $PACSPDF_DATABASE_URL, else out/pacspdf.db)")
    p.add_argument("--force", action="store_true",
                   help="write the PDF even when the layout preflight finds problems")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("check", help="validate a report's content without writing anything")
    p.add_argument("report", nargs="?", default=None,
                   help=f"content folder (default: the only report under {CATALOGUE_ROOT}/)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--layout", action="store_true",
                   help="also lay the report out in memory and run the build's layout preflight")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("new", help="make a minimal valid report to start from")
    p.add_argument("slug", help="the report's slug, like flexible-packaging-adhesives")
    p.add_argument("--root", default=str(CATALOGUE_ROOT),
                   help=f"where to put it (default: {CATALOGUE_ROOT}/)")
    p.set_defaults(func=cmd_new)
    try:
        from pacspdf.cli.delivery import add_parsers
    except ImportError:
        pass
    else:
        add_parsers(sub)
    from pacspdf.cli.web import add_parsers as add_web_parsers

    add_web_parsers(sub)
    from pacspdf.cli.db import add_parsers as add_db_parsers

    add_db_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pacspdf.runtime import own_process

    own_process()  # this interpreter is pacspdf's (see pacspdf.runtime)
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ContentError as exc:
        _print_problems(exc.problems)
        return EXIT_USAGE
    except PacspdfError as exc:
        print(f"pacspdf: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("pacspdf: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
