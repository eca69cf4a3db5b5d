"""Progress for long work: a line on stderr when it is a terminal, silence otherwise (and with --json)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Reports steps of long work.

    >>> p = Progress(enabled=False)
    >>> p.step("proving")       # quiet: nothing is written
    """

    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._start = time.perf_counter()

    def step(self, message: str) -> None:
        """Show ``message`` with the seconds elapsed since the work began."""
        if self.enabled:
            elapsed = time.perf_counter() - self._start
            self.stream.write(f"\r\033[K[{elapsed:6.1f}s] {message}")
            self.stream.flush()

    def done(self) -> None:
        """Clear the progress line."""
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
