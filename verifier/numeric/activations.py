"""ReLU on NumPy arrays (``torch.nn.functional.relu``): ``max(0, x)`` for every entry.

The loop that defines it is :func:`verifier.numeric.reference.relu`.

>>> import numpy as np
>>> relu(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ._guards import OBJECT_BYTES, as_array, constant_row

__all__ = ["relu", "relu_into"]


def _zeros(length: int, dtype: str) -> np.ndarray:
    """Zeros for the ReLU to compare against (NumPy's loop over two arrays beats the one with a scalar)."""
    return constant_row(length, dtype, 0)


def relu_into(src: np.ndarray, dst: np.ndarray) -> None:
    """``dst = max(src, 0)`` for float arrays of one shape (``dst`` may be ``src``).

    Compares against a row of zeros rather than the scalar 0: NumPy's vector loop for two arrays runs
    several times faster than its loop for an array and a scalar.
    """
    if src.ndim == 0:
        np.maximum(src, src.dtype.type(0), out=dst)
    elif src.flags.c_contiguous and dst.flags.c_contiguous:
        last = src.shape[-1] * (src.shape[-2] if src.ndim > 1 else 1)
        src2, dst2 = src.reshape(-1, last), dst.reshape(-1, last)
        np.maximum(src2, _zeros(last, src.dtype.str), out=dst2)
    else:
        np.maximum(src, _zeros(src.shape[-1], src.dtype.str), out=dst)


def relu(input: Any, inplace: bool = False) -> np.ndarray:
    """max(0, x) elementwise (``torch.nn.functional.relu``); ``inplace=True`` overwrites a writeable array.

    >>> relu(np.array([[-2, 3]]))
    array([[0, 3]])
    >>> from fractions import Fraction
    >>> relu(np.array([Fraction(-1, 2), Fraction(1, 3)], dtype=object))
    array([0, Fraction(1, 3)], dtype=object)
    """
    if not isinstance(inplace, bool):
        raise VerifierTypeError(f"inplace must be True or False, got {inplace!r}")
    x = as_array("input", input)
    if inplace and not (isinstance(input, np.ndarray) and x is input and x.flags.writeable):
        raise VerifierError(
            f"inplace=True needs a writeable NumPy array to overwrite, got {_described(input)}; "
            "pass inplace=False for a new array"
        )
    item = OBJECT_BYTES if x.dtype.kind == "O" else x.dtype.itemsize
    ensure_fits((0 if inplace and x.dtype.kind == "f" else 2 * x.size) * item, f"relu on input {x.shape}")
    if x.size == 0:
        return x if inplace else x.copy()
    if x.dtype.kind == "f":
        out = x if inplace else np.empty_like(x)
        relu_into(x, out)
        return out
    result = np.where(x > 0, x, 0).astype(x.dtype)
    if inplace:
        x[...] = result
        return x
    return result


def _described(value: Any) -> str:
    """A short description of an argument for a message: an array's kind and shape, else its type."""
    if isinstance(value, np.ndarray):
        state = "" if value.flags.writeable else "read-only "
        return f"a {state}{value.dtype} array of shape {value.shape}"
    return f"a {type(value).__name__}"
