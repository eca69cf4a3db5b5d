"""The value of ``--layer`` (``verifier prove``) and ``--verifier-layer`` (pytest): ``C_in,C_out,k[,groups]``,
and how a theorem is checked at that layer.

The four numbers are the first arguments of ``torch.nn.Conv2d`` (and :class:`verifier.spec.Conv2d`), so
``512,128,1`` is ``Conv2d(512, 128, 1)`` with every other argument at its default, bias included.
The text is read as plain ASCII digits, never evaluated.

>>> parse_layer("512,128,1")
Conv2d(512, 128, kernel_size=(1, 1), stride=(1, 1))
>>> parse_layer("256,256,3,32").groups
32
>>> parse_layer("512,128")
Traceback (most recent call last):
...
verifier.errors.VerifierError: --layer must be C_in,C_out,k or C_in,C_out,k,groups (positive integers), got '512,128'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import VerifierError
from .spec import Conv2d

if TYPE_CHECKING:
    from .theorems import Theorem, Verdict

__all__ = ["FORMAT", "check_at_layer", "parse_layer"]

FORMAT = "C_in,C_out,k[,groups]"
_NUMBER = re.compile(r"[1-9][0-9]{0,17}")  # a positive integer in plain digits, short enough to convert at once


def parse_layer(value: str, option: str = "--layer") -> Conv2d:
    """The conv that ``value`` names; a :class:`~verifier.errors.VerifierError` naming ``option`` and ``value``.

    Only the shape is read here. Whether the layer is small enough to check exactly is
    :func:`verifier.theorems.validate_layer`'s to say.
    """
    if not isinstance(value, str):
        raise VerifierError(f"{option} must be a string {FORMAT}, got {value!r}")
    parts = [part.strip() for part in value.split(",")]
    if len(parts) not in (3, 4) or not all(_NUMBER.fullmatch(part) for part in parts):
        raise VerifierError(f"{option} must be C_in,C_out,k or C_in,C_out,k,groups (positive integers), got {value!r}")
    c_in, c_out, k, *rest = (int(part) for part in parts)
    try:
        return Conv2d(c_in, c_out, k, groups=rest[0] if rest else 1)
    except VerifierError as exc:  # e.g. groups that do not divide the channels
        raise VerifierError(f"{option} {value!r} is not a valid layer: {exc}") from None


def check_at_layer(theorem: Theorem, layer: Conv2d | None) -> Verdict:
    """``theorem.check(layer)``, except that a theorem whose statement is not about one layer is skipped.

    :meth:`Theorem.check` would check such a theorem at the thread's sizes whatever the layer; a report
    titled with the user's layer says instead that the layer does not bear on it.

    >>> from verifier.theorems import get_theorem
    >>> check_at_layer(get_theorem("bottleneck-budget"), parse_layer("512,128,1")).status
    'skipped'
    """
    from .theorems import Verdict

    if layer is not None and not theorem.depends_on_layer:
        reason = "its statement is not about one layer, so the layer does not change it (checked without a layer)"
        return Verdict(False, f"Skipped: {reason}", status="skipped")
    return theorem.check(layer)
