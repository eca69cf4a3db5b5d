"""Symbolic against numeric: the bottleneck's output at chosen pixels, derived exactly and computed by the engine.

The exact side uses the symbolic engine's derivation (:func:`verifier.symbolic.output_maps`) layer by
layer: each layer's output maps at the positions the next layer reads are evaluated on exact values of
the previous layer (Python ``int`` and ``Fraction``), then batch norm and ReLU are applied exactly. A
fully nested expression of one output pixel would have billions of operations; one layer at a time it
is a few hundred thousand exact products.

Each layer is derived on the part of its input that the pixel's window reads (the crop is aligned so the
same taps land inside, and padded taps stay outside), which is the same formula as on the full image.

Two comparisons, both at full size:

* **exact**: integer weights and inputs with dyadic batch norms (see
  :func:`verifier.numeric.bottleneck_params`): every value of the block is exact in float64, so the
  float64 engine must equal the derivation with zero tolerance, on all output maps of every pixel.
* **rounding**: the run's own float data; the derivation evaluated exactly on the float values (batch
  norm folded into the conv weights, theorem ``batchnorm-fold``, since ``sqrt`` of a float is not
  rational) against the engine in the run's dtype: the largest absolute error.

>>> from verifier.spec import Bottleneck
>>> [p for p in chosen_pixels(Bottleneck(), (56, 56))]
[(0, 0), (0, 28), (0, 55), (28, 0), (28, 28), (28, 55), (55, 0), (55, 28), (55, 55)]
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from . import _validate as check
from . import symbolic
from .errors import VerifierError, VerifierTypeError
from .numeric import BottleneckParams, FoldedBottleneck, bottleneck_input, bottleneck_params
from .numeric.normalization import exact_sqrt
from .progress import Progress
from .spec import Bottleneck, Conv2d

__all__ = ["CrossCheck", "chosen_pixels", "crosscheck_bottleneck", "exact_pixel"]

Pair = tuple[int, int]
Exact = int | Fraction
#: The largest float error accepted, relative to the largest output magnitude (plus one), per dtype.
TOLERANCE = {"float32": 2.0**-12, "float64": 2.0**-40}


@dataclass(frozen=True)
class CrossCheck:
    """The outcome of :func:`crosscheck_bottleneck`."""

    points: tuple[Pair, ...]
    channels: int
    exact: bool
    mismatches: int
    max_abs_error: float
    max_abs_output: float
    tolerance: float
    dtype: str
    seconds_per_pixel: float
    reason: str = field(repr=False, default="")

    @property
    def ok(self) -> bool:
        """Zero mismatches on exact data, and float error within tolerance."""
        return self.exact and self.max_abs_error <= self.tolerance * (1.0 + self.max_abs_output)

    def as_dict(self) -> dict[str, Any]:
        """The JSON contract of ``verifier run``'s ``crosscheck``: points, max_abs_error, exact.

        ``exact`` is the verdict on the integer data (every value equal, zero tolerance); ``max_abs_error``
        is the largest difference on the run's float data, which rounds: two comparisons, two keys.
        """
        return {"points": len(self.points), "max_abs_error": self.max_abs_error, "exact": self.exact}

    def __repr__(self) -> str:
        verdict = "equal" if self.exact else f"{self.mismatches} mismatches"
        return (
            f"CrossCheck({len(self.points)} pixels x {self.channels} maps: integer data {verdict}; "
            f"{self.dtype} data max abs error {self.max_abs_error:.3g} for outputs up to {self.max_abs_output:.3g})"
        )


# -- which pixels --------------------------------------------------------------------------------------
def _patterns(conv: Conv2d, out_size: int, in_size: int, axis: int) -> dict[tuple[bool, ...], Sequence[int]]:
    """Output rows (or columns) grouped by which kernel taps land inside the image.

    Only the rows near the borders are looked at one by one: every row between them has all its taps
    inside, so the interior is one class, kept as a range however large the image.
    """
    (lo, _), k, s, d = (
        conv.padding_amounts[axis],
        conv.kernel_pair[axis],
        conv.stride_pair[axis],
        conv.dilation_pair[axis],
    )
    top = min(out_size, -(-lo // s))  # rows before this one have their first tap above the image
    reach = conv.kernel_extent[axis] - 1  # from a window's first tap to its last
    bottom = max(top, min(out_size, -(-(in_size + lo - reach) // s)))  # from here the last tap is below
    classes: dict[tuple[bool, ...], Sequence[int]] = {}
    for r in (*range(top), *range(bottom, out_size)):
        key = tuple(0 <= r * s - lo + t * d < in_size for t in range(k))
        classes[key] = [*classes.get(key, []), r]
    if bottom > top:
        classes[(True,) * k] = range(top, bottom)
    return classes


def chosen_pixels(block: Bottleneck, input_size: Sequence[int]) -> list[Pair]:
    """One output pixel for every distinct way the 3x3 conv's window meets the image border.

    Rows (and columns) fall into classes by which kernel taps land inside the image: at stride 1 the
    first row, the last row and all rows between. One row per class (the middle one for the interior)
    times one column per class gives corners, edge middles and the centre: nine pixels that exercise
    every padding pattern the block has.
    """
    _check_block(block)
    h, w = check.pair_at_least("input_size", input_size, 1)
    convs = dict(block.convs())
    conv1, conv2 = convs["conv1"], convs["conv2"]
    h1, w1 = conv1.output_size(h, w)
    ho, wo = conv2.output_size(h1, w1)
    picks = []
    for axis, (out_size, in_size) in enumerate(((ho, h1), (wo, w1))):
        reps = []
        for members in _patterns(conv2, out_size, in_size, axis).values():
            # the middle member; len() of a range beyond 2**63 overflows, its arithmetic does not
            count = members[-1] - members[0] + 1 if isinstance(members, range) else len(members)
            reps.append(members[count // 2] if count > 2 else members[0])
        picks.append(sorted(reps))
    return [(r, c) for r in picks[0] for c in picks[1]]


# -- the exact side -------------------------------------------------------------------------------------
def _crop(conv: Conv2d, rows: range, cols: range, size: Pair) -> tuple[tuple[slice, slice], Pair, Pair]:
    """The part of the input that the outputs ``rows`` x ``cols`` read: slices, their first output, crop size.

    The crop starts at a multiple of the stride (so the same taps land inside) and ends where the last
    tap does or the image ends, so the taps outside the crop are exactly the taps outside the image.
    """
    slices, offsets, new_size = [], [], []
    for axis, wanted in enumerate((rows, cols)):
        (lo, _), s = conv.padding_amounts[axis], conv.stride_pair[axis]
        first = wanted.start * s - lo
        last = (wanted.stop - 1) * s - lo + conv.kernel_extent[axis] - 1
        start = s * (max(0, first) // s)
        stop = min(size[axis], last + 1)
        slices.append(slice(start, stop))
        offsets.append(start // s)
        new_size.append(stop - start)
    return (slices[0], slices[1]), (offsets[0], offsets[1]), (new_size[0], new_size[1])


def _to_exact(value: Any) -> Exact:
    if type(value) is int or isinstance(value, Fraction):
        return value
    if type(value) is float:
        return Fraction(value)
    if isinstance(value, numbers.Integral):  # a NumPy integer: a Python int, so that sums never wrap around
        return int(value)
    if isinstance(value, (float, np.floating)):
        return Fraction(float(value))
    numerator, denominator = int(value.p), int(value.q)  # a SymPy Rational
    return numerator if denominator == 1 else Fraction(numerator, denominator)


def _exact_array(values: np.ndarray) -> np.ndarray:
    """Every entry as an exact Python number (floats at their exact binary value)."""
    out = np.empty(values.size, object)
    out[:] = [_to_exact(v) for v in values.ravel().tolist()]
    return out.reshape(values.shape)


@dataclass(frozen=True)
class _Layer:
    """A conv followed by a per-map affine map (a batch norm, or a folded bias) and maybe a ReLU."""

    conv: Conv2d
    weight: np.ndarray  # exact entries
    scale: Sequence[Exact]
    shift: Sequence[Exact]
    relu: bool


def _layers(params: BottleneckParams, folded: FoldedBottleneck | None) -> dict[str, _Layer]:
    """The block's layers with exact weights: batch norms exact, or (with ``folded``) folded into the weights."""
    convs = dict(params.block.convs())
    names = [("conv1", "bn1", True), ("conv2", "bn2", True), ("conv3", "bn3", False)]
    if params.downsample is not None:
        names.append(("downsample.0", "downsample_bn", False))
    layers = {}
    for conv_name, bn_name, relu in names:
        channels = convs[conv_name].out_channels
        if folded is not None:
            weight, bias = {
                "conv1": (folded.w1, folded.b1),
                "conv2": (folded.w2, folded.b2),
                "conv3": (folded.w3, folded.b3),
                "downsample.0": (folded.wd, folded.bd),
            }[conv_name]
            assert weight is not None and bias is not None
            layers[conv_name] = _Layer(
                convs[conv_name], _exact_array(weight), [1] * channels, list(_exact_array(bias)), relu
            )
            continue
        weight = params.conv1 if conv_name == "conv1" else params.conv2 if conv_name == "conv2" else params.conv3
        if conv_name == "downsample.0":
            assert params.downsample is not None
            weight = params.downsample
        bn = getattr(params, bn_name)
        eps = _to_exact(bn.eps)
        scale, shift = [], []
        for c in range(channels):
            root = exact_sqrt(Fraction(_to_exact(bn.running_var[c]) + eps), f"{bn_name}.running_var[{c}] + eps")
            s = _to_exact(bn.weight[c]) / root
            scale.append(s)
            shift.append(_to_exact(bn.bias[c]) - _to_exact(bn.running_mean[c]) * s)
        layers[conv_name] = _Layer(convs[conv_name], _exact_array(weight), scale, shift, relu)
    return layers


