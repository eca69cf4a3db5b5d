"""Convolution, batch normalisation and ReLU on NumPy arrays, with ``torch.nn.functional``'s semantics.

Activations are NCHW (or CHW without a batch axis), weights are OIHW, and the output size follows the
one rule in :meth:`verifier.spec.Conv2d.output_size`. float32 stays float32 and float64 stays float64;
integer arrays compute in int64 (refused when the result could overflow) and object arrays of Python
``int`` or ``Fraction`` compute exactly (NumPy integers among them are taken as Python ints, which never
wrap around).

>>> import numpy as np
>>> x = np.arange(8.0).reshape(1, 2, 2, 2)          # two 2x2 maps
>>> w = np.array([[[[1.0]], [[10.0]]]])              # one 1x1 filter: x_0 + 10 x_1
>>> conv2d(x, w)[0, 0]
array([[40., 51.],
       [62., 73.]])
>>> relu(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, partial
from math import isqrt
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..spec import Conv2d
from .memory import ensure_fits
from .parallel import bands, parallel, single_threaded_blas

__all__ = ["batch_norm", "conv2d", "conv_spec", "fold_batch_norm", "relu"]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ALLOWED = "float32, float64, an integer dtype, or object arrays of exact numbers (int, Fraction)"
#: Bytes an object-array entry costs: the pointer plus a small Python number.
_OBJECT_BYTES = 64
#: Bookkeeping beyond the arrays (views, thread tasks, small temporaries), a generous constant.
_OVERHEAD_BYTES = 256 * 1024


# -- input checks ----------------------------------------------------------------------------------------
def as_array(name: str, value: Any) -> np.ndarray:
    """``value`` as an array of an allowed dtype, or a :class:`VerifierTypeError` naming ``name``."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise VerifierTypeError(f"{name} must be an array of numbers, got {type(value).__name__}: {exc}") from None
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype not in FLOAT_DTYPES:
        raise VerifierTypeError(f"{name} has dtype {arr.dtype}; allowed: {_ALLOWED}")
    if kind == "O":
        return _exact_objects(name, arr)
    if kind not in "fiu":
        raise VerifierTypeError(f"{name} has dtype {arr.dtype}; allowed: {_ALLOWED}")
    return arr


def _exact_objects(name: str, arr: np.ndarray) -> np.ndarray:
    """An object array's entries checked to be exact numbers; NumPy integers among them become Python ints.

    A NumPy integer (``np.int64(2**62)``) is a ``numbers.Integral`` but wraps around on overflow, so an
    object array that holds one would not compute exactly: such arrays are copied with Python ints instead.
    The check reads every entry, so the entries' memory is estimated first (a broadcast view is cheap to
    pass in but not to compute on).
    """
    ensure_fits(arr.size * _OBJECT_BYTES, f"{name}, an object array of {arr.size:,} entries")
    converted = None
    for index, item in np.ndenumerate(arr):
        if type(item) is int or type(item) is Fraction:
            continue
        if not isinstance(item, numbers.Rational) or isinstance(item, (bool, np.bool_)):
            raise VerifierTypeError(
                f"{name}{list(index)} is {item!r} ({type(item).__name__}); object arrays must hold exact "
                "numbers (int, Fraction)"
            )
        if isinstance(item, np.integer):
            if converted is None:
                converted = np.array(arr, dtype=object, copy=True)
            converted[index] = int(item)
    return arr if converted is None else converted


