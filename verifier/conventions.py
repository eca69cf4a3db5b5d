"""Why every tool prints a different number for the same ResNet: each counter's convention, rebuilt from counts.

All counters agree on the multiply-adds of the convs and the classifier (one MAC each). They differ in what
else they add: BatchNorm, ReLU, pooling, biases. A :class:`Convention` states those choices as weights on the
quantities of :func:`verifier.layers.side_counts`, with the file of the counter's source that sets each
choice, so a published figure can be reproduced from the closed-form counts alone.

>>> from verifier.models import resnet
>>> net = resnet("resnet50")
>>> totals = {c.name: c.total(net) for c in CONVENTIONS}
>>> totals["multiply-adds"]
4089184256
>>> totals["FLOPs (2 x MACs)"]
8178368512
>>> round(totals["ptflops"] / 1e9, 2)
4.12
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from .errors import VerifierError
from .layers import SIDE_COUNTS

Shape = tuple[int, ...]


class ResNet(Protocol):
    """What a convention reads of a network (:class:`verifier.models.ResNet` offers it), named here so this
    module sits below the models and the tables that show their counts."""

    @property
    def name(self) -> str: ...

    @property
    def variant(self) -> str: ...

    def macs(self, input_shape: Shape = ...) -> int: ...

    def side_counts(self, input_shape: Shape = ...) -> dict[str, int]: ...


__all__ = [
    "BEYOND_MACS",
    "CONVENTIONS",
    "KERAS_PUBLISHED",
    "PUBLISHED",
    "Convention",
    "Published",
    "beyond_macs",
    "get_convention",
    "reconcile",
]


@dataclass(frozen=True)
class Convention:
    """How one counter turns a network into a single number: MACs times a factor, plus weighted side counts."""

    name: str
    description: str
    source: str
    mac_factor: int = 1
    weights: dict[str, int] = field(default_factory=dict)
    per_image: bool = False  # the counter divides its figure by the batch size (ptflops)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(SIDE_COUNTS)
        if unknown:
            raise VerifierError(f"weights must name side counts ({', '.join(SIDE_COUNTS)}), got {sorted(unknown)}")

    def total(self, model: ResNet, input_shape: Shape | None = None) -> int:
        """The counter's figure for ``model`` on ``input_shape`` (224x224, batch 1, by default)."""
        args = () if input_shape is None else (input_shape,)
        total = self.from_counts(model.macs(*args), model.side_counts(*args))
        batch = input_shape[0] if input_shape is not None and len(input_shape) == 4 else 1
        return total // batch if self.per_image else total

    def from_counts(self, macs: int, side: dict[str, int]) -> int:
        """The counter's figure from multiply-adds and side counts (missing quantities count as zero).

        >>> get_convention("fvcore").from_counts(100, {"batchnorm_elements": 10})
        120
        """
        return self.mac_factor * macs + sum(w * side.get(k, 0) for k, w in self.weights.items())

    def added(self, model: ResNet, input_shape: Shape | None = None) -> dict[str, int]:
        """What the convention adds to the multiply-adds, quantity by quantity."""
        args = () if input_shape is None else (input_shape,)
        side = model.side_counts(*args)
        return {k: w * side[k] for k, w in self.weights.items()}


# What ptflops' module hooks add to the MACs (its count with count_functional=False).
_PTFLOPS_MODULES = {
    "bias_adds": 1,
    "batchnorm_elements": 2,
    "relu_elements": 1,
    "maxpool_inputs": 1,
    "avgpool_inputs": 1,
}

