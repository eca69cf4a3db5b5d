"""Proofs about the loop oracle's defaults and exactness: PyTorch's eps, and exact roots used in every BatchNorm."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from verifier import Bottleneck
from verifier.numeric import bottleneck_input, bottleneck_params, reference
from verifier.numeric.normalization import exact_sqrt


def _leaves(nested: Any) -> list[Any]:
    return [leaf for item in nested for leaf in _leaves(item)] if isinstance(nested, list) else [nested]


def test_batch_norm_defaults_to_pytorchs_eps() -> None:
    # torch.nn.BatchNorm2d's eps is 1e-5: (3 - 1) / sqrt(1 + 1e-5), and (0 - 1) / sqrt(4 + 1e-5) * 2 + 1
    out = reference.batch_norm([[[[3.0]], [[0.0]]]], [1.0, 1.0], [1.0, 4.0], [1.0, 2.0], [0.0, 1.0])
    assert out[0][0][0][0] == pytest.approx(2 / math.sqrt(1 + 1e-5), rel=1e-15)
    assert out[0][1][0][0] == pytest.approx(-1 / math.sqrt(4 + 1e-5) * 2 + 1, rel=1e-15)


@pytest.mark.parametrize(
    ("block", "channels"),
    [
        (Bottleneck(8, 2), 2 + 2 + 8),  # bn1, bn2, bn3
        (Bottleneck(8, 2, stride=2, variant="v1"), 2 + 2 + 8 + 8),  # and the projection's BatchNorm
    ],
    ids=repr,
)
def test_the_exact_root_is_used_in_every_batch_norm_of_the_block(block: Bottleneck, channels: int) -> None:
    """With integer data and an exact root the whole block stays rational: no float anywhere in the output."""
    params = bottleneck_params(block, seed=3, dtype="object", integer=True)
    x = bottleneck_input(block, batch=1, size=(4, 4), seed=4, dtype="object", integer=True)
    roots: list[Fraction] = []

    def root(value: Fraction) -> Fraction:
        roots.append(value)
        return exact_sqrt(value)

    out = reference.bottleneck(x.tolist(), params, sqrt=root)
    assert all(type(v) in (int, Fraction) for v in _leaves(out))
    assert len(roots) == channels and all(type(v) is Fraction for v in roots)  # one per channel of each BatchNorm
