"""The ``verifier`` console script's entry point: :func:`verifier.cli.main`, with Ctrl-C covered from the start.

Importing the package takes most of a second (SymPy and NumPy). An interrupt in that second would end in a
KeyboardInterrupt traceback before :mod:`verifier.cli` could catch it; here it gives the command's one line
and exit status 130, as an interrupt later does. The module imports nothing else at start.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

INTERRUPTED = 130  # verifier.cli.EXIT_STATUSES lists it; a test keeps the two equal


def main() -> int:
    """Import the command line and run it; an interrupt during the import exits 130 with one line."""
    try:
        from verifier.cli import main as command_line
    except KeyboardInterrupt:
        if sys.stderr is not None:
            print("verifier: interrupted", file=sys.stderr)
        return INTERRUPTED
    return command_line()