def common_dtype(**arrays: np.ndarray | None) -> np.dtype[Any]:
    """The dtype the result is computed in; floats must agree exactly, and floats never mix with exact data.

    >>> common_dtype(input=np.zeros(1, np.float32), weight=np.zeros(1, np.float32))
    dtype('float32')
    >>> common_dtype(input=np.zeros(1, np.int8), weight=np.zeros(1, object))
    dtype('O')
    """
    given = {name: a for name, a in arrays.items() if a is not None}
    floats = {name: a.dtype for name, a in given.items() if a.dtype.kind == "f"}
    if floats:
        exact = [name for name in given if name not in floats]
        if exact:
            first = next(iter(floats))
            raise VerifierTypeError(
                f"{first} is {floats[first]} but {exact[0]} is {given[exact[0]].dtype}: pass floats everywhere or "
                "exact numbers (integer or object arrays) everywhere"
            )
        if len(set(floats.values())) > 1:
            described = ", ".join(f"{name} is {dt}" for name, dt in floats.items())
            raise VerifierTypeError(f"dtypes differ ({described}): convert them to one of float32 or float64")
        return next(iter(floats.values()))
    if any(a.dtype.kind == "O" for a in given.values()):
        return np.dtype(object)
    return np.dtype(np.int64)


def ensure_finite(name: str, arr: np.ndarray) -> float:
    """Refuse NaN or infinite entries, so no verdict ever rests on them; return the largest magnitude.

    >>> ensure_finite("input", np.array([1.0, np.nan, np.inf]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: input has 1 NaN and 1 infinite entries (first at index [1]); ...
    """
    if arr.dtype.kind != "f" or arr.size == 0:
        return 0.0
    low, high = float(arr.min()), float(arr.max())
    if np.isfinite(low) and np.isfinite(high):  # NaN spreads to both, an infinity shows in one
        return max(-low, high)
    finite = np.isfinite(arr)  # not all True: the min or the max was NaN or infinite
    nan = int(np.isnan(arr).sum())
    inf = int(arr.size - finite.sum()) - nan
    first = [int(i) for i in np.unravel_index(int(np.argmin(finite)), arr.shape)]
    raise VerifierError(
        f"{name} has {nan} NaN and {inf} infinite entries (first at index {first}); the engine refuses "
        "non-finite data so that no check is ever passed on it"
    )


#: Covers the rounding of the bound's own float64 arithmetic (a few operations, each within 2**-53).
_SLACK = 1 + 2**-48
#: Entries per BLAS dot product in :func:`_square_sum_bound`; small enough that gamma_n stays far below 1.
_DOT_CHUNK = 1 << 20


def gamma(n: int, dtype: np.dtype[Any]) -> float:
    """Higham's gamma_n = n u / (1 - n u) for the float dtype's unit roundoff u (inf when n u >= 1).

    A computed sum of n products, added in any order, differs from the exact sum by at most gamma_n times
    the sum of the products' magnitudes (N. J. Higham, *Accuracy and Stability of Numerical Algorithms*,
    2nd ed., section 3.1); the bound holds for a bias added last with n one larger.

    >>> gamma(1, np.dtype(np.float64)) == 2.0**-53 / (1 - 2.0**-53)
    True
    """
    u = float(np.finfo(dtype).eps) / 2
    return n * u / (1 - n * u) if n * u < 1 else math.inf


def _square_sum_bound(arr: np.ndarray) -> float:
    """An upper bound of the exact sum of ``arr``'s squared entries, from BLAS dot products in one pass.

    inf when the array is not contiguous or a dot is not finite: a NaN or infinite entry reaches its dot
    as NaN or +inf, and squares can also exceed the dtype. Otherwise every entry is finite, and as the
    squares are all >= 0 each dot is at most gamma_n of its exact value below it (and, where squares fall
    below the smallest normal float, at most that much per entry).
    """
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        return math.inf
    flat = np.ravel(arr, order="K")  # a view of a contiguous array
    tiny = float(np.finfo(arr.dtype).tiny)
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, flat.size, _DOT_CHUNK):
            chunk = flat[start : start + _DOT_CHUNK]
            dot = float(np.dot(chunk, chunk))
            if not math.isfinite(dot):
                return math.inf
            # below the smallest normal float a square may round (or flush) to zero: at most that much per entry
            total += dot / (1 - gamma(chunk.size, arr.dtype)) + chunk.size * tiny
    return total * _SLACK


