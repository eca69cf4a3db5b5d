"""The ResNet bottleneck's parameters and inputs for the NumPy engine: random, or exact by construction.

:func:`bottleneck_params` draws every array a bottleneck needs (conv weights in OIHW, batch norms with
``torch.nn.BatchNorm2d``'s names); with ``integer=True`` every value is a dyadic rational, so float64
computes the whole block exactly. :func:`bottleneck_input` draws a matching input.

>>> from verifier.spec import Bottleneck
>>> bottleneck_params(Bottleneck(16, 4), seed=0, dtype="float64").conv2.shape
(4, 4, 3, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..memory import ensure_fits
from ..spec import Bottleneck, Conv2d
from .normalization import batch_norm

__all__ = ["BatchNormParams", "BottleneckParams", "bottleneck_input", "bottleneck_params"]

DType = Literal["float32", "float64", "object"]
_DTYPES = ("float32", "float64", "object")
#: eps of the exact parameters: a power of two, so ``var + eps`` is exact in float32 and float64.
EXACT_EPS = Fraction(1, 2**16)


@dataclass(frozen=True, repr=False)
class BatchNormParams:
    """One batch norm's running statistics and affine parameters (``torch.nn.BatchNorm2d``'s names)."""

    running_mean: np.ndarray
    running_var: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    eps: float | Fraction = 1e-5

    def __repr__(self) -> str:
        return f"BatchNormParams({self.running_mean.shape[0]} channels, eps={self.eps})"

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Inference-form batch norm of ``x`` with these parameters."""
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.eps)


@dataclass(frozen=True, repr=False)
class BottleneckParams:
    """Every array a bottleneck needs: three conv weights (OIHW), three batch norms, an optional projection."""

    block: Bottleneck
    conv1: np.ndarray
    bn1: BatchNormParams
    conv2: np.ndarray
    bn2: BatchNormParams
    conv3: np.ndarray
    bn3: BatchNormParams
    downsample: np.ndarray | None = None
    downsample_bn: BatchNormParams | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.block, Bottleneck):
            raise VerifierTypeError(f"block must be a verifier.Bottleneck, got {type(self.block).__name__}")
        convs = dict(self.block.convs())
        given = {"conv1": self.conv1, "conv2": self.conv2, "conv3": self.conv3}
        if self.block.has_projection:
            if self.downsample is None or self.downsample_bn is None:
                raise VerifierError(f"{self.block!r} has a projection shortcut: give downsample and downsample_bn")
            given["downsample.0"] = self.downsample
        elif self.downsample is not None:
            raise VerifierError(f"{self.block!r} has an identity shortcut: downsample must be None")
        for name, weight in given.items():
            expected = convs[name].weight_shape
            if getattr(weight, "shape", None) != expected:
                raise VerifierError(f"{name} weight must have shape {expected}, got {getattr(weight, 'shape', weight)}")
        for name, bn, conv in (("bn1", self.bn1, "conv1"), ("bn2", self.bn2, "conv2"), ("bn3", self.bn3, "conv3")):
            if bn.running_mean.shape != (convs[conv].out_channels,):
                raise VerifierError(
                    f"{name} must have {convs[conv].out_channels} channels, got {bn.running_mean.shape}"
                )

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.conv1.dtype

    def __repr__(self) -> str:
        return f"BottleneckParams({self.block!r}, dtype={self.dtype})"


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise VerifierTypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")


def _check_dtype(dtype: Any) -> DType:
    return check.choice("dtype", dtype, _DTYPES)  # type: ignore[return-value]


def _exact_values(values: np.ndarray, dtype: DType) -> np.ndarray:
    """Dyadic values as the dtype: Fractions for ``"object"`` (every such value is exact in floats too)."""
    if dtype == "object":
        out = np.empty(values.size, object)
        out[:] = [Fraction(float(v)) for v in values.ravel()]
        return out.reshape(values.shape)
    return values.astype(dtype)


