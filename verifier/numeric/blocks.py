"""The ResNet bottleneck on NumPy arrays: the plain forward pass and a fast folded one.

:func:`bottleneck_forward` runs the block exactly as written (conv, batch norm, ReLU, add). A
:class:`FoldedBottleneck` folds each batch norm into the conv before it (theorem ``batchnorm-fold``)
and runs the same block with matrix products on views and in-place elementwise work.

>>> from verifier.spec import Bottleneck
>>> from verifier.numeric.params import bottleneck_input, bottleneck_params
>>> block = Bottleneck(16, 4)                       # 16 -> 4 -> 4 -> 16 maps
>>> params = bottleneck_params(block, seed=0, dtype="float64")
>>> x = bottleneck_input(block, batch=2, input_size=6, seed=1, dtype="float64")
>>> y = bottleneck_forward(x, params)
>>> y.shape
(2, 16, 6, 6)
>>> bool(np.allclose(FoldedBottleneck(params)(x), y))
True
"""

from __future__ import annotations

import math
import threading
from functools import partial
from typing import Any

import numpy as np

from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ..spec import Bottleneck
from ._guards import all_finite, as_array, common_dtype, ensure_finite, ensure_finite_result
from .activations import relu, relu_into
from .conv import conv2d
from .normalization import fold_batch_norm
from .parallel import bands as bands_of
from .parallel import elementwise_workers, parallel, row_bands, single_threaded_blas
from .params import BatchNormParams, BottleneckParams

__all__ = ["FoldedBottleneck", "bottleneck_forward"]

#: Bytes of maps per step of an add followed by a ReLU: small enough that the ReLU (and the overflow check)
#: read back what the add just wrote from the core's own cache rather than from memory.
STEP_BYTES = 1 << 19


def _strides(block: Bottleneck) -> tuple[int, int]:
    return (block.stride, 1) if block.variant == "v1" else (1, block.stride)


def _check_input(x: Any, params: BottleneckParams, finite: bool = True) -> np.ndarray:
    if not isinstance(params, BottleneckParams):
        raise VerifierTypeError(
            f"params must be a BottleneckParams (see bottleneck_params), got {type(params).__name__}"
        )
    arr = as_array("input", x)
    if arr.ndim != 4:
        raise VerifierError(f"input must be 4-D (N, C, H, W), got shape {arr.shape}")
    if arr.shape[1] != params.block.in_channels:
        raise VerifierError(
            f"input has {arr.shape[1]} channels but the block expects {params.block.in_channels} ({params.block!r})"
        )
    common_dtype(input=arr, weight=params.conv1)
    if finite:
        ensure_finite("input", arr)
    return arr


def bottleneck_forward(x: Any, params: BottleneckParams) -> np.ndarray:
    """The bottleneck exactly as defined, layer after layer: nothing folded, nothing fused.

    ``relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))``; exact parameters and
    inputs (object arrays) give exact results.
    """
    arr = _check_input(x, params)
    block = params.block
    s1, s2 = _strides(block)
    y = relu(params.bn1.apply(conv2d(arr, params.conv1, stride=s1)), inplace=True)
    y = relu(params.bn2.apply(conv2d(y, params.conv2, stride=s2, padding=1, groups=block.groups)), inplace=True)
    y = params.bn3.apply(conv2d(y, params.conv3))
    shortcut = arr
    if params.downsample is not None and params.downsample_bn is not None:
        shortcut = params.downsample_bn.apply(conv2d(arr, params.downsample, stride=block.stride))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below instead
        y = y + shortcut
    if y.dtype.kind == "f" and not all_finite(y):  # the add can overflow where no layer did
        raise VerifierError(
            f"the bottleneck overflowed {y.dtype}: the residual add has non-finite entries although every input "
            "is finite"
        )
    return relu(y, inplace=True)


