"""Progress for long work: a line on stderr when it is a terminal, silence otherwise (and with --json)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Reports steps of long work.

    A closed stream (``verifier 2>&-`` leaves ``sys.stderr`` None) or one that fails to write turns the
    progress off: it is never worth stopping the work for.

    >>> p = Progress(enabled=False)
    >>> p.step("proving")       # quiet: nothing is written
    """

    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream is not None and (_is_terminal(self.stream) if enabled is None else enabled)
        self._start = time.perf_counter()

    def step(self, message: str) -> None:
        """Show ``message`` with the seconds elapsed since the work began."""
        if self.enabled:
            elapsed = time.perf_counter() - self._start
            self._write(f"\r\033[K[{elapsed:6.1f}s] {message}")

    def done(self) -> None:
        """Clear the progress line."""
        if self.enabled:
            self._write("\r\033[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # closed or full: stop reporting, keep working
            self.enabled = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError, AttributeError):
        return False