def _bn_params(rng: np.random.Generator, channels: int, dtype: DType, integer: bool) -> BatchNormParams:
    if integer:
        root = rng.choice([0.5, 1.0, 2.0], channels)
        eps = EXACT_EPS if dtype == "object" else float(EXACT_EPS)
        return BatchNormParams(
            running_mean=_exact_values(rng.integers(-2, 3, channels) / 2, dtype),
            running_var=_exact_values(root**2 - float(EXACT_EPS), dtype),
            weight=_exact_values(rng.choice([0.5, 1.0, 1.5], channels), dtype),
            bias=_exact_values(rng.integers(-2, 3, channels) / 2, dtype),
            eps=eps,
        )
    return BatchNormParams(
        running_mean=(rng.standard_normal(channels) * 0.1).astype(dtype),
        running_var=rng.uniform(0.5, 2.0, channels).astype(dtype),
        weight=rng.uniform(0.5, 1.5, channels).astype(dtype),
        bias=(rng.standard_normal(channels) * 0.1).astype(dtype),
        eps=1e-5,
    )


def _conv_weight(rng: np.random.Generator, conv: Conv2d, dtype: DType, integer: bool) -> np.ndarray:
    if integer:
        return _exact_values(rng.integers(-2, 3, conv.weight_shape).astype(np.float64), dtype)
    weight: np.ndarray = (rng.standard_normal(conv.weight_shape) * np.sqrt(2.0 / conv.taps_per_output)).astype(dtype)
    return weight


def bottleneck_params(
    block: Bottleneck | None = None, *, seed: int = 0, dtype: DType = "float32", integer: bool = False
) -> BottleneckParams:
    """Parameters for ``block`` drawn from ``seed``.

    With ``integer=False``: He-scaled normal weights and batch norms near the identity, as after training.
    With ``integer=True``: weights in {-2, ..., 2}; batch norm means and biases in halves, gammas in
    {1/2, 1, 3/2}, ``var + eps`` in {1/4, 1, 4} with ``eps = 2**-16``; so every value of the block is a
    dyadic rational, and float64 computes the whole block exactly at full size.

    >>> p = bottleneck_params(seed=0, dtype="object", integer=True)
    >>> p.conv1.shape, p.bn1.eps
    ((64, 256, 1, 1), Fraction(1, 65536))
    """
    block = Bottleneck() if block is None else block
    if not isinstance(block, Bottleneck):
        raise VerifierTypeError(f"block must be a verifier.Bottleneck, got {type(block).__name__}")
    kind = _check_dtype(dtype)
    _check_flag("integer", integer)
    rng = np.random.default_rng(check.int_at_least("seed", seed, 0))
    convs = dict(block.convs())
    arrays: dict[str, Any] = {}
    for name in ("conv1", "conv2", "conv3"):
        arrays[name] = _conv_weight(rng, convs[name], kind, integer)
        arrays["bn" + name[-1]] = _bn_params(rng, convs[name].out_channels, kind, integer)
    if block.has_projection:
        arrays["downsample"] = _conv_weight(rng, convs["downsample.0"], kind, integer)
        arrays["downsample_bn"] = _bn_params(rng, block.out_channels, kind, integer)
    return BottleneckParams(block=block, **arrays)


def bottleneck_input(
    block: Bottleneck | None = None,
    batch: int = 1,
    input_size: int | tuple[int, int] = 56,
    *,
    seed: int = 0,
    dtype: DType = "float32",
    integer: bool = False,
) -> np.ndarray:
    """An (N, C_in, H, W) input: standard normal, or integers in {-3, ..., 3} with ``integer=True``.

    >>> bottleneck_input(batch=1, input_size=2, dtype="object", integer=True).shape
    (1, 256, 2, 2)
    """
    block = Bottleneck() if block is None else block
    if not isinstance(block, Bottleneck):
        raise VerifierTypeError(f"block must be a verifier.Bottleneck, got {type(block).__name__}")
    kind = _check_dtype(dtype)
    h, w = check.pair_at_least("input_size", input_size, 1)
    shape = (check.int_at_least("batch", batch, 1), block.in_channels, h, w)
    _check_flag("integer", integer)
    item = 8 if kind == "object" else np.dtype(kind).itemsize
    ensure_fits(math.prod(shape) * item * (8 if kind == "object" else 1), f"an input of shape {shape}")
    rng = np.random.default_rng(check.int_at_least("seed", seed, 0))
    if integer:
        return _exact_values(rng.integers(-3, 4, shape).astype(np.float64), kind)
    return rng.standard_normal(shape, dtype=np.float64).astype(kind)
