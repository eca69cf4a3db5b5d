"""conv2d on NumPy arrays: ``torch.nn.functional.conv2d``'s arguments and result, computed fast.

The arithmetic is the loop in :func:`verifier.numeric.reference.conv2d`; every output is built by its
central line, ``total = total + w[o][i][u][v] * image[channel][y][z]`` (weight times input, summed over
the input maps of the output's group and the kernel's taps). Read that loop first: this module computes
the same sums with matrix products, by one of three schemes:

* **1x1** (stride 1, no padding): per group, one product ``W (C_out, C_in) @ X (C_in, H*W)``;
* **shifted** (stride 1, floats): one product per kernel tap, on a shifted view of the padded image;
* **im2col** (anything else, and exact data): each window gathered into a column, then one product.

The checks around the arithmetic (dtypes, shapes, NaN, overflow, memory) are in
:mod:`verifier.numeric._guards`.

>>> import numpy as np
>>> x = np.arange(8.0).reshape(1, 2, 2, 2)          # two 2x2 maps
>>> w = np.array([[[[1.0]], [[10.0]]]])              # one 1x1 filter: x_0 + 10 x_1
>>> conv2d(x, w)[0, 0]
array([[40., 51.],
       [62., 73.]])
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..memory import ensure_fits
from ..spec import Conv2d
from ._guards import (
    Scheme,
    as_array,
    conv_plan,
    ensure_finite,
    ensure_finite_result,
    ensure_int64_safe,
    finite_norm,
)
from .parallel import bands, parallel, single_threaded_blas

__all__ = ["conv2d"]


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
    group and every kernel tap, of weight times input; taps that land in the padding add zero. The
    definition in numbers is the loop :func:`verifier.numeric.reference.conv2d`, whose central line is
    ``total = total + w[o][i][u][v] * image[channel][y][z]``; this function gives the same results, fast.

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
    plan = conv_plan(x, w, b, (stride, padding, dilation, groups), _scheme)
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
        ensure_int64_safe(x, w, b, plan.terms)
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


# -- the schemes -----------------------------------------------------------------------------------------
def _scheme(spec: Conv2d, dtype: np.dtype[Any]) -> tuple[str, Scheme]:
    """The scheme for this conv, with its name: 1x1 and shifted views for floats at stride 1, else im2col."""
    if dtype.kind == "f" and spec.kernel_pair == (1, 1) and spec.stride_pair == (1, 1) and _unpadded(spec):
        return "1x1", partial(_conv1x1, groups=spec.groups)
    if dtype.kind == "f" and spec.stride_pair == (1, 1):
        return "shifted", partial(_conv_shifted, spec=spec)
    return "im2col", partial(_conv_im2col, spec=spec)


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
    flat = np.zeros((cg, hp * wp + spec.kernel_extent[1] - 1), x.dtype)  # the tail keeps the last tap's view in bounds
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
    for i in range(x.shape[0]):
        _im2col_item(x[i], w, out[i], spec)  # an item's buffers are freed before the next item's are made


def _im2col_item(image: np.ndarray, w: np.ndarray, out: np.ndarray, spec: Conv2d) -> None:
    """One item (C_in, H, W): pad it, then per group one product of the weights with the gathered windows."""
    (pt, pb), (pl, pr) = spec.padding_amounts
    sh, sw = spec.stride_pair
    dh, dw = spec.dilation_pair
    c, h, wd = image.shape
    ho, wo = out.shape[1], out.shape[2]
    cg, og = spec.in_per_group, spec.out_per_group
    if image.dtype.kind == "O":  # np.pad would put NumPy integers among the exact Python numbers
        padded = np.full((c, h + pt + pb, wd + pl + pr), 0, dtype=object)
        padded[:, pt : pt + h, pl : pl + wd] = image
    else:
        padded = np.pad(image, ((0, 0), (pt, pb), (pl, pr)))
    windows = sliding_window_view(padded, spec.kernel_extent, axis=(1, 2))
    windows = windows[:, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, ::dh, ::dw]  # (C, Ho, Wo, kh, kw)
    for g in range(spec.groups):
        wg = w[g * og : (g + 1) * og].reshape(og, spec.taps_per_output)
        cols = windows[g * cg : (g + 1) * cg].transpose(0, 3, 4, 1, 2).reshape(spec.taps_per_output, ho * wo)
        out[g * og : (g + 1) * og] = (wg @ cols).reshape(og, ho, wo)
        del cols  # before the next group's windows are gathered
