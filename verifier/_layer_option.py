"""The value of ``--layer`` (``verifier prove``) and ``--verifier-layer`` (pytest): ``C_in,C_out,k[,groups]``.

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

from .errors import VerifierError
from .spec import Conv2d

__all__ = ["FORMAT", "parse_layer"]

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
