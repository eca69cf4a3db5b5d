"""Memory guards: refuse work whose arrays would not fit, before allocating any of them.

Both engines use them: the NumPy engine before it allocates arrays, the symbolic engine before it builds
tensors of symbols and output maps, and the CLI before it runs a job.

>>> human_bytes(3 * 2**20)
'3.0 MiB'
>>> ensure_fits(1024, "a tiny conv")          # fits: nothing happens
"""

from __future__ import annotations

import os
from decimal import Decimal

from .errors import VerifierError

__all__ = ["available_bytes", "ensure_fits", "human_bytes"]

#: Refuse work that would take more than this share of the memory currently available.
SHARE = 0.8
#: Work below this size is never refused (and the system is not asked): any machine that runs Python has it.
SMALL = 64 * 2**20


def human_bytes(nbytes: float) -> str:
    """A byte count in binary units, one decimal: ``'3.0 MiB'``; any int, even one too large for a float.

    >>> human_bytes(10**400)  # an estimate for absurd sizes still reads as a number
    '9.095e+387 TiB'
    """
    value = Decimal(nbytes)
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    step = 0
    while abs(value) >= 1024 and step < len(units) - 1:
        value /= 1024
        step += 1
    if step == 0:
        return f"{value:.0f} {units[0]}"
    return f"{value:.1f} {units[step]}" if abs(value) < 10**12 else f"{value:.3e} {units[step]}"


def available_bytes() -> int | None:
    """Memory the system can give without swapping (Linux ``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def ensure_fits(
    nbytes: int, what: str, *, available: int | None = None, advice: str = "use a smaller batch or input"
) -> None:
    """Raise :class:`VerifierError` if ``nbytes`` exceeds the usable share of available memory.

    Args:
        nbytes: the estimate of what the work will allocate.
        what: the work, for the message (``"conv2d on input (8, 256, 56, 56)"``).
        advice: what to do instead, the message's last words.
        available: bytes available; measured from the system when None.
    """
    if available is None and nbytes < SMALL:
        return
    avail = available_bytes() if available is None else available
    if avail is None:
        return
    if nbytes > SHARE * avail:
        raise VerifierError(
            f"{what} needs about {human_bytes(nbytes)} but only {human_bytes(avail)} of memory is available "
            f"(at most {SHARE:.0%} of it is used); nothing was allocated: {advice}"
        )
