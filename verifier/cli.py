"""The ``verifier`` command: the main job with no arguments, and one subcommand per question.

Each subcommand lives in ``verifier/commands/<name>.py`` and offers ``HELP``, ``add_arguments(parser)``
and ``execute(args, progress) -> Report``. This module only parses, renders and sets the exit status
(:data:`EXIT_STATUSES`): whatever goes wrong, the user sees one line on stderr, never a traceback
unless ``--debug`` (or ``VERIFIER_DEBUG=1``) asks for it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .commands import claims, count, derive, prove, run
from .commands import main as main_job
from .errors import VerifierError
from .progress import Progress

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = ["EXIT_STATUSES", "main"]

#: Each subcommand's module (``verifier/commands/<name>.py``), in the order ``--help`` lists them.
COMMANDS = {"prove": prove, "claims": claims, "derive": derive, "count": count, "run": run}
SUBCOMMANDS = tuple(COMMANDS)

HOLDS, FAILS, USAGE, INTERNAL, WRITE_FAILED, INTERRUPTED = 0, 1, 2, 3, 74, 130

#: Every exit status of the command and what it means (the ``--help`` epilog and the README list these).
EXIT_STATUSES: dict[int, str] = {
    HOLDS: "everything checked holds",
    FAILS: "a theorem, claim or cross-check does not hold or could not be checked",
    USAGE: "bad usage: the message names the bad argument",
    INTERNAL: "internal error: one line naming it (the traceback with --debug or VERIFIER_DEBUG=1)",
    WRITE_FAILED: "the report could not be written to stdout (a full disk, a closed stdout)",
    INTERRUPTED: "interrupted (Ctrl-C)",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        _say(f"{self.prog}: error: {message} (see '{self.prog} --help')")
        raise SystemExit(USAGE)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        """``--help`` and ``--version`` text: a failed write is status 74 with one line, as for a report."""
        stream = file or sys.stderr
        if stream is None or not message:  # a closed stream (`>&-`) is None: nothing to print to
            return
        try:
            stream.write(message)
            flush = getattr(stream, "flush", None)
            if flush is not None:
                flush()
        except BrokenPipeError:
            _silence_stdout()
        except OSError as exc:
            if stream is not sys.stdout:
                return
            _silence_stdout()
            _say(f"{self.prog}: error: could not write to stdout: {exc}")
            raise SystemExit(WRITE_FAILED) from None


def _epilog() -> str:
    lines = ["exit statuses:"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in EXIT_STATUSES.items()]
    return "\n".join(lines)


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="verifier",
        description="Prove how a 1x1 convolution changes the number of feature maps in a ResNet bottleneck. "
        "With no subcommand: prove the theorems, judge the thread's claims, run the bottleneck at full "
        "size and cross-check it against the derivation.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common(parser, default=False)
    main_job.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # Given after the subcommand, they must not reset what was given before it (`verifier --json prove`).
        _add_common(p, default=argparse.SUPPRESS)
        module.add_arguments(p)
    return parser


def _add_common(parser: argparse.ArgumentParser, default: object) -> None:
    """``--json`` and ``--debug``, accepted before or after the subcommand."""
    parser.add_argument(
        "--json",
        action="store_true",
        default=default,
        help="print one JSON object to stdout instead of the text report",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="on an internal error, print the traceback (as VERIFIER_DEBUG=1 does)",
    )


def _main_only_options(parser: _Parser, args: argparse.Namespace) -> None:
    """Refuse the main job's options next to a subcommand, where they would do nothing."""
    if args.command is None:
        return
    for dest in [name for name in vars(args) if name.startswith("main_")]:
        if getattr(args, dest) != parser.get_default(dest):
            option = "--" + dest.removeprefix("main_").replace("_", "-")
            parser.error(
                f"{option} applies to the main job only (verifier with no subcommand), not to 'verifier {args.command}'"
            )


def _text_only_options(parser: _Parser, args: argparse.Namespace) -> None:
    """Refuse, next to ``--json``, an option that shapes only the text report (a command's ``TEXT_ONLY``)."""
    module = COMMANDS.get(args.command or "")
    if not args.json or module is None:
        return
    for dest, why in getattr(module, "TEXT_ONLY", {}).items():
        if getattr(args, dest, False):
            parser.error(f"--{dest} shapes the text report only, and {why}: give one of --{dest} and --json")


def _say(line: str) -> None:
    """One line on stderr, if there is a stderr to write to (``2>&-`` closes it)."""
    if sys.stderr is None:
        return
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Point stdout at devnull, so that the interpreter's final flush does not fail (and report) again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _debug(args: argparse.Namespace | None) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("VERIFIER_DEBUG", "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (also used by the console script).

    argparse's own exits (``--help``, ``--version``: 0; bad usage: 2) leave as ``SystemExit``.
    """
    args: argparse.Namespace | None = None
    progress = Progress(enabled=False)
    try:
        parser = _build_parser()
        args = parser.parse_args(argv)
        _main_only_options(parser, args)
        _text_only_options(parser, args)
        progress = Progress(enabled=False if args.json else None)
        return _run(args, progress)
    except KeyboardInterrupt:
        progress.done()
        _say("verifier: interrupted")
        return INTERRUPTED
    except Exception as exc:
        progress.done()
        if _debug(args):
            if sys.stderr is not None:
                traceback.print_exc()
        else:
            _say(
                f"verifier: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug or VERIFIER_DEBUG=1 for the traceback)"
            )
        return INTERNAL


def _run(args: argparse.Namespace, progress: Progress) -> int:
    name = args.command or "main"
    module = COMMANDS.get(name, main_job)
    try:
        report = module.execute(args, progress)
    except VerifierError as exc:
        progress.done()
        prog = "verifier" if name == "main" else f"verifier {name}"
        _say(f"{prog}: error: {exc}")
        return USAGE
    progress.done()
    text = report.json() if args.json else report.text()
    try:
        if sys.stdout is None:
            raise OSError("stdout is closed")
        print(text, flush=True)
    except BrokenPipeError:
        # The reader left early (`verifier | head`): not an error of ours.
        _silence_stdout()
    except OSError as exc:
        _silence_stdout()
        _say(f"verifier: error: could not write the report to stdout: {exc}")
        return WRITE_FAILED
    return HOLDS if report.ok else FAILS


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
