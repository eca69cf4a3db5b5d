"""A third path to a network's multiply-adds: run it through the NumPy engine and count what the engine does.

:func:`run_counted` builds random weights for every layer of a :class:`~verifier.models.ResNet` (or a block),
runs a forward pass with ``verifier.numeric.conv2d``, and counts each conv call's multiply-adds from the arrays
it actually received and returned (output elements times the weight's (C_in / groups) * k_h * k_w), and each
classifier call's from its operands. Nothing is read from the spec's count formulas, so agreement with
:meth:`ResNet.macs <verifier.models.ResNet.macs>` is a check, not an echo.

>>> from verifier.models import resnet
>>> run = run_counted(resnet("resnet18"), (1, 3, 32, 32))
>>> run.macs_performed == run.macs_closed_form == resnet("resnet18").macs((1, 3, 32, 32))
True
>>> run.output_shape
(1, 1000)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from . import _validate as check
from . import numeric
from .errors import VerifierError
from .layers import AdaptiveAvgPool2d, Flatten, Linear, MaxPool2d
from .memory import ensure_fits
from .models import ResNet
from .spec import BasicBlock, BatchNorm2d, Bottleneck, Conv2d, Layer, ReLU

__all__ = ["MacCounter", "NetworkRun", "run_counted"]

Array = np.ndarray[Any, Any]
Conv2dFn = Callable[..., Array]
Countable = ResNet | Bottleneck | BasicBlock | Conv2d


class MacCounter:
    """Calls a conv2d with PyTorch's signature and tallies the multiply-adds of every call from its arrays.

    >>> counter = MacCounter(lambda x, w, *args, **kw: np.zeros((1, 4, 5, 5), np.float32))
    >>> _ = counter.conv("c", np.zeros((1, 2, 5, 5), np.float32), np.zeros((4, 2, 3, 3), np.float32), 1, 1, 1)
    >>> counter.total          # 4*5*5 outputs, each 2*3*3 products
    1800
    """

    def __init__(self, conv2d: Conv2dFn) -> None:
        self.conv2d = conv2d
        self.calls: list[tuple[str, int]] = []

    @property
    def total(self) -> int:
        return sum(macs for _, macs in self.calls)

    def conv(self, name: str, x: Array, weight: Array, stride: Any, padding: Any, groups: int) -> Array:
        """Run one conv; count output elements times the products each one sums."""
        y = self.conv2d(x, weight, None, stride=stride, padding=padding, dilation=1, groups=groups)
        if x.shape[1] != weight.shape[1] * groups or y.shape[1] != weight.shape[0] or y.shape[0] != x.shape[0]:
            raise VerifierError(f"{name}: engine returned {y.shape} for input {x.shape} and weight {weight.shape}")
        self.calls.append((name, int(y.size) * int(np.prod(weight.shape[1:]))))
        return y

    def linear(self, name: str, x: Array, weight: Array, bias: Array | None) -> Array:
        """y = x W^T + b; count rows of x times the weight's elements."""
        y = x @ weight.T
        self.calls.append((name, int(x.shape[0]) * int(weight.shape[0]) * int(x.shape[1])))
        return y if bias is None else y + bias


@dataclass(frozen=True)
class NetworkRun:
    """One counted forward pass: what the engine performed beside what the closed forms predict."""

    model: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    dtype: str
    seconds: float
    macs_performed: int
    macs_closed_form: int
    calls: tuple[tuple[str, int], ...]

    @property
    def matches(self) -> bool:
        return self.macs_performed == self.macs_closed_form

    @property
    def gmacs_per_s(self) -> float:
        return self.macs_performed / self.seconds / 1e9 if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "dtype": self.dtype,
            "seconds": self.seconds,
            "macs_performed": self.macs_performed,
            "macs_closed_form": self.macs_closed_form,
            "matches": self.matches,
            "conv_and_linear_calls": len(self.calls),
            "gmacs_per_s": self.gmacs_per_s,
        }