Source = Callable[[slice, slice], np.ndarray]


def _evaluate(layer: _Layer, rows: range, cols: range, size: Pair, source: Source) -> np.ndarray:
    """Output maps of ``layer`` at ``rows`` x ``cols``, derived symbolically on the crop they read, exactly.

    ``source(row_slice, col_slice)`` gives the layer's exact input there, shape (C_in, h, w).
    """
    (row_slice, col_slice), (r0, c0), crop_size = _crop(layer.conv, rows, cols, size)
    crop = source(row_slice, col_slice)
    conv = layer.conv
    out = np.empty((conv.out_channels, len(rows), len(cols)), object)
    if len(rows) == len(cols) == 1:
        maps = symbolic.output_maps(conv, (rows[0] - r0, cols[0] - c0), crop_size, weight=layer.weight, input=crop)
        out[:, 0, 0] = [_to_exact(m) for m in maps]
    else:
        tensor = symbolic.output_tensor(conv, crop_size, weight=layer.weight, input=crop).tolist()
        for o, plane in enumerate(tensor):
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    out[o, i, j] = _to_exact(plane[r - r0][c - c0])
    for o in range(conv.out_channels):
        s, t = layer.scale[o], layer.shift[o]
        for i in range(len(rows)):
            for j in range(len(cols)):
                y = out[o, i, j] * s + t
                out[o, i, j] = y if not layer.relu or y > 0 else 0
    return out


