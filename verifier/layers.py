"""The layers a whole ResNet needs beyond its blocks: max-pool, global average pool, flatten and the classifier.

Like :mod:`verifier.spec`, these are frozen, validated descriptions with closed-form shapes and counts and
PyTorch's argument names. None of the pools has parameters or multiply-adds; what they would cost under
other counting conventions (comparisons, additions) is reported by :func:`side_counts`.

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
from .spec import Add, BatchNorm2d, Conv2d, Layer, ReLU, windows

__all__ = ["SIDE_COUNTS", "AdaptiveAvgPool2d", "Flatten", "Linear", "MaxPool2d", "side_counts"]

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
        ho, wo = self.output_size(h, w)
        return (n, c, ho, wo) if batched else (c, ho, wo)

    def output_size(self, height: int, width: int) -> Pair:
        """(H_out, W_out): the windows of the kernel along each padded axis."""
        out = []
        axes = zip(self.kernel_size, self.stride, self.padding, strict=True)  # type: ignore[arg-type]
        for axis, size, (k, s, p) in zip(("height", "width"), (height, width), axes, strict=True):
            if size + 2 * p < k:
                raise VerifierError(f"input {axis} {size} (padded to {size + 2 * p}) is smaller than the pool's {k}")
            out.append(windows(size + 2 * p, k, s))
        return out[0], out[1]

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
        """0: averaging adds and divides once per map; see :func:`side_counts`."""
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


SIDE_COUNTS: tuple[str, ...] = (
    "batchnorm_elements",
    "batchnorm_params",
    "relu_elements",
    "maxpool_inputs",
    "maxpool_comparisons",
    "avgpool_inputs",
    "avgpool_outputs",
    "residual_adds",
    "bias_adds",
)
"""The quantities :func:`side_counts` reports, in a fixed order."""


def side_counts(layer: Layer, input_shape: Shape, output_shape: Shape) -> dict[str, int]:
    """What a layer touches besides its multiply-adds, so that any counter's convention can be rebuilt.

    Each counter of operations weighs these differently; :mod:`verifier.conventions` states the weights.

    - ``batchnorm_elements``: elements a BatchNorm normalises; ``batchnorm_params``: its gamma and beta
      (times the batch);
    - ``relu_elements``: elements a ReLU clips;
    - ``maxpool_inputs`` / ``maxpool_comparisons``: a max-pool's input elements, and its k_h*k_w - 1
      comparisons per output element;
    - ``avgpool_inputs`` / ``avgpool_outputs``: an average pool's input and output elements;
    - ``residual_adds``: elements of a residual addition; ``bias_adds``: one addition per output element of a
      conv or linear layer with a bias.

    >>> side_counts(ReLU(), (1, 64, 56, 56), (1, 64, 56, 56))
    {'relu_elements': 200704}
    >>> side_counts(Linear(2048, 1000), (1, 2048), (1, 1000))
    {'bias_adds': 1000}
    >>> side_counts(MaxPool2d(3, 2, 1), (1, 64, 112, 112), (1, 64, 56, 56))
    {'maxpool_inputs': 802816, 'maxpool_comparisons': 1605632}
    """
    out = _count(output_shape)
    if isinstance(layer, BatchNorm2d):
        batch = output_shape[0] if len(output_shape) == 4 else 1
        return {"batchnorm_elements": out, "batchnorm_params": batch * layer.param_count}
    if isinstance(layer, ReLU):
        return {"relu_elements": out}
    if isinstance(layer, Add):
        return {"residual_adds": out}
    if isinstance(layer, MaxPool2d):
        kh, kw = layer.kernel_size  # type: ignore[misc]
        return {"maxpool_inputs": _count(input_shape), "maxpool_comparisons": out * (kh * kw - 1)}
    if isinstance(layer, AdaptiveAvgPool2d):
        return {"avgpool_inputs": _count(input_shape), "avgpool_outputs": out}
    if isinstance(layer, (Conv2d, Linear)) and layer.bias:
        return {"bias_adds": out}
    return {}