CONVENTIONS: tuple[Convention, ...] = (
    Convention(
        "multiply-adds",
        "conv and classifier multiply-adds, one each; nothing else (the ResNet paper's section 3.3, this project)",
        "He et al. 2016, arXiv:1512.03385, section 3.3 and Table 1",
    ),
    Convention(
        "FLOPs (2 x MACs)",
        "a multiply and an add counted apart",
        "definition",
        mac_factor=2,
    ),
    Convention(
        "torchvision",
        "the `_ops` figure of each weights entry (GFLOPS in the model docs); it equals the conv and linear MACs "
        "at every printed digit, for every model here",
        "pytorch/vision, torchvision/models/resnet.py, the `_ops` field of each weights entry's meta",
    ),
    Convention(
        "torchinfo",
        "MACs, plus batch x parameter count for every non-conv layer with weights: BatchNorm gamma and beta, fc bias",
        "TylerYep/torchinfo, torchinfo/layer_info.py, LayerInfo.calculate_macs",
        weights={"batchnorm_params": 1, "bias_adds": 1},
    ),
    Convention(
        "fvcore",
        "one fused multiply-add is one flop; inference BatchNorm with affine 2 per element; adaptive average "
        "pool 1 per input element; ReLU, max-pool, residual adds and the linear bias not counted",
        "facebookresearch/fvcore, fvcore/nn/flop_count.py (_DEFAULT_SUPPORTED_OPS) and fvcore/nn/jit_handles.py "
        "(batchnorm_flop_jit, linear_flop_jit, elementwise_flop_counter)",
        weights={"batchnorm_elements": 2, "avgpool_inputs": 1},
    ),
    Convention(
        "ptflops",
        "ptflops 0.7.5 with `count_functional=False` (module hooks only): conv MACs, linear MACs plus bias, "
        "BatchNorm 2 per element (affine), ReLU 1 per element, every pool 1 per input element; the residual `+=` "
        "is not a module and is not counted. Its default mode (`count_functional=True`) gives a larger figure, "
        "the `ptflops default` convention. ptflops divides by the batch size: at batch > 1 it reports the figure "
        "per image",
        "sovrasov/flops-counter.pytorch, ptflops/pytorch_ops.py (MODULES_MAPPING and its hooks) and "
        "ptflops/pytorch_engine.py (compute_average_flops_cost divides by the batch counter)",
        weights=_PTFLOPS_MODULES,
        per_image=True,
    ),
    Convention(
        "ptflops default",
        "ptflops 0.7.5 in its default mode (`count_functional=True`): the module hooks above, plus the functional "
        "calls it patches, which the modules make themselves: `relu` inside every ReLU, `max_pool2d` inside the "
        "max-pool and `adaptive_avg_pool2d` inside the average pool each count their input's elements a second "
        "time. Per image at batch > 1, as above",
        "sovrasov/flops-counter.pytorch, ptflops/pytorch_engine.py (patch_functional) and ptflops/pytorch_ops.py "
        "(FUNCTIONAL_MAPPING: the relu and pooling hooks count input.numel())",
        weights={
            **_PTFLOPS_MODULES,
            "relu_elements": 2,
            "maxpool_inputs": 2,
            "avgpool_inputs": 2,
        },
        per_image=True,
    ),
    Convention(
        "thop",
        "conv and linear MACs without bias; BatchNorm 2 per element, doubled when affine; adaptive average pool "
        "(kernel + 1) per output element; ReLU and max-pool zero",
        "ultralytics/thop, thop/vision/basic_hooks.py (count_normalization), thop/vision/calc_func.py "
        "(calculate_norm, calculate_adaptive_avg) and thop/profile.py (register_hooks: ReLU and max-pool zero_ops)",
        weights={"batchnorm_elements": 4, "avgpool_inputs": 1, "avgpool_outputs": 1},
    ),
    Convention(
        "every operation",
        "this project's full tally: MACs plus BatchNorm as one multiply-add per element, one comparison per ReLU "
        "element, k*k - 1 comparisons per max-pool output, one operation per averaged input, one addition per "
        "residual element and per bias",
        "verifier.layers.side_counts",
        weights={
            "batchnorm_elements": 1,
            "relu_elements": 1,
            "maxpool_comparisons": 1,
            "avgpool_inputs": 1,
            "residual_adds": 1,
            "bias_adds": 1,
        },
    ),
)


def get_convention(name: str) -> Convention:
    """The convention called ``name``.

    >>> get_convention("fvcore").weights
    {'batchnorm_elements': 2, 'avgpool_inputs': 1}
    """
    for convention in CONVENTIONS:
        if convention.name == name:
            return convention
    raise VerifierError(f"convention must be one of {', '.join(c.name for c in CONVENTIONS)}, got {name!r}")


@dataclass(frozen=True)
class Published:
    """A figure a counter or a model card prints, with the digits it prints and where it is printed."""

    convention: str
    model: str
    variant: str
    giga: str  # exactly as printed, in units of 10^9
    source: str

    def reproduced_by(self, total: int) -> bool:
        """Whether ``total`` rounds to the printed figure at the printed number of decimals."""
        printed = Decimal(self.giga)
        ours = (Decimal(total) / Decimal(10**9)).quantize(printed)
        return ours == printed