def exact_pixel(
    params: BottleneckParams, x: np.ndarray, position: Pair, *, folded: FoldedBottleneck | None = None
) -> list[Exact]:
    """Every output map of the block at ``position`` for input ``x`` (C, H, W), derived and evaluated exactly.

    With ``folded``, the batch norms are taken folded into the weights of that compiled block (so float
    data stays rational); otherwise they are applied exactly, which needs rational square roots.
    """
    if not isinstance(params, BottleneckParams):
        raise VerifierTypeError(f"params must be a BottleneckParams, got {type(params).__name__}")
    block = params.block
    arr = np.asarray(x)
    if arr.ndim != 3 or arr.shape[0] != block.in_channels:
        raise VerifierError(f"x must be one input (C, H, W) with C = {block.in_channels}, got shape {arr.shape}")
    out_size = block.output_shape(arr.shape)[1:]
    return _exact_pixel(_layers(params, folded), block, arr, _checked_point("position", position, out_size))


def _exact_pixel(layers: dict[str, _Layer], block: Bottleneck, x: np.ndarray, position: Pair) -> list[Exact]:
    size = (x.shape[1], x.shape[2])
    conv1, conv2, conv3 = layers["conv1"], layers["conv2"], layers["conv3"]
    size1 = conv1.conv.output_size(*size)
    size2 = conv2.conv.output_size(*size1)
    here = range(position[0], position[0] + 1), range(position[1], position[1] + 1)

    def read_x(rows: slice, cols: slice) -> np.ndarray:
        return _exact_array(x[:, rows, cols])

    def read_a1(rows: slice, cols: slice) -> np.ndarray:  # conv1's maps on exactly the part conv2 reads
        return _evaluate(conv1, range(rows.start, rows.stop), range(cols.start, cols.stop), size, read_x)

    a2 = _evaluate(conv2, *here, size1, read_a1)
    main = _evaluate(conv3, *here, size2, lambda rows, cols: a2)[:, 0, 0]
    if "downsample.0" in layers:
        short = _evaluate(layers["downsample.0"], *here, size, read_x)[:, 0, 0]
    else:
        short = read_x(slice(position[0], position[0] + 1), slice(position[1], position[1] + 1))[:, 0, 0]
    return [max(m + s, 0) for m, s in zip(main.tolist(), short.tolist(), strict=True)]


