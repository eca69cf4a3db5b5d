"""Batch normalisation on NumPy arrays, inference form (``torch.nn.functional.batch_norm``), and its folding.

``(x - mean) / sqrt(var + eps) * weight + bias`` per channel; the loop that defines it is
:func:`verifier.numeric.reference.batch_norm`. Float inputs compute in their dtype; exact inputs (integer or
object arrays) give exact ``Fraction`` results through :func:`exact_sqrt`, the one exact square root.

>>> import numpy as np
>>> batch_norm(np.array([[[[1.0, 3.0]]]]), running_mean=[1.0], running_var=[4.0], eps=0.0)
array([[[[0., 1.]]]])
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from math import isqrt
from typing import Any

import numpy as np

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ._guards import OBJECT_BYTES, all_finite, as_array, common_dtype, ensure_finite

__all__ = ["batch_norm", "exact_sqrt", "fold_batch_norm"]


def _fraction(value: Any) -> Fraction:
    """An exact number (or a float, taken at its exact binary value) as a ``Fraction``."""
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    return Fraction(float(value))


def exact_sqrt(value: numbers.Rational | float, where: str = "running_var + eps") -> Fraction:
    """The square root of a non-negative rational that is the square of a rational, else an error naming ``where``.

    Exact batch norm divides by ``sqrt(running_var + eps)``, so it needs that root to be rational.

    >>> exact_sqrt(Fraction(9, 4))
    Fraction(3, 2)
    >>> exact_sqrt(Fraction(2), "running_var[0] + eps")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: running_var[0] + eps = 2 has no rational square root, ...
    """
    value = Fraction(value)  # a float at its exact binary value
    num, den = value.numerator, value.denominator
    if num < 0:
        raise VerifierError(f"{where} = {value} is negative: it has no real square root")
    rn, rd = isqrt(num), isqrt(den)
    if rn * rn != num or rd * rd != den:
        raise VerifierError(
            f"{where} = {value} has no rational square root, so exact batch_norm is impossible; choose "
            "running_var + eps to be the square of a rational (e.g. running_var = 4 - eps)"
        )
    return Fraction(rn, rd)


def _bn_vectors(
    channels: int,
    running_mean: Any,
    running_var: Any,
    weight: Any,
    bias: Any,
    eps: Any,
    dtype: np.dtype[Any],
) -> tuple[np.ndarray, np.ndarray]:
    """The per-channel scale ``gamma / sqrt(var + eps)`` and shift ``beta - mean * scale``."""
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is None:
            raise VerifierTypeError(f"{name} must be an array with one entry per channel ({channels}), got None")
    vectors = {}
    for name, value in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if value is None:
            continue
        arr = as_array(name, value)
        if arr.shape != (channels,):
            raise VerifierError(f"{name} must have shape ({channels},), one entry per channel, got {arr.shape}")
        ensure_finite(name, arr)
        vectors[name] = arr
    check.finite_real("eps", eps, 0)
    var = vectors["running_var"]
    if (var < 0).any():
        bad = int(np.argmax(var < 0))
        raise VerifierError(f"running_var must be >= 0, got running_var[{bad}] = {var[bad]!r}")
    if dtype.kind == "f":
        if isinstance(eps, numbers.Rational) and Fraction(eps) > float(np.finfo(np.float64).max):  # no float holds it
            raise VerifierError(f"eps must be at most float64's largest value for float input, got {eps!r}")
        denominator = np.sqrt(var.astype(np.float64) + float(eps))
        if (denominator == 0).any():
            raise VerifierError("running_var + eps is 0 for some channel: the normalisation would divide by zero")
        gamma = vectors["weight"].astype(np.float64) if "weight" in vectors else 1.0
        beta = vectors["bias"].astype(np.float64) if "bias" in vectors else 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            scale = (gamma / denominator).astype(dtype)
            shift = (beta - vectors["running_mean"].astype(np.float64) * scale).astype(dtype)
        for name, values in (("weight / sqrt(running_var + eps)", scale), ("bias - running_mean * scale", shift)):
            if not np.isfinite(values).all():
                bad = int(np.argmin(np.isfinite(values)))
                raise VerifierError(
                    f"batch norm's {name} overflows {dtype} at channel {bad} (running_var[{bad}] = "
                    f"{var[bad]!r}, eps = {eps!r}): the result could not be finite"
                )
        return scale, shift
    exact_eps = _fraction(eps)
    scale = np.empty(channels, object)
    shift = np.empty(channels, object)
    for c in range(channels):
        root = exact_sqrt(_fraction(var[c]) + exact_eps, f"running_var[{c}] + eps")
        if root == 0:
            raise VerifierError(f"running_var[{c}] + eps is 0: the normalisation would divide by zero")
        gamma_c = _fraction(vectors["weight"][c]) if "weight" in vectors else Fraction(1)
        beta_c = _fraction(vectors["bias"][c]) if "bias" in vectors else Fraction(0)
        scale[c] = gamma_c / root
        shift[c] = beta_c - _fraction(vectors["running_mean"][c]) * scale[c]
    return scale, shift


def batch_norm(
    input: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    eps: float | Fraction = 1e-5,
) -> np.ndarray:
    """Inference-form batch normalisation: ``(x - mean) / sqrt(var + eps) * weight + bias`` per channel.

    The arguments are ``torch.nn.functional.batch_norm``'s with ``training=False``. Exact inputs (integer
    or object arrays) give exact ``Fraction`` results, which needs ``var + eps`` to be a rational square.
    The input is (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W), as torch takes it; channels are axis 1.

    >>> x = np.array([[[[1.0, 3.0]]]])
    >>> batch_norm(x, running_mean=[1.0], running_var=[4.0], eps=0.0)
    array([[[[0., 1.]]]])
    >>> from fractions import Fraction
    >>> batch_norm(np.array([[[[3]]]]), [1], [4 - Fraction(1, 4)], eps=Fraction(1, 4))
    array([[[[Fraction(1, 1)]]]], dtype=object)
    """
    x = as_array("input", input)
    if not 2 <= x.ndim <= 5:
        raise VerifierError(
            f"input must be (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W), got {x.ndim}-D shape {x.shape}"
        )
    dtype = np.dtype(x.dtype) if x.dtype.kind == "f" else np.dtype(object)
    item = OBJECT_BYTES if dtype.kind == "O" else dtype.itemsize
    ensure_fits(2 * x.size * item, f"batch_norm on input {x.shape}")  # the result and one temporary
    ensure_finite("input", x)
    scale, shift = _bn_vectors(x.shape[1], running_mean, running_var, weight, bias, eps, dtype)
    per_channel = (x.shape[1],) + (1,) * (x.ndim - 2)  # the channel axis is 1 at every rank
    scale, shift = scale.reshape(per_channel), shift.reshape(per_channel)
    if dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below instead
            out: np.ndarray = np.multiply(x, scale)
            out += shift
        if not all_finite(out):
            raise VerifierError(
                f"batch_norm overflowed {dtype}: the result has non-finite entries although every input is finite"
            )
        return out
    return np.asarray(x.astype(object) * scale + shift)


def fold_batch_norm(
    conv_weight: Any,
    conv_bias: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    eps: float | Fraction = 1e-5,
) -> tuple[np.ndarray, np.ndarray]:
    """Fold an inference-form batch norm into the conv before it (theorem ``batchnorm-fold``).

    ``batch_norm(conv2d(x, W, b), ...)`` equals ``conv2d(x, W', b')`` with ``W'[o] = W[o] * s[o]`` and
    ``b'[o] = beta[o] + (b[o] - mean[o]) * s[o]``, where ``s = gamma / sqrt(var + eps)``.

    >>> w2, b2 = fold_batch_norm(np.ones((1, 1, 1, 1)), None, running_mean=[1.0], running_var=[4.0], eps=0.0)
    >>> w2.ravel(), b2
    (array([0.5]), array([-0.5]))

    Returns:
        (folded weight, folded bias) in the weight's dtype (object ``Fraction`` arrays for exact weights).
    """
    w = as_array("conv_weight", conv_weight)
    if w.ndim != 4:
        raise VerifierError(f"conv_weight must be 4-D (C_out, C_in/groups, kH, kW), got shape {w.shape}")
    b = None if conv_bias is None else as_array("conv_bias", conv_bias)
    if b is not None and b.shape != (w.shape[0],):
        raise VerifierError(f"conv_bias must have shape ({w.shape[0]},), got {b.shape}")
    if b is not None:
        common_dtype(conv_weight=w, conv_bias=b)
        ensure_finite("conv_bias", b)
    ensure_finite("conv_weight", w)
    dtype = np.dtype(w.dtype) if w.dtype.kind == "f" else np.dtype(object)
    scale, shift = _bn_vectors(w.shape[0], running_mean, running_var, weight, bias, eps, dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below instead
        folded_w = w.astype(dtype) * scale[:, None, None, None]
        folded_b = np.asarray(shift if b is None else shift + b.astype(dtype) * scale, dtype=dtype)
    if dtype.kind == "f" and not (np.isfinite(folded_w).all() and np.isfinite(folded_b).all()):
        raise VerifierError(
            f"fold_batch_norm overflowed {dtype}: the folded weight or bias has non-finite entries although every "
            "input is finite"
        )
    return folded_w, folded_b