class FoldedBottleneck:
    """A bottleneck with every batch norm folded into its conv, compiled for repeated fast forward passes.

    The 1x1 convs are matrix products ``W (C_out, C_in) @ X (C_in, H*W)`` on views of the NCHW input,
    with the folded bias as one more column of ``W`` against a row of ones. The 3x3 conv keeps three
    horizontally shifted copies of its (zero-bordered) input stacked as 3 * C rows; the taps of one
    kernel row then form one matrix product with 3 * C inner terms on a view shifted by whole image rows,
    so three products do the whole conv. Buffers are allocated once per input shape and reused.

    >>> from verifier.numeric.params import bottleneck_params
    >>> params = bottleneck_params(Bottleneck(8, 2), seed=0, dtype="float64")
    >>> FoldedBottleneck(params)
    FoldedBottleneck(Bottleneck(in_channels=8, planes=2, ...), dtype=float64, fast path)
    """

    def __init__(self, params: BottleneckParams) -> None:
        if not isinstance(params, BottleneckParams):
            raise VerifierTypeError(f"params must be BottleneckParams, got {type(params).__name__}")
        self.params = params
        self.block = params.block
        self.dtype = np.dtype(params.dtype)

        def fold(weight: np.ndarray, bn: BatchNormParams) -> tuple[np.ndarray, np.ndarray]:
            return fold_batch_norm(weight, None, bn.running_mean, bn.running_var, bn.weight, bn.bias, bn.eps)

        self.w1, self.b1 = fold(params.conv1, params.bn1)
        self.w2, self.b2 = fold(params.conv2, params.bn2)
        self.w3, self.b3 = fold(params.conv3, params.bn3)
        self.wd: np.ndarray | None = None
        self.bd: np.ndarray | None = None
        if params.downsample is not None and params.downsample_bn is not None:
            self.wd, self.bd = fold(params.downsample, params.downsample_bn)
        _, s2 = _strides(self.block)
        self.fast = self.dtype.kind == "f" and self.block.groups == 1 and s2 == 1
        self._buffers: dict[tuple[int, int], dict[str, Any]] = {}
        self._shapes: dict[tuple[int, ...], tuple[tuple[int, ...], int]] = {}
        self._lock = threading.Lock()
        if self.fast:
            m = self.w1.shape[0]
            self._w1 = np.ascontiguousarray(self.w1[:, :, 0, 0])
            # conv1's bias is not added: the ReLU keeps max(W1 x, -b1) instead of max(W1 x + b1, 0), which is
            # the true activation minus b1, one pass fewer. The 3x3 conv's zero padding is then -b1, and its
            # bias takes b2 + sum over taps of W2[:, :, u, v] @ b1, which the true activation would have added.
            self._low1 = (-self.b1).astype(self.dtype)
            b2 = self.b2 + np.einsum("oiuv,i->o", self.w2, self.b1).astype(self.dtype)
            # w2 rows: for kernel row u, the taps v = 0, 1, 2 side by side (matching the stacked copies)
            w2 = np.zeros((3, m, 3 * m + 1), self.dtype)
            for u in range(3):
                for v in range(3):
                    w2[u, :, v * m : (v + 1) * m] = self.w2[:, :, u, v]
            w2[0, :, 3 * m] = b2
            self._w2 = w2
            bias3 = self.b3 if self.bd is None else self.b3 + self.bd
            self._w3 = np.concatenate([self.w3[:, :, 0, 0], bias3[:, None]], axis=1)
            self._wd = None if self.wd is None else np.ascontiguousarray(self.wd[:, :, 0, 0])

    def __repr__(self) -> str:
        block = repr(self.block)
        block = block[: block.index(",", block.index(",") + 1)] + ", ...)"
        return f"FoldedBottleneck({block}, dtype={self.dtype}, {'fast path' if self.fast else 'generic path'})"

    def workspace_bytes(self, input_shape: tuple[int, ...]) -> int:
        """Bytes a forward pass allocates beyond its input and the folded weights (output included)."""
        _, _, h, w = input_shape
        out = self.block.output_shape(tuple(input_shape))
        item = self.dtype.itemsize if self.dtype.kind == "f" else 64
        s1, _ = _strides(self.block)
        h1, w1 = dict(self.block.convs())["conv1"].output_size(h, w)
        m = self.block.width
        # stacked copies, conv2's output (+ a row of ones), its second accumulator, conv1's ReLU floor, shortcut
        scratch = (3 * m + 1) * (h1 + 2) * w1 + (m + 1) * h1 * w1 + 2 * m * h1 * w1 + self.block.out_channels * h1 * w1
        if s1 != 1:
            scratch += self.block.in_channels * h1 * w1
        scratch += h1 * w1  # the row of zeros the ReLUs compare against, kept once per length
        return (math.prod(out) + scratch) * item

    def __call__(self, x: Any, out: np.ndarray | None = None) -> np.ndarray:
        """The block's output for ``x`` (N, C_in, H, W); ``out`` may be given to reuse an output array."""
        arr = _check_input(x, self.params, finite=self._checks_input_itself())
        if arr.shape not in self._shapes:  # the spec's shape walk is slow next to a forward pass: once per shape
            self._shapes = {arr.shape: (self.block.output_shape(arr.shape), self.workspace_bytes(arr.shape))}
        shape, workspace = self._shapes[arr.shape]
        if out is not None and (out.shape != shape or out.dtype != self.dtype or not out.flags.c_contiguous):
            raise VerifierError(f"out must be a C-contiguous {self.dtype} array of shape {shape}, got {out.shape}")
        ensure_fits(workspace, f"the bottleneck on input {arr.shape}")
        if not self.fast:
            result = self._generic(arr)
            if out is not None:
                out[...] = result
                return out
            return result
        y = np.empty(shape, self.dtype) if out is None else out
        self._fast(np.ascontiguousarray(arr), y)
        return y

    def _checks_input_itself(self) -> bool:
        """Whether the fast path must look at the input for NaN and infinities before it starts.

        Unstrided, every input entry is read by conv1 at its own pixel, where a NaN or an infinity makes all
        of conv1's outputs non-finite (0 * inf is NaN): a finite conv1 result then proves the input finite,
        and checking it reads a quarter of the data. A strided conv1 skips pixels, so the input is checked.
        """
        return not self.fast or _strides(self.block)[0] != 1

    def _generic(self, x: np.ndarray) -> np.ndarray:
        s1, s2 = _strides(self.block)
        y = relu(conv2d(x, self.w1, self.b1, stride=s1), inplace=True)
        y = relu(conv2d(y, self.w2, self.b2, stride=s2, padding=1, groups=self.block.groups), inplace=True)
        y = conv2d(y, self.w3, self.b3)
        y += x if self.wd is None else conv2d(x, self.wd, self.bd, stride=self.block.stride)
        return relu(y, inplace=True)

    def _workspace(self, h: int, w: int) -> dict[str, Any]:
        key = (h, w)
        if key not in self._buffers:
            m, cout = self.block.width, self.block.out_channels
            stacked = np.empty((3 * m + 1, (h + 2) * w), self.dtype)
            stacked[: 3 * m] = np.tile(self._low1, 3)[:, None]  # the padding, -b1 (see __init__), stays put
            stacked[3 * m] = 1
            a2 = np.empty((m + 1, h * w), self.dtype)
            a2[m] = 1
            bands = row_bands(h)
            self._buffers = {
                key: {
                    "stacked": stacked,
                    "a2": a2,
                    "bands": bands,
                    "floor": np.repeat(self._low1[:, None], h * w, axis=1),  # full rows: NumPy's fast loop
                    "tmp": [np.empty((m, (r1 - r0) * w), self.dtype) for r0, r1 in bands],
                    "short": np.empty((cout, h * w), self.dtype) if self.wd is not None else a2[:0],
                    "split_m": bands_of(m, workers=elementwise_workers(m * h * w)),
                    "split_c": bands_of(cout, workers=elementwise_workers(cout * h * w)),
                }
            }
        return self._buffers[key]

    def _fast(self, x: np.ndarray, y: np.ndarray) -> None:
        """Each batch item in two phases, each split into bands of output rows (one band by default).

        Phase 1 (conv1, bn1, ReLU and the shifted copies) touches only its band's rows; phase 2 (conv2,
        conv3, shortcut, ReLU) reads one row beyond its band, so it starts when phase 1 is done everywhere.
        With one band the products run whole on BLAS's threads (the elementwise passes are split by channels
        over threads only if ``VERIFIER_ELEMENTWISE_THREADS`` asks); with several bands (``VERIFIER_THREADS``,
        see :mod:`verifier.numeric.parallel`) each band calls single-threaded BLAS on a thread of its own.
        """
        s1, _ = _strides(self.block)
        m = self.block.width
        n, c = x.shape[:2]
        h, w = y.shape[2:]
        hw = h * w
        buf = self._workspace(h, w)
        stacked, a2, short, bands, floor = buf["stacked"], buf["a2"], buf["short"], buf["bands"], buf["floor"]
        left, mid, right = (stacked[k * m : (k + 1) * m].reshape(m, h + 2, w) for k in range(3))
        mid_flat = stacked[m : 2 * m, w : w + hw]
        check_conv1 = not self._checks_input_itself()

        def relu1_and_shift(r0: int, r1: int, c0: int, c1: int) -> None:
            part = mid_flat[c0:c1, r0 * w : r1 * w]
            np.maximum(part, floor[c0:c1, r0 * w : r1 * w], out=part)
            left[c0:c1, r0 + 1 : r1 + 1, 1:] = mid[c0:c1, r0 + 1 : r1 + 1, : w - 1]
            right[c0:c1, r0 + 1 : r1 + 1, : w - 1] = mid[c0:c1, r0 + 1 : r1 + 1, 1:]

        def add_relu(acc: np.ndarray, term: np.ndarray, c0: int, c1: int, peaks: list[Any] | None = None) -> None:
            step = max(1, STEP_BYTES // (acc.shape[1] * acc.itemsize))
            for s0 in range(c0, c1, step):
                s1 = min(c1, s0 + step)
                part = acc[s0:s1]
                part += term[s0:s1]
                relu_into(part, part)
                if peaks is not None:
                    peaks.append(part.max())

        def phase1(band: int, xi2: np.ndarray) -> None:
            r0, r1 = bands[band]
            # conv1 + bn1 + relu, written straight into the middle copy of the 3x3 conv's input
            np.matmul(self._w1, xi2[:, r0 * w : r1 * w], out=mid_flat[:, r0 * w : r1 * w])
            if check_conv1:
                ensure_finite_result(mid_flat[:, r0 * w : r1 * w], x, "the bottleneck's conv1")
            if len(bands) > 1:
                relu1_and_shift(r0, r1, 0, m)
            else:
                parallel([partial(relu1_and_shift, r0, r1, c0, c1) for c0, c1 in buf["split_m"]])

        def phase2(band: int, xi2: np.ndarray, yi: np.ndarray, peaks: list[Any]) -> None:
            r0, r1 = bands[band]
            lo, hi = r0 * w, r1 * w
            tmp = buf["tmp"][band]
            whole = len(bands) == 1
            # conv2 + bn2: kernel row u reads the stacked copies shifted down by u image rows
            acc = a2[:m, lo:hi]
            np.matmul(self._w2[0], stacked[:, lo:hi], out=acc)
            np.matmul(self._w2[1, :, : 3 * m], stacked[: 3 * m, w + lo : w + hi], out=tmp)
            acc += tmp
            np.matmul(self._w2[2, :, : 3 * m], stacked[: 3 * m, 2 * w + lo : 2 * w + hi], out=tmp)
            if whole:
                parallel([partial(add_relu, acc, tmp, c0, c1) for c0, c1 in buf["split_m"]])
            else:
                add_relu(acc, tmp, 0, m)
            # conv3 + bn3 (+ the projection's bn) + shortcut + relu
            out = yi[:, lo:hi]
            np.matmul(self._w3, a2[:, lo:hi], out=out)
            if self._wd is None:
                shortcut = xi2[:, lo:hi]
            else:
                shortcut = short[:, lo:hi]
                np.matmul(self._wd, xi2[:, lo:hi], out=shortcut)
            if whole:
                parallel([partial(add_relu, out, shortcut, c0, c1, peaks) for c0, c1 in buf["split_c"]])
            else:
                add_relu(out, shortcut, 0, out.shape[0], peaks)

        with self._lock, single_threaded_blas(len(bands) > 1), np.errstate(over="ignore", invalid="ignore"):
            for i in range(n):  # an overflow or a non-finite input is reported by conv1's check instead
                xi = x[i] if s1 == 1 else np.ascontiguousarray(x[i, :, ::s1, ::s1])
                xi2 = xi.reshape(c, hw)
                yi = y[i].reshape(-1, hw)
                parallel([partial(phase1, k, xi2) for k in range(len(bands))])
                peaks: list[Any] = []
                parallel([partial(phase2, k, xi2, yi, peaks) for k in range(len(bands))])
                # The input is known finite here: checked before the start, or (unstrided) vouched for by conv1's
                # result. After the last ReLU every entry is >= 0 or NaN, so a step's max is finite exactly when
                # its every entry is; each step is looked at right after its ReLU, while it is still in cache.
                if not all(map(math.isfinite, peaks)):
                    raise VerifierError(
                        f"the bottleneck overflowed {self.dtype}: its output has non-finite entries although every "
                        "input is finite"
                    )