# -- both comparisons ------------------------------------------------------------------------------------
def _check_block(block: Any) -> None:
    if not isinstance(block, Bottleneck):
        raise VerifierTypeError(f"block must be a verifier.Bottleneck, got {type(block).__name__}")


def _checked_points(points: Any, out_size: Sequence[int]) -> list[Pair]:
    """``points`` as a list of (row, col) inside the block's output, or an error naming the bad one."""
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence) or not points:
        raise VerifierTypeError(f"points must be a non-empty list of (row, col) pairs, got {points!r}")
    return [_checked_point(f"points[{k}]", point, out_size) for k, point in enumerate(points)]


def _checked_point(name: str, point: Any, out_size: Sequence[int]) -> Pair:
    row, col = check.pair_at_least(name, point, 0)
    if row >= out_size[0] or col >= out_size[1]:
        raise VerifierError(
            f"{name} = {(row, col)} is outside the block's {out_size[0]}x{out_size[1]} output "
            f"(rows 0..{out_size[0] - 1}, cols 0..{out_size[1] - 1})"
        )
    return row, col


def _checked_data(data: Any, block: Bottleneck, size: Pair, dtype: str) -> tuple[np.ndarray, BottleneckParams]:
    """``data`` as (input, parameters) of this block, size and dtype, or an error naming what differs."""
    if not (isinstance(data, tuple) and len(data) == 2 and isinstance(data[1], BottleneckParams)):
        raise VerifierTypeError(f"data must be a pair (input array, BottleneckParams), got {type(data).__name__}")
    x, params = data
    if params.block != block:
        raise VerifierError(f"data's parameters are for {params.block!r}, not for block={block!r}")
    if params.dtype != np.dtype(dtype):
        raise VerifierError(f"data's parameters are {params.dtype} but dtype={dtype!r}")
    shape = getattr(x, "shape", None)
    if not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[1:] != (block.in_channels, *size) or x.dtype != dtype:
        raise VerifierError(
            f"data's input must be a {dtype} array of shape (N, {block.in_channels}, {size[0]}, {size[1]}), got "
            f"{getattr(x, 'dtype', type(x).__name__)} of shape {shape}"
        )
    return x, params


