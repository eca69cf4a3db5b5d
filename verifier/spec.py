"""What a layer is: frozen, validated descriptions with closed-form shapes and counts.

A spec holds no weights and does no SymPy or NumPy work. Every shape rule and every count formula of
the project lives here, once; the symbolic and numeric engines prove and measure against it.

Conventions follow PyTorch: activations are NCHW, weights are OIHW, and the argument names, order and
defaults of :class:`Conv2d` are those of ``torch.nn.Conv2d``. A multiply-add counts as one MAC.

>>> conv = Conv2d(256, 64, 1, bias=False)
>>> conv.weight_shape
(64, 256, 1, 1)
>>> conv.param_count
16384
>>> conv.output_shape((1, 256, 56, 56))
(1, 64, 56, 56)
>>> conv.macs((1, 256, 56, 56))
51380224
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from . import _validate as check
from .errors import VerifierError

__all__ = [
    "Add",
    "BasicBlock",
    "BatchNorm2d",
    "Bottleneck",
    "Conv2d",
    "Layer",
    "LayerRow",
    "ReLU",
    "windows",
]

Shape = tuple[int, ...]
Pair = tuple[int, int]


@runtime_checkable
class Layer(Protocol):
    """What every layer spec offers: its parameters, its output shape and its multiply-adds."""

    @property
    def param_count(self) -> int: ...

    def output_shape(self, input_shape: Shape) -> Shape: ...

    def macs(self, input_shape: Shape) -> int: ...


def windows(padded: int, extent: int, stride: int) -> int:
    """Windows of ``extent`` along a padded axis at ``stride``: floor((padded - extent) / stride) + 1 (PyTorch's
    output-size rule for convs and pools, floor mode; the caller checks ``padded >= extent``)."""
    return (padded - extent) // stride + 1


@dataclass(frozen=True)
class Conv2d:
    """A 2-D convolution, with the argument names, order and defaults of ``torch.nn.Conv2d``.

    Spatial arguments take an int or a pair and are stored as pairs; ``padding`` also takes the
    strings ``"valid"`` and ``"same"`` (``"same"`` needs ``stride=1``; odd totals put the extra row and
    column at the bottom and right, as PyTorch does).

    >>> Conv2d(64, 64, 3, padding=1, bias=False)
    Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
    >>> Conv2d(64, 64, 3, padding=1, bias=False).param_count
    36864
    >>> Conv2d(64, 256, 1).param_count        # 1*1*64*256 weights + 256 biases
    16640
    >>> Conv2d(6, 4, 1, groups=2).weight_shape
    (4, 3, 1, 1)

    Args:
        in_channels: number of input maps C_in.
        out_channels: number of output maps C_out, which is the number of filters.
        kernel_size: (k_h, k_w) or one int for both.
        stride: step of the sliding window.
        padding: zeros added on each side, ``"valid"`` (none) or ``"same"``.
        dilation: spacing between kernel taps.
        groups: number of blocked connections; must divide both channel counts.
        bias: whether each output map has a learned offset.
        padding_mode: ``"zeros"``, torch's default and the only padding implemented here.
    """

    in_channels: int
    out_channels: int
    kernel_size: int | Pair
    stride: int | Pair = 1
    padding: int | Pair | str = 0
    dilation: int | Pair = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "in_channels", check.int_at_least("in_channels", self.in_channels, 1))
        set_(self, "out_channels", check.int_at_least("out_channels", self.out_channels, 1))
        set_(self, "kernel_size", check.pair_at_least("kernel_size", self.kernel_size, 1))
        set_(self, "stride", check.pair_at_least("stride", self.stride, 1))
        set_(self, "dilation", check.pair_at_least("dilation", self.dilation, 1))
        set_(self, "padding", check.conv_padding(self.padding, self.stride_pair))
        set_(
            self,
            "groups",
            check.groups_divide(self.groups, in_channels=self.in_channels, out_channels=self.out_channels),
        )
        check.flag("bias", self.bias)
        if not isinstance(self.padding_mode, str) or self.padding_mode != "zeros":
            raise VerifierError(
                f"padding_mode must be 'zeros' (the only padding the engines implement; torch also has 'reflect', "
                f"'replicate' and 'circular'), got {self.padding_mode!r}"
            )

    def __repr__(self) -> str:
        parts = [
            f"{self.in_channels}, {self.out_channels}",
            f"kernel_size={self.kernel_size}",
            f"stride={self.stride}",
        ]
        if self.padding not in ((0, 0), "valid"):
            parts.append(f"padding={self.padding!r}")
        if self.dilation != (1, 1):
            parts.append(f"dilation={self.dilation}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if not self.bias:
            parts.append("bias=False")
        return f"Conv2d({', '.join(parts)})"

    # -- the shapes ---------------------------------------------------------------------------------
    @property
    def in_per_group(self) -> int:
        """Input maps each filter reads: C_in / groups."""
        return self.in_channels // self.groups

    @property
    def out_per_group(self) -> int:
        """Output maps each group produces: C_out / groups."""
        return self.out_channels // self.groups

    @property
    def kernel_extent(self) -> Pair:
        """The rows and columns one output reads, dilation included: d * (k - 1) + 1 per axis."""
        (kh, kw), (dh, dw) = self.kernel_pair, self.dilation_pair
        return dh * (kh - 1) + 1, dw * (kw - 1) + 1

    @property
    def taps_per_output(self) -> int:
        """Products behind one output value (its fan-in): (C_in / groups) * k_h * k_w."""
        kh, kw = self.kernel_pair
        return self.in_per_group * kh * kw

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """(C_out, C_in / groups, k_h, k_w): PyTorch's OIHW layout."""
        kh, kw = self.kernel_pair
        return (self.out_channels, self.in_per_group, kh, kw)

    @property
    def bias_shape(self) -> tuple[int] | None:
        """(C_out,) when the conv has a bias, else None."""
        return (self.out_channels,) if self.bias else None

    @property
    def kernel_pair(self) -> Pair:
        return self.kernel_size  # type: ignore[return-value]  # normalised to a pair in __post_init__

    @property
    def stride_pair(self) -> Pair:
        return self.stride  # type: ignore[return-value]

    @property
    def dilation_pair(self) -> Pair:
        return self.dilation  # type: ignore[return-value]

    @property
    def padding_pair(self) -> Pair:
        """Symmetric padding as a pair (for ``"valid"`` (0, 0); ``"same"`` has no single pair)."""
        if self.padding == "valid":
            return (0, 0)
        if isinstance(self.padding, str):
            raise VerifierError("padding='same' may be asymmetric: use padding_amounts")
        return self.padding  # type: ignore[return-value]

    @property
    def padding_amounts(self) -> tuple[Pair, Pair]:
        """Zeros added ((top, bottom), (left, right)); ``"same"`` puts an odd extra at the bottom/right."""
        if self.padding == "valid":
            return (0, 0), (0, 0)
        if self.padding == "same":
            (top, bottom), (left, right) = (((e - 1) // 2, e - 1 - (e - 1) // 2) for e in self.kernel_extent)
            return (top, bottom), (left, right)
        ph, pw = self.padding_pair
        return (ph, ph), (pw, pw)

    def output_size(self, height: int, width: int) -> Pair:
        """PyTorch's rule: floor((H + pads - dilation*(k-1) - 1) / stride) + 1, for each axis."""
        out = []
        axes = zip((height, width), self.padding_amounts, self.kernel_extent, self.stride_pair, strict=True)
        for axis, (size, (lo, hi), span, s) in zip(("height", "width"), axes, strict=True):
            if size + lo + hi < span:
                raise VerifierError(
                    f"input {axis} {size} (padded to {size + lo + hi}) is smaller than the dilated kernel's "
                    f"extent {span} (kernel_size={self.kernel_size}, dilation={self.dilation})"
                )
            out.append(windows(size + lo + hi, span, s))
        return out[0], out[1]

    def output_shape(self, input_shape: Shape) -> Shape:
        """The output shape for an (N, C, H, W) or (C, H, W) input, in the same rank."""
        n, _, h, w, batched = check.activation(input_shape, self.in_channels, "the conv")
        ho, wo = self.output_size(h, w)
        return check.pack(n, self.out_channels, ho, wo, batched)

    # -- the counts ---------------------------------------------------------------------------------
    @property
    def weight_count(self) -> int:
        """k_h * k_w * (C_in / groups) * C_out: one filter of :attr:`taps_per_output` weights per output map."""
        return self.taps_per_output * self.out_channels

    @property
    def param_count(self) -> int:
        """Weights plus, with a bias, C_out biases."""
        return self.weight_count + (self.out_channels if self.bias else 0)

    def macs(self, input_shape: Shape) -> int:
        """Multiply-adds: N * H_out * W_out * k_h * k_w * (C_in / groups) * C_out.

        Products with padded zeros are counted, as every framework counter does; bias additions are not.
        """
        n, _, h, w, _ = check.activation(input_shape, self.in_channels, "the conv")
        ho, wo = self.output_size(h, w)
        return n * ho * wo * self.weight_count


@dataclass(frozen=True)
class BatchNorm2d:
    """Batch normalisation over C maps (``torch.nn.BatchNorm2d``'s names and defaults).

    Learned parameters: gamma and beta, 2*C when ``affine``. The running mean and variance are buffers,
    not parameters (Keras counts them as non-trainable parameters).

    >>> BatchNorm2d(64).param_count, BatchNorm2d(64).buffer_count
    (128, 128)
    """

    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_features", check.int_at_least("num_features", self.num_features, 1))
        check.finite_real("eps", self.eps, 0, strict=True)  # NumPy scalars too, as torch takes them
        if self.momentum is not None:
            momentum = check.finite_real("momentum", self.momentum, 0)
            if momentum > 1:
                raise VerifierError(f"momentum must be None or a finite number in [0, 1], got {momentum!r}")
        check.flag("affine", self.affine)
        check.flag("track_running_stats", self.track_running_stats)

    def __repr__(self) -> str:
        return f"BatchNorm2d({self.num_features})"

    @property
    def param_count(self) -> int:
        return 2 * self.num_features if self.affine else 0

    @property
    def buffer_count(self) -> int:
        """Running mean and variance (PyTorch's ``num_batches_tracked`` counter is not included)."""
        return 2 * self.num_features if self.track_running_stats else 0

    def output_shape(self, input_shape: Shape) -> Shape:
        n, c, h, w, batched = check.activation(input_shape, self.num_features, "the batch norm")
        return check.pack(n, c, h, w, batched)

    def macs(self, input_shape: Shape) -> int:
        """0: in inference form BatchNorm folds into the conv before it, so MAC counts leave it out."""
        self.output_shape(input_shape)
        return 0


class _Elementwise:
    """An elementwise layer: no parameters, no multiply-adds, the output shaped like the input."""

    @property
    def param_count(self) -> int:
        return 0

    def output_shape(self, input_shape: Shape) -> Shape:
        return check.shape("input_shape", input_shape, (3, 4))

    def macs(self, input_shape: Shape) -> int:
        self.output_shape(input_shape)
        return 0


@dataclass(frozen=True)
class ReLU(_Elementwise):
    """max(0, x), elementwise: no parameters and no multiply-adds."""

    def __repr__(self) -> str:
        return "ReLU()"


@dataclass(frozen=True)
class Add(_Elementwise):
    """The residual addition: the block's output plus its shortcut, elementwise."""

    def __repr__(self) -> str:
        return "Add()"


@dataclass(frozen=True)
class LayerRow:
    """One layer of a block on a given input: where it sits, its shapes and its counts."""

    name: str
    layer: Layer
    path: Literal["main", "shortcut", "merge"]
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int


class _Block:
    """Shared by the residual blocks: a main path, an optional projection shortcut, add, ReLU."""

    in_channels: int
    out_channels: int
    stride: int
    projection: bool | None

    def main_path(self) -> tuple[tuple[str, Layer], ...]:
        raise NotImplementedError

    @property
    def has_projection(self) -> bool:
        """``projection`` when given; otherwise whether the shape changes (then the identity cannot be added)."""
        changes = self.stride != 1 or self.in_channels != self.out_channels
        return changes if self.projection is None else self.projection

    def shortcut_path(self) -> tuple[tuple[str, Layer], ...]:
        if not self.has_projection:
            return ()
        return (
            ("downsample.0", Conv2d(self.in_channels, self.out_channels, 1, stride=self.stride, bias=False)),
            ("downsample.1", BatchNorm2d(self.out_channels)),
        )

    def layers(self) -> tuple[tuple[str, Layer], ...]:
        """Every layer with its PyTorch-style name, main path first, then shortcut, add and final ReLU."""
        return (*self.main_path(), *self.shortcut_path(), ("add", Add()), ("relu", ReLU()))

    def convs(self) -> tuple[tuple[str, Conv2d], ...]:
        return tuple((name, layer) for name, layer in self.layers() if isinstance(layer, Conv2d))

    def rows(self, input_shape: Shape) -> list[LayerRow]:
        """Each layer's shapes and counts on ``input_shape`` (N, C, H, W) or (C, H, W)."""
        check.activation(input_shape, self.in_channels, "the block")
        rows: list[LayerRow] = []
        paths: list[tuple[Literal["main", "shortcut"], tuple[tuple[str, Layer], ...]]] = [
            ("main", self.main_path()),
            ("shortcut", self.shortcut_path()),
        ]
        ends = []
        for path, layers in paths:
            shp = tuple(input_shape)
            for name, layer in layers:
                out = layer.output_shape(shp)
                rows.append(LayerRow(name, layer, path, shp, out, layer.param_count, layer.macs(shp)))
                shp = out
            ends.append(shp)
        if ends[0] != ends[1]:
            raise VerifierError(f"the main path gives {ends[0]} but the shortcut gives {ends[1]}")
        for name, layer in (("add", Add()), ("relu", ReLU())):
            rows.append(LayerRow(name, layer, "merge", ends[0], ends[0], 0, 0))
        return rows

    @property
    def param_count(self) -> int:
        return sum(layer.param_count for _, layer in self.layers())

    @property
    def conv_weight_count(self) -> int:
        """Weights of every conv (main path and shortcut), without BatchNorm's gamma and beta."""
        return sum(conv.weight_count for _, conv in self.convs())

    def output_shape(self, input_shape: Shape) -> Shape:
        return self.rows(input_shape)[-1].output_shape

    def macs(self, input_shape: Shape) -> int:
        return sum(row.macs for row in self.rows(input_shape))

    def __iter__(self) -> Iterator[tuple[str, Layer]]:
        return iter(self.layers())


@dataclass(frozen=True)
class Bottleneck(_Block):
    """The ResNet bottleneck: 1x1 reduce, 3x3, 1x1 expand, plus the shortcut, add and ReLU.

    ``variant="v1.5"`` (torchvision's default) strides the 3x3 conv; ``"v1"`` (the ResNet paper) strides
    the first 1x1. ``projection=None`` uses a projection shortcut exactly when the shape changes.

    >>> block = Bottleneck()               # 256 -> 64 -> 64 -> 256 at stride 1
    >>> [(name, conv.weight_shape) for name, conv in block.convs()]
    [('conv1', (64, 256, 1, 1)), ('conv2', (64, 64, 3, 3)), ('conv3', (256, 64, 1, 1))]
    >>> block.conv_weight_count
    69632
    """

    in_channels: int = 256
    planes: int = 64
    stride: int = 1
    groups: int = 1
    base_width: int = 64
    variant: Literal["v1", "v1.5"] = "v1.5"
    projection: bool | None = None
    expansion: int = field(default=4, repr=False)

    def __post_init__(self) -> None:
        # planes first: callers often make in_channels from it, and the message should name the root
        for name in ("planes", "in_channels", "stride", "groups", "base_width", "expansion"):
            object.__setattr__(self, name, check.int_at_least(name, getattr(self, name), 1))
        if not isinstance(self.variant, str) or self.variant not in ("v1", "v1.5"):
            raise VerifierError(f"variant must be 'v1' or 'v1.5', got {self.variant!r}")
        if self.width < 1:  # torchvision's int(planes * (base_width / 64.)) * groups
            raise VerifierError(
                f"planes * base_width / 64 must be at least 1 (the block's inner width), got planes={self.planes}, "
                f"base_width={self.base_width}"
            )
        check.projection(self.projection, self.stride, self.in_channels, self.out_channels)

    @property
    def width(self) -> int:
        """Maps inside the block: floor(planes * base_width / 64) * groups (torchvision's rule)."""
        return self.planes * self.base_width // 64 * self.groups  # integers throughout: exact at any size

    @property
    def out_channels(self) -> int:  # type: ignore[override]
        return self.planes * self.expansion

    def main_path(self) -> tuple[tuple[str, Layer], ...]:
        s1, s2 = (self.stride, 1) if self.variant == "v1" else (1, self.stride)
        w = self.width
        return (
            ("conv1", Conv2d(self.in_channels, w, 1, stride=s1, bias=False)),
            ("bn1", BatchNorm2d(w)),
            ("relu1", ReLU()),
            ("conv2", Conv2d(w, w, 3, stride=s2, padding=1, groups=self.groups, bias=False)),
            ("bn2", BatchNorm2d(w)),
            ("relu2", ReLU()),
            ("conv3", Conv2d(w, self.out_channels, 1, bias=False)),
            ("bn3", BatchNorm2d(self.out_channels)),
        )


@dataclass(frozen=True)
class BasicBlock(_Block):
    """The ResNet basic block: two 3x3 convs, plus the shortcut, add and ReLU.

    >>> BasicBlock().conv_weight_count     # two 3x3 convs at 64 maps
    73728
    """

    in_channels: int = 64
    planes: int = 64
    stride: int = 1
    projection: bool | None = None

    def __post_init__(self) -> None:
        for name in ("planes", "in_channels", "stride"):
            object.__setattr__(self, name, check.int_at_least(name, getattr(self, name), 1))
        check.projection(self.projection, self.stride, self.in_channels, self.out_channels)

    @property
    def out_channels(self) -> int:  # type: ignore[override]
        return self.planes

    def main_path(self) -> tuple[tuple[str, Layer], ...]:
        return (
            ("conv1", Conv2d(self.in_channels, self.planes, 3, stride=self.stride, padding=1, bias=False)),
            ("bn1", BatchNorm2d(self.planes)),
            ("relu1", ReLU()),
            ("conv2", Conv2d(self.planes, self.planes, 3, padding=1, bias=False)),
            ("bn2", BatchNorm2d(self.planes)),
        )