_TORCHVISION = "pytorch/vision, torchvision/models/resnet.py, `_ops` of the weights meta"
_PTFLOPS = "sovrasov/flops-counter.pytorch, README.md, Benchmark table for torchvision models, column MACs(G)"
_THOP = "ultralytics/thop, README.md, Basic Usage: the expected output of profile(resnet50(), 1x3x224x224)"
_PTFLOPS_DEFAULT = (
    "ptflops 0.7.5, get_model_complexity_info(torchvision resnet50(), (3, 224, 224), as_strings=False) with its "
    "default arguments (pytorch backend, count_functional=True), run on one image"
)

# Figures as their sources print them (cited facts, compared against, never used to compute anything).
PUBLISHED: tuple[Published, ...] = (
    Published("torchvision", "resnet18", "v1.5", "1.814", _TORCHVISION),
    Published("torchvision", "resnet34", "v1.5", "3.664", _TORCHVISION),
    Published("torchvision", "resnet50", "v1.5", "4.089", _TORCHVISION),
    Published("torchvision", "resnet101", "v1.5", "7.801", _TORCHVISION),
    Published("torchvision", "resnet152", "v1.5", "11.514", _TORCHVISION),
    Published("torchvision", "resnext50_32x4d", "v1.5", "4.23", _TORCHVISION),
    Published("torchvision", "wide_resnet50_2", "v1.5", "11.398", _TORCHVISION),
    Published("ptflops", "resnet18", "v1.5", "1.82", _PTFLOPS),
    Published("ptflops", "resnet34", "v1.5", "3.68", _PTFLOPS),
    Published("ptflops", "resnet50", "v1.5", "4.12", _PTFLOPS),
    Published("ptflops", "resnet101", "v1.5", "7.85", _PTFLOPS),
    Published("ptflops", "resnet152", "v1.5", "11.58", _PTFLOPS),
    Published("ptflops default", "resnet50", "v1.5", "4.132436968", _PTFLOPS_DEFAULT),
    Published("thop", "resnet50", "v1.5", "4.133742592", _THOP),
)


# Keras Applications' parameter totals (keras.io/api/applications/, the table's "Parameters" column), for
# keras.applications.ResNet50 / ResNet101 / ResNet152: cited facts that verifier.models.keras_count must meet.
KERAS_PUBLISHED: dict[str, int] = {
    "resnet50": 25_636_712,
    "resnet101": 44_707_176,
    "resnet152": 60_419_944,
}


def reconcile(model: ResNet, input_shape: Shape | None = None) -> list[dict[str, object]]:
    """Every convention's figure for ``model``, what it adds to the MACs, and the published figure it meets.

    >>> from verifier.models import resnet
    >>> rows = reconcile(resnet("resnet50"))
    >>> for r in rows:
    ...     if r["published"]:
    ...         print(r["convention"], r["published"], r["reproduced"])
    torchvision 4.089 True
    ptflops 4.12 True
    ptflops default 4.132436968 True
    thop 4.133742592 True
    """
    rows: list[dict[str, object]] = []
    for convention in CONVENTIONS:
        total = convention.total(model, input_shape)
        printed = [
            p
            for p in PUBLISHED
            if p.convention == convention.name and p.model == model.name and p.variant == model.variant
        ]
        published = printed[0] if printed and input_shape in (None, (1, 3, 224, 224)) else None
        rows.append(
            {
                "convention": convention.name,
                "total": total,
                "added": convention.added(model, input_shape),
                "published": published.giga if published else None,
                "reproduced": published.reproduced_by(total) if published else None,
                "source": convention.source,
            }
        )
    return rows


# What each operation beyond the multiply-adds would add under this project's full tally, one line each.
BEYOND_MACS: tuple[tuple[str, str, str], ...] = (
    ("batchnorm", "batchnorm_elements", "BatchNorm left unfolded: one multiply-add (a*x + b) per element"),
    ("relu", "relu_elements", "ReLU: one comparison per element"),
    ("maxpool", "maxpool_comparisons", "max-pool: k*k - 1 comparisons per output element"),
    ("avgpool", "avgpool_inputs", "global average pool: H*W - 1 additions and a division per map"),
    ("residual_add", "residual_adds", "residual additions: one per element"),
    ("bias", "bias_adds", "biases (in a ResNet, the classifier's): one addition per output element"),
)


def beyond_macs(side: dict[str, int]) -> dict[str, int]:
    """The operations a MAC count leaves out, one entry per kind, from side counts.

    >>> from verifier.models import resnet
    >>> beyond_macs(resnet("resnet18").side_counts())["bias"]
    1000
    """
    return {key: side.get(quantity, 0) for key, quantity, _ in BEYOND_MACS}