def crosscheck_bottleneck(
    block: Bottleneck | None = None,
    input_size: Sequence[int] = (56, 56),
    *,
    dtype: str = "float32",
    seed: int = 0,
    points: Sequence[Pair] | None = None,
    data: tuple[np.ndarray, BottleneckParams] | None = None,
    progress: Progress | None = None,
) -> CrossCheck:
    """Compare the engine's bottleneck with the exact derivation at chosen pixels, all output maps.

    Args:
        block: the bottleneck (the thread's 256 -> 64 -> 64 -> 256 by default).
        input_size: (H, W) of the input; full size by default.
        dtype: the float dtype whose rounding error is reported.
        seed: draws the integer data and, unless ``data`` is given, the float data.
        points: output pixels to check; :func:`chosen_pixels` by default.
        data: (input (N, C, H, W), parameters) of a run, for the rounding comparison on its item 0.
        progress: reports each pixel.
    """
    block = Bottleneck() if block is None else block
    _check_block(block)
    dtype = check.choice("dtype", dtype, tuple(TOLERANCE))
    seed = check.int_at_least("seed", seed, 0)
    size = check.pair_at_least("input_size", input_size, 1)
    out_size = block.output_shape((block.in_channels, *size))[1:]  # refuses an input too small for the block
    pixels = chosen_pixels(block, size) if points is None else _checked_points(points, out_size)
    if data is not None:
        data = _checked_data(data, block, size, dtype)
    progress = progress or Progress(enabled=False)
    # exact data: float64 engine against the unfolded exact derivation
    int_params = bottleneck_params(block, seed=seed, dtype="float64", integer=True)
    int_x = bottleneck_input(block, 1, size, seed=seed + 1, dtype="float64", integer=True)
    int_y = FoldedBottleneck(int_params)(int_x)[0]
    exact_layers = _layers(int_params, None)
    # float data: the run's dtype against the exact derivation with the same folded weights
    if data is None:
        float_params = bottleneck_params(block, seed=seed, dtype=dtype)  # type: ignore[arg-type]
        float_x = bottleneck_input(block, 1, size, seed=seed + 1, dtype=dtype)  # type: ignore[arg-type]
    else:
        float_x, float_params = data
        float_x = float_x[:1]
    folded = FoldedBottleneck(float_params)
    float_y = folded(float_x)[0]
    float_layers = _layers(float_params, folded)
    mismatches = 0
    max_error = 0.0
    max_out = 0.0
    start = time.perf_counter()
    for k, (r, c) in enumerate(pixels):
        progress.step(f"cross-checking pixel {k + 1}/{len(pixels)} ({r}, {c}) against the exact derivation")
        exact = _exact_pixel(exact_layers, block, int_x[0], (r, c))
        engine = [Fraction(float(v)) for v in int_y[:, r, c].tolist()]
        mismatches += sum(e != g for e, g in zip(exact, engine, strict=True))
        truth = _exact_pixel(float_layers, block, float_x[0], (r, c))
        for t, g in zip(truth, float_y[:, r, c].tolist(), strict=True):
            max_error = max(max_error, float(abs(Fraction(g) - t)))
            max_out = max(max_out, abs(float(t)))
    elapsed = time.perf_counter() - start
    return CrossCheck(
        points=tuple(pixels),
        channels=block.out_channels,
        exact=mismatches == 0,
        mismatches=mismatches,
        max_abs_error=max_error,
        max_abs_output=max_out,
        tolerance=TOLERANCE[dtype],
        dtype=dtype,
        seconds_per_pixel=elapsed / max(1, 2 * len(pixels)),
    )