def finite_norm(name: str, arr: np.ndarray) -> float:
    """Refuse NaN or infinite entries, as :func:`ensure_finite` does; return a bound of the Frobenius norm.

    One pass over the data in the usual case (:func:`_square_sum_bound`); when that pass cannot decide,
    :func:`ensure_finite` looks, and the bound is sqrt(size) times the largest magnitude.

    >>> finite_norm("weight", np.array([3.0, 4.0])) >= 5.0
    True
    """
    if arr.size == 0:
        return 0.0
    squares = _square_sum_bound(arr)
    if math.isfinite(squares):
        return math.sqrt(squares) * _SLACK
    return ensure_finite(name, arr) * math.sqrt(arr.size) * _SLACK


def _ensure_int64_safe(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, terms: int) -> None:
    """Refuse integer work whose sums could leave int64 (NumPy would wrap around silently)."""

    def biggest(a: np.ndarray | None) -> int:
        return 0 if a is None or a.size == 0 else max(abs(int(a.max())), abs(int(a.min())))

    bound = biggest(x) * biggest(w) * terms + biggest(b)
    if bound >= 2**63:
        raise VerifierError(
            f"integer conv2d could overflow int64 (sums up to {bound:.3e} possible); pass object arrays of "
            "Python ints for unbounded exact arithmetic"
        )


# -- conv2d ----------------------------------------------------------------------------------------------


def _typed(value: Any) -> Any:
    """A cache key that tells ``1`` from ``True``, ``1.0`` and ``np.int64(1)`` (equal, but not all accepted)."""
    if isinstance(value, (tuple, list)):
        return tuple(_typed(v) for v in value)
    return (type(value), value)


def conv_spec(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
) -> Conv2d:
    """The :class:`~verifier.spec.Conv2d` that ``conv2d`` runs, checked against the arrays' shapes.

    >>> conv_spec((1, 256, 56, 56), (64, 256, 1, 1), None)
    Conv2d(256, 64, kernel_size=(1, 1), stride=(1, 1), bias=False)
    >>> conv_spec((1, 3, 8, 8), (64, 64, 3, 3), None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: input has 3 channels but weight expects 64 (groups=1) ...
    """
    return _conv_spec(input_shape, weight_shape, bias_shape, stride, padding, dilation, groups)


def _conv_spec(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
) -> Conv2d:
    if len(input_shape) not in (3, 4):
        raise VerifierError(
            f"input must be 4-D (N, C, H, W) or 3-D (C, H, W), got {len(input_shape)}-D shape {tuple(input_shape)}"
        )
    if len(weight_shape) != 4:
        raise VerifierError(
            f"weight must be 4-D (C_out, C_in/groups, kH, kW), got {len(weight_shape)}-D shape {tuple(weight_shape)}"
        )
    g = check.int_at_least("groups", groups, 1)
    channels = input_shape[-3]
    out_channels, per_group, kh, kw = weight_shape
    shapes = f"(input shape {tuple(input_shape)}, weight shape {tuple(weight_shape)})"
    if channels != per_group * g:
        raise VerifierError(f"input has {channels} channels but weight expects {per_group * g} (groups={g}) {shapes}")
    if bias_shape is not None and tuple(bias_shape) != (out_channels,):
        raise VerifierError(
            f"bias must be 1-D with one entry per output channel ({out_channels}), got shape {tuple(bias_shape)}"
        )
    try:
        return Conv2d(channels, out_channels, (kh, kw), stride, padding, dilation, g, bias=bias_shape is not None)
    except VerifierError as exc:
        raise type(exc)(f"{exc} {shapes}") from None


