"""The ResNet family as specs: every layer of ResNet-18 to 152, ResNeXt-50 and Wide ResNet-50, with counts.

A :class:`ResNet` is built from the blocks of :mod:`verifier.spec` exactly as torchvision builds its models
(a 7x7/2 stem conv, BatchNorm, ReLU and a 3x3/2 max-pool; four stages of residual blocks; a global average
pool and a 1000-way classifier with bias), so its layer names are torchvision's and its parameter counts are
torchvision's to the unit. ``variant="v1.5"`` (the default, torchvision's) puts a downsampling block's stride
on its 3x3 conv; ``variant="v1"`` (the ResNet paper's, and Keras's) puts it on the first 1x1 conv.

>>> net = resnet("resnet50")
>>> net
ResNet('resnet50', bottleneck, layers=(3, 4, 6, 3), variant='v1.5')
>>> net.param_count
25557032
>>> net.output_shape((1, 3, 224, 224))
(1, 1000)
>>> resnet("resnet18").param_count
11689512
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from . import _validate as check
from .errors import VerifierError, VerifierTypeError
from .layers import AdaptiveAvgPool2d, Flatten, Linear, MaxPool2d
from .report import Report
from .spec import BasicBlock, BatchNorm2d, Bottleneck, Conv2d, Layer, LayerRow, ReLU
from .tables import layer_report, sum_side_counts

__all__ = [
    "MODEL_NAMES",
    "PAPER_TABLE1_GFLOPS",
    "Comparison",
    "KerasCount",
    "ResNet",
    "VariantGap",
    "bottleneck_vs_basic",
    "keras_count",
    "projection_shortcut_cost",
    "resnet",
    "variant_gap",
]

Shape = tuple[int, ...]
Block = Bottleneck | BasicBlock
Variant = Literal["v1", "v1.5"]

IMAGENET_INPUT: Shape = (1, 3, 224, 224)
_PLANES = (64, 128, 256, 512)  # maps inside the blocks of each stage (times the expansion at their output)

# name: (block kind, blocks per stage, groups, width per group), as torchvision's model builders define them.
_FAMILY: dict[str, tuple[Literal["basic", "bottleneck"], tuple[int, int, int, int], int, int]] = {
    "resnet18": ("basic", (2, 2, 2, 2), 1, 64),
    "resnet34": ("basic", (3, 4, 6, 3), 1, 64),
    "resnet50": ("bottleneck", (3, 4, 6, 3), 1, 64),
    "resnet101": ("bottleneck", (3, 4, 23, 3), 1, 64),
    "resnet152": ("bottleneck", (3, 8, 36, 3), 1, 64),
    "resnext50_32x4d": ("bottleneck", (3, 4, 6, 3), 32, 4),
    "wide_resnet50_2": ("bottleneck", (3, 4, 6, 3), 1, 128),
}
MODEL_NAMES: tuple[str, ...] = tuple(_FAMILY)

# The ResNet paper's Table 1, row "FLOPs" (He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition",
# CVPR 2016, arXiv:1512.03385), in units of 10^9. Its section 3.3 says these are multiply-adds. These are
# cited facts to compare against, not inputs to any count.
PAPER_TABLE1_GFLOPS: dict[str, float] = {
    "resnet18": 1.8,
    "resnet34": 3.6,
    "resnet50": 3.8,
    "resnet101": 7.6,
    "resnet152": 11.3,
}


def _stage_of(name: str) -> str:
    """``layer2.0.conv1`` belongs to ``layer2``; the layers before the stages are the stem, after them the head."""
    head = name.split(".")[0]
    if head.startswith("layer"):
        return head
    return "head" if head in ("avgpool", "flatten", "fc") else "stem"


@dataclass(frozen=True)
class ResNet:
    """A whole residual network: stem, four stages of blocks, pooling and classifier.

    Args:
        name: a label (the torchvision builder's name for the members of :data:`MODEL_NAMES`).
        block: ``"basic"`` (two 3x3 convs) or ``"bottleneck"`` (1x1, 3x3, 1x1).
        layers: blocks in each of the four stages.
        groups: groups of every 3x3 conv in a bottleneck (ResNeXt's cardinality).
        width_per_group: torchvision's ``width_per_group`` (64 for ResNet, 128 for Wide ResNet-50-2).
        variant: ``"v1.5"`` strides a bottleneck's 3x3 conv, ``"v1"`` its first 1x1 (basic blocks: no difference).
        shortcut: ``"B"`` projects only where the shape changes (the paper's option B, torchvision's);
            ``"C"`` projects in every block (the paper's option C).
        num_classes: outputs of the classifier.

    >>> net = resnet("resnet18")
    >>> [name for name, _ in net.blocks()][:3]
    ['layer1.0', 'layer1.1', 'layer2.0']
    """

    name: str
    block: Literal["basic", "bottleneck"]
    layers: tuple[int, ...]
    groups: int = 1
    width_per_group: int = 64
    variant: Variant = "v1.5"
    shortcut: Literal["B", "C"] = "B"
    num_classes: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise VerifierTypeError(f"name must be a str, got {self.name!r}")
        if not isinstance(self.block, str) or self.block not in ("basic", "bottleneck"):
            raise VerifierError(f"block must be 'basic' or 'bottleneck', got {self.block!r}")
        if not isinstance(self.layers, (tuple, list)) or len(self.layers) != 4:
            raise VerifierError(f"layers must be 4 positive ints (blocks per stage), got {self.layers!r}")
        object.__setattr__(
            self, "layers", tuple(check.int_at_least(f"layers[{i}]", n, 1) for i, n in enumerate(self.layers))
        )
        for name in ("groups", "width_per_group", "num_classes"):
            object.__setattr__(self, name, check.int_at_least(name, getattr(self, name), 1))
        if not isinstance(self.variant, str) or self.variant not in ("v1", "v1.5"):
            raise VerifierError(f"variant must be 'v1' or 'v1.5', got {self.variant!r}")
        if not isinstance(self.shortcut, str) or self.shortcut not in ("B", "C"):
            raise VerifierError(f"shortcut must be 'B' or 'C', got {self.shortcut!r}")
        if self.block == "basic" and (self.groups, self.width_per_group) != (1, 64):
            raise VerifierError(
                f"basic blocks take groups=1 and width_per_group=64, got groups={self.groups}, "
                f"width_per_group={self.width_per_group}"
            )

    def __repr__(self) -> str:
        extra = ""
        if self.groups != 1 or self.width_per_group != 64:
            extra += f", groups={self.groups}, width_per_group={self.width_per_group}"
        if self.shortcut != "B":
            extra += f", shortcut={self.shortcut!r}"
        return f"ResNet({self.name!r}, {self.block}, layers={self.layers}, variant={self.variant!r}{extra})"

    # -- structure ----------------------------------------------------------------------------------
    @property
    def expansion(self) -> int:
        """Output maps of a block per ``planes``: 4 for the bottleneck, 1 for the basic block."""
        return 4 if self.block == "bottleneck" else 1

    @property
    def features(self) -> int:
        """Maps entering the classifier: 512 * expansion."""
        return _PLANES[-1] * self.expansion

    def stem(self) -> tuple[tuple[str, Layer], ...]:
        return (
            ("conv1", Conv2d(3, 64, 7, stride=2, padding=3, bias=False)),
            ("bn1", BatchNorm2d(64)),
            ("relu", ReLU()),
            ("maxpool", MaxPool2d(3, 2, 1)),
        )

    def blocks(self) -> tuple[tuple[str, Block], ...]:
        """Every residual block with torchvision's name (``layer3.5``), in order."""
        out: list[tuple[str, Block]] = []
        channels = 64
        projection = True if self.shortcut == "C" else None
        for stage, (planes, count) in enumerate(zip(_PLANES, self.layers, strict=True), start=1):
            for i in range(count):
                stride = 2 if stage > 1 and i == 0 else 1
                block: Block
                if self.block == "bottleneck":
                    block = Bottleneck(
                        channels,
                        planes,
                        stride,
                        groups=self.groups,
                        base_width=self.width_per_group,
                        variant=self.variant,
                        projection=projection,
                    )
                else:
                    block = BasicBlock(channels, planes, stride, projection=projection)
                out.append((f"layer{stage}.{i}", block))
                channels = block.out_channels
        return tuple(out)

    def head(self) -> tuple[tuple[str, Layer], ...]:
        return (
            ("avgpool", AdaptiveAvgPool2d(1)),
            ("flatten", Flatten()),
            ("fc", Linear(self.features, self.num_classes)),
        )

    def layer_specs(self) -> tuple[tuple[str, Layer], ...]:
        """Every leaf layer with its full name (``layer1.0.conv1``), in execution order."""
        inner = tuple((f"{bname}.{name}", layer) for bname, block in self.blocks() for name, layer in block.layers())
        return (*self.stem(), *inner, *self.head())

    # -- counts -------------------------------------------------------------------------------------
    def rows(self, input_shape: Shape = IMAGENET_INPUT) -> list[LayerRow]:
        """Each leaf layer's shapes and counts on an (N, 3, H, W) or (3, H, W) input."""
        shp = check.shape("input_shape", input_shape, (3, 4))
        return list(_network_rows(self, shp))

    @property
    def param_count(self) -> int:
        """Learned parameters: conv weights, BatchNorm gamma and beta, classifier weights and biases."""
        return sum(layer.param_count for _, layer in self.layer_specs())

    @property
    def buffer_count(self) -> int:
        """BatchNorm running means and variances (buffers in PyTorch, non-trainable parameters in Keras)."""
        return sum(layer.buffer_count for _, layer in self.layer_specs() if isinstance(layer, BatchNorm2d))

    @property
    def conv_bias_count(self) -> int:
        """Biases the convs would have with ``bias=True`` (one per output map), as Keras's ResNet50 has."""
        return sum(layer.out_channels for _, layer in self.layer_specs() if isinstance(layer, Conv2d))

    def output_shape(self, input_shape: Shape = IMAGENET_INPUT) -> Shape:
        return self.rows(input_shape)[-1].output_shape

    def macs(self, input_shape: Shape = IMAGENET_INPUT) -> int:
        """Multiply-adds of every conv and of the classifier (nothing else multiplies)."""
        return sum(row.macs for row in self.rows(input_shape))

    def stage_macs(self, input_shape: Shape = IMAGENET_INPUT) -> dict[str, int]:
        """Multiply-adds of the stem, each stage and the head, in order."""
        out: dict[str, int] = {}
        for row in self.rows(input_shape):
            stage = _stage_of(row.name)
            out[stage] = out.get(stage, 0) + row.macs
        return out

    def side_counts(self, input_shape: Shape = IMAGENET_INPUT) -> dict[str, int]:
        """What the layers touch besides multiply-adds (see :func:`verifier.layers.side_counts`), summed."""
        return sum_side_counts(self.rows(input_shape))

    def summary(self, input_shape: Shape = IMAGENET_INPUT, depth: int | None = None) -> Report:
        """The per-layer table and totals that ``verifier count`` opens with (``depth=2``: one row per block).

        >>> print(resnet("resnet18").summary(depth=1).blocks[1].text().splitlines()[6])
        layer1   Sequential   1x64x56x56     147,968    462,422,016
        """
        rows = self.rows(input_shape)
        return layer_report(
            rows,
            tuple(input_shape),
            label=self.name,
            variant=self.variant,
            param_count=self.param_count,
            depth=depth,
            kinds=self.module_kinds(),
        )

    def _repr_markdown_(self) -> str:
        return self.summary(depth=1).markdown()

    def module_kinds(self) -> dict[str, str]:
        """The type of every container, as torchvision names it: ``layer1`` a Sequential, ``layer1.0`` a block."""
        kinds = {f"layer{stage}": "Sequential" for stage in range(1, 5)}
        kinds.update((name, type(block).__name__) for name, block in self.blocks())
        return kinds

    def with_variant(self, variant: Variant) -> ResNet:
        return replace(self, variant=variant)


@lru_cache(maxsize=64)
def _network_rows(net: ResNet, shp: Shape) -> tuple[LayerRow, ...]:
    """The rows of ``net`` on ``shp``, computed once per (frozen) network and shape."""
    rows: list[LayerRow] = []
    for name, layer in net.stem():
        out = layer.output_shape(shp)
        rows.append(LayerRow(name, layer, "main", shp, out, layer.param_count, layer.macs(shp)))
        shp = out
    for bname, block in net.blocks():
        block_rows = block.rows(shp)
        rows.extend(replace(row, name=f"{bname}.{row.name}") for row in block_rows)
        shp = block_rows[-1].output_shape
    for name, layer in net.head():
        out = layer.output_shape(shp)
        rows.append(LayerRow(name, layer, "main", shp, out, layer.param_count, layer.macs(shp)))
        shp = out
    return tuple(rows)


def resnet(
    name: str, variant: Variant = "v1.5", *, shortcut: Literal["B", "C"] = "B", num_classes: int = 1000
) -> ResNet:
    """The member of the family called ``name`` (one of :data:`MODEL_NAMES`), as torchvision builds it.

    >>> resnet("resnext50_32x4d").param_count
    25028904
    >>> resnet("resnet51")
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: model must be one of resnet18, resnet34, resnet50, resnet101, resnet152, \
resnext50_32x4d, wide_resnet50_2, got 'resnet51'
    """
    if not isinstance(name, str) or name not in _FAMILY:  # a list or an array is no name (and unhashable)
        raise VerifierError(f"model must be one of {', '.join(MODEL_NAMES)}, got {name!r}")
    block, layers, groups, width = _FAMILY[name]
    return ResNet(name, block, layers, groups, width, variant, shortcut, num_classes)


# -- reconciliation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KerasCount:
    """Keras's parameter count for a ResNet, rebuilt from PyTorch's and the two things Keras adds.

    Keras's ``ResNet50`` gives every conv a bias (a BatchNorm follows, so it is redundant) and counts the
    BatchNorm moving mean and variance as non-trainable parameters.
    """

    pytorch_params: int
    conv_biases: int
    moving_statistics: int

    @property
    def trainable(self) -> int:
        return self.pytorch_params + self.conv_biases

    @property
    def non_trainable(self) -> int:
        return self.moving_statistics

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


def keras_count(model: ResNet) -> KerasCount:
    """How Keras would count ``model``'s parameters.

    >>> k = keras_count(resnet("resnet50", "v1"))
    >>> k.pytorch_params, k.conv_biases, k.moving_statistics, k.total
    (25557032, 26560, 53120, 25636712)
    """
    return KerasCount(model.param_count, model.conv_bias_count, model.buffer_count)


@dataclass(frozen=True)
class VariantGap:
    """Where v1.5 spends more multiply-adds than v1: the first 1x1 conv of each downsampling bottleneck."""

    model: str
    input_shape: Shape
    v1: int
    v1_5: int
    blocks: tuple[tuple[str, int], ...]  # (block name, extra MACs of v1.5 in that block)

    @property
    def gap(self) -> int:
        return self.v1_5 - self.v1


def variant_gap(name: str, input_shape: Shape = IMAGENET_INPUT) -> VariantGap:
    """Compare v1 and v1.5 of one model block by block.

    >>> g = variant_gap("resnet50")
    >>> [block for block, extra in g.blocks]
    ['layer2.0', 'layer3.0', 'layer4.0']
    >>> g.gap == sum(extra for _, extra in g.blocks)
    True
    """
    v1, v15 = resnet(name, "v1"), resnet(name, "v1.5")
    per_block: dict[str, int] = {}
    for a, b in zip(v1.rows(input_shape), v15.rows(input_shape), strict=True):
        if a.macs != b.macs:
            block = ".".join(a.name.split(".")[:2])
            per_block[block] = per_block.get(block, 0) + b.macs - a.macs
    return VariantGap(name, tuple(input_shape), v1.macs(input_shape), v15.macs(input_shape), tuple(per_block.items()))


@dataclass(frozen=True)
class Comparison:
    """A claim checked by computing both sides: the two figures, their ratio and whether the claim holds."""

    claim: str
    criterion: str
    left: str
    left_value: int
    right: str
    right_value: int
    holds: bool
    detail: tuple[tuple[str, Fraction], ...] = ()
    weight_detail: tuple[tuple[str, Fraction], ...] = ()

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.left_value, self.right_value)

    def __repr__(self) -> str:
        return (
            f"Comparison({self.left}={self.left_value:,} / {self.right}={self.right_value:,} "
            f"= {float(self.ratio):.4f}, holds={self.holds})"
        )


def _identity_block_ratios(left: ResNet, right: ResNet, input_shape: Shape) -> tuple[tuple[str, Fraction], ...]:
    """MACs ratio of the last block of each stage (an identity-shortcut block in option B) in two networks."""
    out = []
    lrows, rrows = left.rows(input_shape), right.rows(input_shape)
    for stage in range(1, 5):
        last_l = f"layer{stage}.{left.layers[stage - 1] - 1}"
        last_r = f"layer{stage}.{right.layers[stage - 1] - 1}"
        lm = sum(r.macs for r in lrows if r.name.startswith(last_l + "."))
        rm = sum(r.macs for r in rrows if r.name.startswith(last_r + "."))
        out.append((f"layer{stage}", Fraction(lm, rm)))
    return tuple(out)


def _identity_block_weight_ratios(left: ResNet, right: ResNet) -> tuple[tuple[str, Fraction], ...]:
    """Conv-weight ratio of the last block of each stage in two networks (model size, BatchNorm aside)."""
    lb, rb = dict(left.blocks()), dict(right.blocks())
    return tuple(
        (
            f"layer{stage}",
            Fraction(
                lb[f"layer{stage}.{left.layers[stage - 1] - 1}"].conv_weight_count,
                rb[f"layer{stage}.{right.layers[stage - 1] - 1}"].conv_weight_count,
            ),
        )
        for stage in range(1, 5)
    )


def bottleneck_vs_basic(variant: Variant = "v1", input_shape: Shape = IMAGENET_INPUT) -> Comparison:
    """The paper's Figure 5 claim at network level: ResNet-50's bottlenecks cost about what ResNet-34's blocks do.

    Both networks have 3, 4, 6, 3 blocks per stage; the claim holds when the bottleneck network's multiply-adds
    are within 10% of the basic-block network's and, stage by stage, an identity bottleneck block costs no more
    than a basic block.

    >>> c = bottleneck_vs_basic()
    >>> c.holds, [str(r) for _, r in c.detail]
    (True, ['17/18', '17/18', '17/18', '17/18'])
    """
    left, right = resnet("resnet50", variant), resnet("resnet34", variant)
    detail = _identity_block_ratios(left, right, input_shape)
    weights = _identity_block_weight_ratios(left, right)
    lm, rm = left.macs(input_shape), right.macs(input_shape)
    holds = abs(Fraction(lm, rm) - 1) <= Fraction(1, 10) and all(r <= 1 for _, r in (*detail, *weights))
    return Comparison(
        "bottleneck and basic-block designs have similar time complexity",
        "ResNet-50 MACs within 10% of ResNet-34's, and each identity bottleneck no costlier than a basic block "
        "in MACs and in conv weights",
        f"resnet50 ({variant}) MACs",
        lm,
        f"resnet34 ({variant}) MACs",
        rm,
        holds,
        detail,
        weights,
    )


def projection_shortcut_cost(
    name: str = "resnet50", variant: Variant = "v1", input_shape: Shape = IMAGENET_INPUT
) -> Comparison:
    """The paper's Figure 5 claim at network level: projecting every shortcut would double a bottleneck's cost.

    Compares the network with a projection in every block (option C) against identity shortcuts where shapes
    allow (option B). The claim ("time complexity and model size are doubled") holds when every identity
    bottleneck block's MACs and conv weights grow by a factor within 10% of 2; the whole network's ratio is
    reported beside it (it is smaller, because the stem, the classifier and the downsampling blocks are
    unchanged).

    >>> c = projection_shortcut_cost()
    >>> c.holds, [str(r) for _, r in c.detail]
    (True, ['33/17', '33/17', '33/17', '33/17'])
    """
    left = resnet(name, variant, shortcut="C")
    right = resnet(name, variant, shortcut="B")
    detail = _identity_block_ratios(left, right, input_shape)
    weights = _identity_block_weight_ratios(left, right)
    holds = left.block == "bottleneck" and all(abs(r - 2) <= Fraction(2, 10) for _, r in (*detail, *weights))
    return Comparison(
        "a projection shortcut would double a bottleneck block's time complexity and model size",
        "each identity bottleneck block's MACs and conv weights multiplied by 2 within 10% when its shortcut is "
        "a projection",
        f"{name} ({variant}, all projections) MACs",
        left.macs(input_shape),
        f"{name} ({variant}, identity shortcuts) MACs",
        right.macs(input_shape),
        holds,
        detail,
        weights,
    )
