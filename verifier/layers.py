"""The layers a whole ResNet needs beyond its blocks: max-pool, global average pool, flatten and the classifier.

Like :mod:`verifier.spec`, these are frozen, validated descriptions with closed-form shapes and counts and
PyTorch's argument names. None of the pools has parameters or multiply-adds; what they would cost under
other counting conventions (comparisons, additions) is reported by :func:`elementwise_ops`.

>>> MaxPool2d(3, 2, 1).output_shape((1, 64, 112, 112))
(1, 64, 56, 56)
>>> AdaptiveAvgPool2d(1).output_shape((1, 2048, 7, 7))
(1, 2048, 1, 1)
>>> Linear(2048, 1000).param_count     # 2048*1000 weights + 1000 biases
2049000
>>> Linear(2048, 1000).macs((1, 2048))
2048000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import _validate as check
from .errors import VerifierError, VerifierTypeError
from .spec import Add, BatchNorm2d, Conv2d, Layer, ReLU

__all__ = ["AdaptiveAvgPool2d", "Flatten", "Linear", "MaxPool2d", "elementwise_ops"]

Shape = tuple[int, ...]
Pair = tuple[int, int]


def _nchw(input_shape: Any) -> tuple[int, int, int, int, bool]:
    shp = check.shape("input_shape", input_shape, (3, 4))
    batched = len(shp) == 4
    n, c, h, w = shp if batched else (1, *shp)
    return n, c, h, w, batched


@dataclass(frozen=True)
class MaxPool2d:
    """The largest value in each window, per map (``torch.nn.MaxPool2d``'s names; ``stride`` defaults to the kernel).

    >>> MaxPool2d(3, 2, 1)
    MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    """

    kernel_size: int | Pair
    stride: int | Pair | None = None
    padding: int | Pair = 0

    def __post_init__(self) -> None:
        kernel = check.pair_at_least("kernel_size", self.kernel_size, 1)
        object.__setattr__(self, "kernel_size", kernel)
        stride = kernel if self.stride is None else check.pair_at_least("stride", self.stride, 1)
        object.__setattr__(self, "stride", stride)
        padding = check.pair_at_least("padding", self.padding, 0)
        if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
            raise VerifierError(f"padding must be at most half the kernel size {kernel}, got {padding}")
        object.__setattr__(self, "padding", padding)

    def __repr__(self) -> str:
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"

    @property
    def param_count(self) -> int:
        return 0

    def output_shape(self, input_shape: Shape) -> Shape:
        """PyTorch's rule (floor mode): floor((H + 2p - k) / s) + 1 on each axis."""
        n, c, h, w, batched = _nchw(input_shape)
        out = []
        windows = zip(self.kernel_size, self.stride, self.padding, strict=True)  # type: ignore[arg-type]
        for axis, size, (k, s, p) in zip(("height", "width"), (h, w), windows, strict=True):
            if size + 2 * p < k:
                raise VerifierError(f"input {axis} {size} (padded to {size + 2 * p}) is smaller than the pool's {k}")
            out.append((size + 2 * p - k) // s + 1)
        return (n, c, out[0], out[1]) if batched else (c, out[0], out[1])

    def macs(self, input_shape: Shape) -> int:
        """0: a max-pool compares, it does not multiply."""
        self.output_shape(input_shape)
        return 0


@dataclass(frozen=True)
class AdaptiveAvgPool2d:
    """The mean over each of ``output_size`` regions of every map (ResNets use 1: one mean per map).

    >>> AdaptiveAvgPool2d((1, 1))
    AdaptiveAvgPool2d(output_size=(1, 1))
    """

    output_size: int | Pair = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_size", check.pair_at_least("output_size", self.output_size, 1))

    def __repr__(self) -> str:
        return f"AdaptiveAvgPool2d(output_size={self.output_size})"

    @property
    def param_count(self) -> int:
        return 0

    def output_shape(self, input_shape: Shape) -> Shape:
        n, c, _, _, batched = _nchw(input_shape)
        oh, ow = self.output_size  # type: ignore[misc]
        return (n, c, oh, ow) if batched else (c, oh, ow)

    def macs(self, input_shape: Shape) -> int:
        """0: averaging adds and divides once per map; see :func:`elementwise_ops`."""
        self.output_shape(input_shape)
        return 0


@dataclass(frozen=True)
class Flatten:
    """(N, C, H, W) to (N, C*H*W), as ``torch.flatten(x, 1)`` does before the classifier."""

    def __repr__(self) -> str:
        return "Flatten()"

    @property
    def param_count(self) -> int:
        return 0

    def output_shape(self, input_shape: Shape) -> Shape:
        n, c, h, w, batched = _nchw(input_shape)
        return (n, c * h * w) if batched else (c * h * w,)

    def macs(self, input_shape: Shape) -> int:
        self.output_shape(input_shape)
        return 0


@dataclass(frozen=True)
class Linear:
    """A fully connected layer y = W x + b (``torch.nn.Linear``'s names and defaults).

    >>> Linear(2048, 1000, bias=False).weight_shape
    (1000, 2048)
    """

    in_features: int
    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_features", check.int_at_least("in_features", self.in_features, 1))
        object.__setattr__(self, "out_features", check.int_at_least("out_features", self.out_features, 1))
        if not isinstance(self.bias, bool):
            raise VerifierTypeError(f"bias must be True or False, got {self.bias!r} ({type(self.bias).__name__})")

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"Linear({self.in_features}, {self.out_features}{extra})"

    @property
    def weight_shape(self) -> Pair:
        """(out_features, in_features), PyTorch's layout."""
        return (self.out_features, self.in_features)

    @property
    def weight_count(self) -> int:
        return self.in_features * self.out_features

    @property
    def param_count(self) -> int:
        return self.weight_count + (self.out_features if self.bias else 0)

    def _batch(self, input_shape: Shape) -> tuple[int, bool]:
        shp = check.shape("input_shape", input_shape, (1, 2))
        if shp[-1] != self.in_features:
            raise VerifierError(
                f"input has {shp[-1]} features but the linear layer expects {self.in_features} (input_shape={shp})"
            )
        return (shp[0], True) if len(shp) == 2 else (1, False)

    def output_shape(self, input_shape: Shape) -> Shape:
        n, batched = self._batch(input_shape)
        return (n, self.out_features) if batched else (self.out_features,)

    def macs(self, input_shape: Shape) -> int:
        """N * in_features * out_features; the bias additions are not multiply-adds."""
        n, _ = self._batch(input_shape)
        return n * self.weight_count


def _count(shape: Shape) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def elementwise_ops(layer: Layer, input_shape: Shape, output_shape: Shape) -> dict[str, int]:
    """Operations a layer performs that are not multiply-adds, by kind, so other conventions can be rebuilt.

    - ``batchnorm``: one multiply-add per output element (inference form y = a*x + b, a and b per map);
    - ``relu``: one comparison per element; ``maxpool``: k_h*k_w - 1 comparisons per output element;
    - ``avgpool``: H*W - 1 additions and one division per output, that is one operation per input element;
    - ``residual_add``: one addition per output element; ``bias``: one addition per output element of a
      layer with a bias (conv or linear).

    >>> elementwise_ops(ReLU(), (1, 64, 56, 56), (1, 64, 56, 56))
    {'relu': 200704}
    >>> elementwise_ops(Linear(2048, 1000), (1, 2048), (1, 1000))
    {'bias': 1000}
    """
    out = _count(output_shape)
    if isinstance(layer, BatchNorm2d):
        return {"batchnorm": out}
    if isinstance(layer, ReLU):
        return {"relu": out}
    if isinstance(layer, Add):
        return {"residual_add": out}
    if isinstance(layer, MaxPool2d):
        kh, kw = layer.kernel_size  # type: ignore[misc]
        return {"maxpool": out * (kh * kw - 1)}
    if isinstance(layer, AdaptiveAvgPool2d):
        return {"avgpool": _count(input_shape)}
    if isinstance(layer, (Conv2d, Linear)) and layer.bias:
        return {"bias": out}
    return {}
