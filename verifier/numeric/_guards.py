"""The engine's guards: what is checked before and after the arithmetic, so that no verdict rests on bad data.

Read :mod:`verifier.numeric.reference` (the definition, as loops) and :mod:`verifier.numeric.conv` (the
fast schemes) first; this module is the machinery behind them:

* input checks: allowed dtypes, exact object arrays, the common dtype (:func:`as_array`,
  :func:`common_dtype`) and the conv's spec from the arrays' shapes (:func:`conv_spec`);
* finiteness: no NaN or infinity in, none out (:func:`ensure_finite`, :func:`all_finite`,
  :func:`ensure_finite_result`);
* overflow bounds: Higham's rounding bound :func:`gamma`, a bound of the sum of squares
  (:func:`finite_norm`), and the int64 check (:func:`ensure_int64_safe`);
* plans and workspaces: what ``conv2d`` decides from shapes and dtypes alone, kept for repeated calls
  (:func:`conv_plan`), and the bytes it may allocate (:func:`conv_workspace_bytes`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ..spec import Conv2d

__all__ = [
    "OBJECT_BYTES",
    "Plan",
    "Scheme",
    "all_finite",
    "as_array",
    "common_dtype",
    "constant_row",
    "conv_plan",
    "conv_spec",
    "conv_workspace_bytes",
    "ensure_finite",
    "ensure_finite_result",
    "ensure_int64_safe",
    "finite_norm",
    "gamma",
]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ALLOWED = "float32, float64, an integer dtype, or object arrays of exact numbers (int, Fraction)"
#: Bytes an object-array entry costs: the pointer plus a small Python number.
OBJECT_BYTES = 64
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
    ensure_fits(arr.size * OBJECT_BYTES, f"{name}, an object array of {arr.size:,} entries")
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


def ensure_int64_safe(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, terms: int) -> None:
    """Refuse integer work whose sums could leave int64 (NumPy would wrap around silently)."""

    def biggest(a: np.ndarray | None) -> int:
        return 0 if a is None or a.size == 0 else max(abs(int(a.max())), abs(int(a.min())))

    bound = biggest(x) * biggest(w) * terms + biggest(b)
    if bound >= 2**63:
        raise VerifierError(
            f"integer conv2d could overflow int64 (sums up to {bound:.3e} possible); pass object arrays of "
            "Python ints for unbounded exact arithmetic"
        )


# -- the conv's spec and plan --------------------------------------------------------------------------------
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


#: ``scheme(input, weight, out)`` writes the conv of ``input`` into ``out``; ``choose(spec, dtype)`` picks one
#: and names it (``"1x1"``, ``"shifted"`` or ``"im2col"``: its memory estimate depends on which).
Scheme = Callable[[np.ndarray, np.ndarray, np.ndarray], None]
Chooser = Callable[[Conv2d, np.dtype[Any]], tuple[str, Scheme]]


@dataclass(frozen=True)
class Plan:
    """What ``conv2d`` decides from the arguments' shapes, dtypes and options alone, kept for repeated calls."""

    dtype: np.dtype[Any]
    out_shape: tuple[int, int, int, int]
    workspace: int
    #: whether the finite result is the input's check too (it is smaller and reads every input entry)
    input_after: bool
    #: the function that computes the conv: ``scheme(input, weight, out)``, and its name
    scheme: Scheme
    scheme_name: str
    terms: int
    #: the factor by which rounding can raise a computed output above its exact bound, and the dtype's largest
    rounding: float
    largest: float


_PLANS: dict[Any, Plan] = {}