def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """A 2-D convolution (cross-correlation) with ``torch.nn.functional.conv2d``'s arguments and result.

    Each output map ``o`` at each position is ``bias[o]`` plus the sum, over every input map of ``o``'s
    group and every kernel tap, of weight times input; taps that land in the padding add zero.

    >>> x = np.arange(16).reshape(1, 1, 4, 4)            # integers compute exactly, in int64
    >>> conv2d(x, np.ones((1, 1, 3, 3), int), padding="same")[0, 0]
    array([[10, 18, 24, 18],
           [27, 45, 54, 39],
           [51, 81, 90, 63],
           [42, 66, 72, 50]])
    >>> conv2d(np.zeros((1, 3, 8, 8)), np.zeros((64, 64, 3, 3)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: input has 3 channels but weight expects 64 (groups=1) ...

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride: int or (sH, sW).
        padding: int, (pH, pW), ``"valid"`` or ``"same"`` (odd totals pad one more at the bottom/right).
        dilation: int or (dH, dW).
        groups: splits the input and output maps into this many independent convs.

    Returns:
        (N, C_out, H_out, W_out), or (C_out, H_out, W_out) for an unbatched input, in the common dtype.
    """
    x = as_array("input", input)
    w = as_array("weight", weight)
    b = None if bias is None else as_array("bias", bias)
    plan = _conv_plan(x, w, b, stride, padding, dilation, groups)
    ensure_fits(plan.workspace, f"conv2d on input {tuple(x.shape)}")  # before any allocation
    dtype = plan.dtype
    x4 = x if x.ndim == 4 else x[None]
    if dtype.kind == "f":
        # Bounds of the Frobenius norms: every output is one weight row times one window of the input
        # (padding adds zeros), so Cauchy-Schwarz bounds it by |W| |x| + max |bias|.
        w_norm = finite_norm("weight", w)
        b_max = 0.0 if b is None else ensure_finite("bias", b)
        x_norm = math.inf if plan.input_after else finite_norm("input", x)
    elif dtype.kind == "i":
        _ensure_int64_safe(x, w, b, plan.terms)
    x4 = x4.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    out = np.empty(plan.out_shape, dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite result is reported below instead
        plan.scheme(x4, w, out)
        if b is not None:
            out += b[:, None, None]
    if dtype.kind == "f" and not (x_norm * w_norm + b_max) * plan.rounding < plan.largest:
        ensure_finite_result(out, x)  # could overflow, or the input is unchecked: look at the result
    return out if x.ndim == 4 else out[0]


@dataclass(frozen=True)
class _Plan:
    """What ``conv2d`` decides from the arguments' shapes, dtypes and options alone, kept for repeated calls."""

    dtype: np.dtype[Any]
    out_shape: tuple[int, int, int, int]
    workspace: int
    #: whether the finite result is the input's check too (it is smaller and reads every input entry)
    input_after: bool
    #: the function that computes the conv: ``scheme(input, weight, out)``
    scheme: Callable[[np.ndarray, np.ndarray, np.ndarray], None]
    terms: int
    #: the factor by which rounding can raise a computed output above its exact bound, and the dtype's largest
    rounding: float
    largest: float


_PLANS: dict[Any, _Plan] = {}


def _conv_plan(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, *options: Any) -> _Plan:
    """``conv2d``'s plan for these arrays and options: checked on first sight, then looked up."""
    bshape = None if b is None else b.shape
    try:
        key: Any = (x.shape, w.shape, bshape, x.dtype, w.dtype, None if b is None else b.dtype, _typed(options))
        plan = _PLANS.get(key)
    except TypeError:  # an unhashable option: checked below, never remembered
        key, plan = None, None
    if plan is None:
        spec = conv_spec(x.shape, w.shape, bshape, *options)
        dtype = common_dtype(input=x, weight=w, bias=b)
        n, _, h, wd = x.shape if x.ndim == 4 else (1, *x.shape)
        ho, wo = spec.output_size(h, wd)
        out_shape = (n, spec.out_channels, ho, wo)
        scheme: Callable[[np.ndarray, np.ndarray, np.ndarray], None]
        if dtype.kind == "f" and spec.kernel_pair == (1, 1) and spec.stride_pair == (1, 1) and _unpadded(spec):
            scheme = partial(_conv1x1, groups=spec.groups)
        elif dtype.kind == "f" and spec.stride_pair == (1, 1):
            scheme = partial(_conv_shifted, spec=spec)
        else:
            scheme = partial(_conv_im2col, spec=spec)
        terms = spec.in_per_group * spec.kernel_pair[0] * spec.kernel_pair[1]
        if dtype.kind == "f":  # a computed output exceeds its exact bound by at most a factor 1 + gamma_(terms+1)
            rounding, largest = (1 + gamma(terms + 1, dtype)) * _SLACK, float(np.finfo(dtype).max)
        else:
            rounding, largest = math.inf, 0.0
        workspace = conv_workspace_bytes(spec, (n, x.shape[-3], h, wd), dtype)
        ensure_fits(workspace, f"conv2d on input {tuple(x.shape)}")  # before any work that grows with the input
        plan = _Plan(
            dtype,
            out_shape,
            workspace,
            dtype.kind == "f" and math.prod(out_shape) < x.size and _reads_every_input(spec, h, wd),
            scheme,
            terms,
            rounding,
            largest,
        )
        if key is not None:
            if len(_PLANS) >= 256:
                _PLANS.clear()
            _PLANS[key] = plan
    return plan


def _reads_every_input(spec: Conv2d, h: int, w: int) -> bool:
    """Whether some output reads every input entry: strides and dilation gaps can leave pixels that no
    output reads (and whose NaN would then go unnoticed in the output).

    At stride 1 the taps of kernel offset u read rows u*d - top .. u*d - top + H_out - 1; the first offset
    starts at or before row 0, the last ends at or after row H - 1, and consecutive offsets leave no gap
    when d <= H_out. Otherwise the rows (and columns) the taps reach are counted.

    >>> _reads_every_input(Conv2d(1, 1, 1, stride=2), 9, 9), _reads_every_input(Conv2d(1, 1, 3, dilation=4), 9, 9)
    (False, False)
    >>> _reads_every_input(Conv2d(1, 1, 3, dilation=3), 9, 9), _reads_every_input(Conv2d(1, 1, 3, stride=2), 9, 9)
    (True, True)
    """
    ho, wo = spec.output_size(h, w)
    (top, _), (left, _) = spec.padding_amounts
    for size, out, lo, k, s, d in zip(
        (h, w), (ho, wo), (top, left), spec.kernel_pair, spec.stride_pair, spec.dilation_pair, strict=True
    ):
        if s == 1:
            if k > 1 and d > out:
                return False
        elif len({r * s - lo + u * d for r in range(out) for u in range(k)} & set(range(size))) < size:
            return False
    return True


def ensure_finite_result(out: np.ndarray, x: np.ndarray, what: str = "conv2d") -> None:
    """Refuse a non-finite result: explained by a non-finite input, or else reported as ``what``'s overflow.

    With finite weights, an input entry that is NaN or infinite makes every output that reads it NaN or
    infinite (0 * inf is NaN), so a finite output also proves that the input it read was finite; when the
    output is the smaller array, this check replaces the one of the input.
    """
    if all_finite(out):
        return
    ensure_finite("input", x)
    raise VerifierError(
        f"{what} overflowed {out.dtype}: the result has non-finite entries although every input is finite"
    )


def all_finite(arr: np.ndarray) -> bool:
    """Whether every entry of a float array is finite: one pass over the data in the usual case.

    One BLAS matrix-vector product sums the rows: a NaN or an infinity makes its row's sum NaN or infinite,
    so finite sums prove finite entries. Sums that overflow, and arrays BLAS cannot take without a copy,
    are settled by the exact look at the minimum and maximum (NaN spreads to both, an infinity shows in one).

    >>> all_finite(np.array([[1.0, 2.0], [3.0, 4.0]])), all_finite(np.array([[1.0, 2.0], [np.inf, -np.inf]]))
    (True, False)
    """
    if arr.size == 0:
        return True
    sums = _row_sums(arr)
    if sums is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(sums.sum()):
                return True
    return bool(np.isfinite(arr.min()) and np.isfinite(arr.max()))


def _row_sums(arr: np.ndarray) -> np.ndarray | None:
    """The sum of each row (the last axis, or the last two of a C-contiguous array of more than two), by one
    BLAS matrix-vector product; None when BLAS could not take the array without a copy."""
    if arr.ndim == 2 and arr.strides[1] == arr.itemsize:
        rows = arr
    elif arr.ndim > 2 and arr.flags.c_contiguous:
        rows = arr.reshape(-1, arr.shape[-2] * arr.shape[-1])
    else:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        sums: np.ndarray = np.matmul(rows, _ones(rows.shape[1], arr.dtype.str))
    return sums


def conv_workspace_bytes(spec: Conv2d, input_shape: tuple[int, ...], dtype: np.dtype[Any]) -> int:
    """An upper bound on the bytes ``conv2d`` allocates in one call: output, scratch, and a cast input.

    The scratch is the largest of the three schemes': the padded maps plus two accumulators (shifted
    products), or the padded image, its gathered windows (twice) and their product (im2col, per item).
    """
    n, c, h, w = input_shape
    ho, wo = spec.output_size(h, w)
    item = _OBJECT_BYTES if dtype.kind == "O" else dtype.itemsize
    (pt, pb), (pl, pr) = spec.padding_amounts
    (kh, kw), (_, dw) = spec.kernel_pair, spec.dilation_pair
    cg, og = spec.in_per_group, spec.out_per_group
    hp, wp = h + pt + pb, w + pl + pr
    shifted = cg * (hp * wp + dw * (kw - 1)) + 2 * og * ho * wp
    im2col = c * hp * wp + 2 * cg * kh * kw * ho * wo + og * ho * wo  # non-BLAS products may copy the windows
    cast = n * c * h * w  # when the input is not already in the computing dtype (or not contiguous)
    return (n * spec.out_channels * ho * wo + max(shifted, im2col) + cast) * item + _OVERHEAD_BYTES


def _unpadded(spec: Conv2d) -> bool:
    return spec.padding_amounts == ((0, 0), (0, 0))


def _conv1x1(x: np.ndarray, w: np.ndarray, out: np.ndarray, groups: int) -> None:
    """1x1, stride 1, no padding: per group, the matrix product ``W (O, C) @ X[n] (C, H*W)`` on views.

    With ``VERIFIER_THREADS`` above 1 the pixels are split into bands on threads, each with single-threaded BLAS.
    """
    n, c, h, wd = x.shape
    x3 = np.ascontiguousarray(x).reshape(n, c, h * wd)  # a view for C-contiguous input: no copy
    y3 = out.reshape(n, out.shape[1], h * wd)
    cg, og = c // groups, out.shape[1] // groups
    parts = bands(h * wd, min_size=1024)

    def band(lo: int, hi: int) -> None:
        for g in range(groups):
            weight = w[g * og : (g + 1) * og, :, 0, 0]
            for i in range(n):
                np.matmul(weight, x3[i, g * cg : (g + 1) * cg, lo:hi], out=y3[i, g * og : (g + 1) * og, lo:hi])

    with single_threaded_blas(len(parts) > 1):
        parallel([partial(band, lo, hi) for lo, hi in parts])


def _conv_shifted(x: np.ndarray, w: np.ndarray, out: np.ndarray, spec: Conv2d) -> None:
    """Stride 1: one matrix product per kernel tap on an offset view of the flattened padded image.

    With the padded maps flattened row after row (row length ``Wp``), the input that tap (u, v) meets
    for every output position is the same matrix shifted by ``u*dH*Wp + v*dW``: a view, not a copy. The
    products cover ``Wp - W_out`` extra columns per row, which are dropped at the end.
    """
    n, _, h, wd = x.shape
    (pt, pb), (pl, pr) = spec.padding_amounts
    kh, kw = spec.kernel_pair
    dh, dw = spec.dilation_pair
    hp, wp = h + pt + pb, wd + pl + pr
    ho, wo = out.shape[2], out.shape[3]
    cg, og = spec.in_per_group, spec.out_per_group
    span = ho * wp
    flat = np.zeros((cg, hp * wp + dw * (kw - 1)), x.dtype)  # the tail keeps the last tap's view in bounds
    padded = flat[:, : hp * wp].reshape(cg, hp, wp)
    acc = np.empty((og, span), x.dtype)
    tmp = np.empty((og, span), x.dtype)
    taps = [(u, v) for u in range(kh) for v in range(kw)]
    for i in range(n):
        for g in range(spec.groups):
            padded[:, pt : pt + h, pl : pl + wd] = x[i, g * cg : (g + 1) * cg]
            wg = w[g * og : (g + 1) * og]
            for t, (u, v) in enumerate(taps):
                offset = u * dh * wp + v * dw
                np.matmul(wg[:, :, u, v], flat[:, offset : offset + span], out=acc if t == 0 else tmp)
                if t:
                    acc += tmp
            out[i, g * og : (g + 1) * og] = acc.reshape(og, ho, wp)[:, :, :wo]


def _conv_im2col(x: np.ndarray, w: np.ndarray, out: np.ndarray, spec: Conv2d) -> None:
    """Any stride and dtype: gather each window into a column (one batch item at a time), then multiply."""
    (pt, pb), (pl, pr) = spec.padding_amounts
    kh, kw = spec.kernel_pair
    sh, sw = spec.stride_pair
    dh, dw = spec.dilation_pair
    ho, wo = out.shape[2], out.shape[3]
    cg, og = spec.in_per_group, spec.out_per_group
    for i in range(x.shape[0]):
        if x.dtype.kind == "O":  # np.pad would put NumPy integers among the exact Python numbers
            padded = np.full((x.shape[1], x.shape[2] + pt + pb, x.shape[3] + pl + pr), 0, dtype=object)
            padded[:, pt : pt + x.shape[2], pl : pl + x.shape[3]] = x[i]
        else:
            padded = np.pad(x[i], ((0, 0), (pt, pb), (pl, pr)))
        windows = sliding_window_view(padded, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(1, 2))
        windows = windows[:, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, ::dh, ::dw]  # (C, Ho, Wo, kh, kw)
        for g in range(spec.groups):
            cols = windows[g * cg : (g + 1) * cg].transpose(0, 3, 4, 1, 2).reshape(cg * kh * kw, ho * wo)
            wg = w[g * og : (g + 1) * og].reshape(og, cg * kh * kw)
            out[i, g * og : (g + 1) * og] = (wg @ cols).reshape(og, ho, wo)


# -- relu ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _constant(length: int, dtype: str, value: int) -> np.ndarray:
    """A read-only row of one value, kept once per length and dtype."""
    row = np.full(length, value, dtype)
    row.flags.writeable = False
    return row


def _ones(length: int, dtype: str) -> np.ndarray:
    """Ones to sum rows by a matrix-vector product."""
    return _constant(length, dtype, 1)


def _zeros(length: int, dtype: str) -> np.ndarray:
    """Zeros for the ReLU to compare against (NumPy's loop over two arrays beats the one with a scalar)."""
    return _constant(length, dtype, 0)


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
    item = _OBJECT_BYTES if x.dtype.kind == "O" else x.dtype.itemsize
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


# -- batch norm ------------------------------------------------------------------------------------------
def _fraction(value: Any) -> Fraction:
    """An exact number (or a float, taken at its exact binary value) as a ``Fraction``."""
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    return Fraction(float(value))


def _exact_sqrt(value: Fraction, where: str) -> Fraction:
    """The square root of a non-negative rational that is the square of a rational, else an error."""
    num, den = value.numerator, value.denominator
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
        root = _exact_sqrt(_fraction(var[c]) + exact_eps, f"running_var[{c}] + eps")
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
    item = _OBJECT_BYTES if dtype.kind == "O" else dtype.itemsize
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
