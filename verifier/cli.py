"""The ``verifier`` command: the main job with no arguments, and one subcommand per question.

Each subcommand lives in ``verifier/commands/<name>.py`` and offers ``HELP``, ``add_arguments(parser)``
and ``execute(args, progress) -> Report``. This module only parses, renders and sets the exit status:
0 when everything checked holds, 1 when a check fails, 2 for bad usage (one line, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .errors import VerifierError
from .progress import Progress

__all__ = ["main"]

SUBCOMMANDS = ("prove", "claims", "derive", "count", "run")


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="verifier",
        description="Prove how a 1x1 convolution changes the number of feature maps in a ResNet bottleneck. "
        "With no subcommand: prove the theorems, judge the thread's claims, run the bottleneck at full "
        "size and cross-check it against the derivation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common(parser)
    main_job = importlib.import_module("verifier.commands.main")
    main_job.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"verifier.commands.{name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        _add_common(p)
        module.add_arguments(p)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object to stdout instead of the text report"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (also used by the console script)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    name = args.command or "main"
    module = importlib.import_module(f"verifier.commands.{name}")
    progress = Progress(enabled=False if args.json else None)
    try:
        report = module.execute(args, progress)
    except VerifierError as exc:
        progress.done()
        prog = "verifier" if name == "main" else f"verifier {name}"
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    progress.done()
    try:
        print(report.json() if args.json else report.text(), flush=True)
    except BrokenPipeError:
        # The reader left early (`verifier | head`): not an error of ours. Point stdout at devnull so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