def conv_plan(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, options: tuple[Any, ...], choose: Chooser) -> Plan:
    """``conv2d``'s plan for these arrays and options: checked on first sight, then looked up.

    ``options`` are ``(stride, padding, dilation, groups)``; ``choose(spec, dtype)`` picks the scheme.
    """
    bshape = None if b is None else b.shape
    try:
        bdtype = None if b is None else b.dtype
        key: Any = (x.shape, w.shape, bshape, x.dtype, w.dtype, bdtype, x.flags.c_contiguous, _typed(options))
        plan = _PLANS.get(key)
    except TypeError:  # an unhashable option: checked below, never remembered
        key, plan = None, None
    if plan is None:
        spec = conv_spec(x.shape, w.shape, bshape, *options)
        dtype = common_dtype(input=x, weight=w, bias=b)
        n, _, h, wd = x.shape if x.ndim == 4 else (1, *x.shape)
        ho, wo = spec.output_size(h, wd)
        out_shape = (n, spec.out_channels, ho, wo)
        terms = spec.taps_per_output
        if dtype.kind == "f":  # a computed output exceeds its exact bound by at most a factor 1 + gamma_(terms+1)
            rounding, largest = (1 + gamma(terms + 1, dtype)) * _SLACK, float(np.finfo(dtype).max)
        else:
            rounding, largest = math.inf, 0.0
        name, scheme = choose(spec, dtype)
        copied = x.dtype != dtype or (name == "1x1" and not x.flags.c_contiguous)  # the input cast or made contiguous
        workspace = conv_workspace_bytes(spec, (n, x.shape[-3], h, wd), dtype, name, input_copied=copied)
        ensure_fits(workspace, f"conv2d on input {tuple(x.shape)}")  # before any work that grows with the input
        plan = Plan(
            dtype,
            out_shape,
            workspace,
            dtype.kind == "f" and math.prod(out_shape) < x.size and _reads_every_input(spec, h, wd),
            scheme,
            name,
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
        sums: np.ndarray = np.matmul(rows, constant_row(rows.shape[1], arr.dtype.str, 1))
    return sums


def conv_workspace_bytes(
    spec: Conv2d,
    input_shape: tuple[int, ...],
    dtype: np.dtype[Any],
    scheme: str = "any",
    *,
    input_copied: bool = True,
) -> int:
    """An upper bound on the bytes ``conv2d`` allocates in one call: output, the scheme's scratch, a copied input.

    The scratch of each scheme (:mod:`verifier.numeric.conv`), in entries:

    * ``"1x1"``: none; every product reads and writes views;
    * ``"shifted"``: the flattened padded maps of one group plus two accumulators (a product and a sum);
    * ``"im2col"``: one item's padded image, one group's gathered windows and their product;
    * ``"any"``: the largest of these.

    ``input_copied`` says whether the input is cast to the computing dtype, or copied to be contiguous.
    """
    n, c, h, w = input_shape
    ho, wo = spec.output_size(h, w)
    item = OBJECT_BYTES if dtype.kind == "O" else dtype.itemsize
    (pt, pb), (pl, pr) = spec.padding_amounts
    cg, og = spec.in_per_group, spec.out_per_group
    hp, wp = h + pt + pb, w + pl + pr
    scratch = {
        "1x1": 0,
        "shifted": cg * (hp * wp + spec.kernel_extent[1] - 1) + 2 * og * ho * wp,
        "im2col": c * hp * wp + spec.taps_per_output * ho * wo + og * ho * wo,
    }
    if scheme not in (*scratch, "any"):
        raise VerifierError(f"scheme must be one of {', '.join(map(repr, scratch))} or 'any', got {scheme!r}")
    copy = n * c * h * w if input_copied else 0
    most = max(scratch.values()) if scheme == "any" else scratch[scheme]
    return (n * spec.out_channels * ho * wo + most + copy) * item + _OVERHEAD_BYTES


@lru_cache(maxsize=32)
def constant_row(length: int, dtype: str, value: int) -> np.ndarray:
    """A read-only row of one value, kept once per length and dtype (ones sum rows; zeros feed the ReLU)."""
    row = np.full(length, value, dtype)
    row.flags.writeable = False
    return row