class _Forward:
    """Random weights for every layer, made before the clock starts, and the ops of every layer kind."""

    def __init__(
        self, counter: MacCounter, rng: np.random.Generator, dtype: np.dtype[Any], layers: Iterable[tuple[str, Layer]]
    ) -> None:
        self.counter, self.rng, self.dtype = counter, rng, dtype
        self.weights = {name: self._weights(layer) for name, layer in layers}

    def _normal(self, shape: tuple[int, ...], std: float) -> Array:
        out: Array = self.rng.standard_normal(shape, dtype=np.float32).astype(self.dtype) * self.dtype.type(std)
        return out

    def _uniform(self, size: int, low: float, high: float) -> Array:
        out: Array = (low + (high - low) * self.rng.random(size, dtype=np.float32)).astype(self.dtype)
        return out

    def _weights(self, layer: Layer) -> tuple[Array | None, ...]:
        if isinstance(layer, Conv2d):
            bias = self._normal((layer.out_channels,), 0.1) if layer.bias else None
            return self._normal(layer.weight_shape, (2.0 / layer.taps_per_output) ** 0.5), bias
        if isinstance(layer, BatchNorm2d):
            c = layer.num_features  # running mean, running variance, gamma, beta
            return (
                self._normal((c,), 0.1),
                self._uniform(c, 1.0, 2.0),
                self._uniform(c, 0.5, 1.0),
                self._normal((c,), 0.1),
            )
        if isinstance(layer, Linear):
            bias = self._normal((layer.out_features,), 0.01) if layer.bias else None
            return self._normal(layer.weight_shape, (1.0 / layer.in_features) ** 0.5), bias
        return ()

    def layer(self, name: str, layer: Layer, x: Array) -> Array:
        params = self.weights[name]
        if isinstance(layer, Conv2d):
            weight, bias = cast(Array, params[0]), params[1]
            y = self.counter.conv(name, x, weight, layer.stride_pair, layer.padding_pair, layer.groups)
            return y if bias is None else y + bias[None, :, None, None]
        if isinstance(layer, BatchNorm2d):
            mean, var, gamma, beta = params
            return numeric.batch_norm(x, mean, var, gamma, beta, eps=layer.eps)
        if isinstance(layer, ReLU):
            return numeric.relu(x)
        if isinstance(layer, MaxPool2d):
            return _max_pool(x, layer)
        if isinstance(layer, AdaptiveAvgPool2d):
            if layer.output_size != (1, 1):
                raise VerifierError(f"{name}: only a global average pool runs here, got {layer!r}")
            return np.asarray(x.mean(axis=(2, 3), keepdims=True, dtype=self.dtype))
        if isinstance(layer, Flatten):
            return x.reshape(x.shape[0], -1)
        if isinstance(layer, Linear):
            weight, bias = cast(Array, params[0]), params[1]
            return self.counter.linear(name, x, weight, bias)
        raise VerifierError(f"{name}: no forward for {layer!r}")

    def block(self, prefix: str, block: Bottleneck | BasicBlock, x: Array) -> Array:
        main = x
        for name, layer in block.main_path():
            main = self.layer(f"{prefix}{name}", layer, main)
        short = x
        for name, layer in block.shortcut_path():
            short = self.layer(f"{prefix}{name}", layer, short)
        return numeric.relu(main + short)


def _max_pool(x: Array, pool: MaxPool2d) -> Array:
    """Max over each window, padding with -inf (PyTorch's floor mode)."""
    (kh, kw), (sh, sw), (ph, pw) = pool.kernel_size, pool.stride, pool.padding  # type: ignore[misc]
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * ph, w + 2 * pw), -np.inf, dtype=x.dtype)
    padded[:, :, ph : ph + h, pw : pw + w] = x
    ho, wo = pool.output_size(h, w)
    out = np.full((n, c, ho, wo), -np.inf, dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            np.maximum(out, padded[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw], out=out)
    return out


def run_counted(
    model: Countable,
    input_shape: tuple[int, ...] = (1, 3, 224, 224),
    *,
    seed: int = 0,
    dtype: str = "float32",
    conv2d: Conv2dFn | None = None,
) -> NetworkRun:
    """Run ``model`` once on random input with random weights and count the multiply-adds performed.

    Args:
        model: a ResNet, a block or a single conv spec.
        input_shape: (N, C, H, W) of the input.
        seed: seeds the input and every weight.
        dtype: ``"float32"`` or ``"float64"``.
        conv2d: the conv to run (``verifier.numeric.conv2d`` by default); any function with the signature of
            ``torch.nn.functional.conv2d`` on NumPy arrays plugs in.
    """
    shape = check.shape("input_shape", input_shape, (4,))
    dtype = check.choice("dtype", dtype, ("float32", "float64"))
    if not isinstance(model, (ResNet, Bottleneck, BasicBlock, Conv2d)):
        raise VerifierError(f"model must be a ResNet, Bottleneck, BasicBlock or Conv2d spec, got {model!r}")
    closed_form = model.macs(shape)  # validates the input against the model before any work
    counter = MacCounter(numeric.conv2d if conv2d is None else conv2d)
    rng = np.random.default_rng(check.int_at_least("seed", seed, 0))
    np_dtype = np.dtype(dtype)
    specs: tuple[tuple[str, Layer], ...]
    if isinstance(model, ResNet):
        specs = model.layer_specs()
    elif isinstance(model, (Bottleneck, BasicBlock)):
        specs = model.layers()
    else:
        specs = (("conv", model),)
    # Refuse before allocating: the input, its float32 draw, and the largest layer's input and output (with
    # the conv's scratch, at most as large again) are alive at once.
    rows = [] if isinstance(model, Conv2d) else model.rows(shape)
    largest = max(
        [math.prod(shape) + math.prod(model.output_shape(shape))]
        if not rows
        else [math.prod(row.input_shape) + math.prod(row.output_shape) for row in rows]
    )
    ensure_fits((2 * math.prod(shape) + 2 * largest) * np_dtype.itemsize, f"running {model!r} on input {shape}")
    forward = _Forward(counter, rng, np_dtype, specs)
    x = rng.standard_normal(shape, dtype=np.float32).astype(np_dtype)
    start = time.perf_counter()
    if isinstance(model, ResNet):
        for name, layer in model.stem():
            x = forward.layer(name, layer, x)
        for bname, block in model.blocks():
            x = forward.block(f"{bname}.", block, x)
        for name, layer in model.head():
            x = forward.layer(name, layer, x)
        label = f"{model.name} ({model.variant})"
    elif isinstance(model, (Bottleneck, BasicBlock)):
        x = forward.block("", model, x)
        label = type(model).__name__.lower()
    else:
        x = forward.layer("conv", model, x)
        label = "conv"
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(x)):
        raise VerifierError(f"the forward pass of {label} produced non-finite values")
    return NetworkRun(
        label, shape, tuple(int(s) for s in x.shape), dtype, seconds, counter.total, closed_form, tuple(counter.calls)
    )
