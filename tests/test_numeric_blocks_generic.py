"""Proofs about the folded bottleneck's generic path (exact, grouped, strided blocks) and what it shows of itself.

The fast path is compared with the definition elsewhere; here the blocks that take the generic path, an
identity shortcut and a strided first 1x1 among them, must give exactly what the unfolded definition gives.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from verifier import Bottleneck
from verifier.numeric import FoldedBottleneck, bottleneck_forward, bottleneck_input, bottleneck_params

GENERIC = [
    Bottleneck(16, 4, groups=2, base_width=32),  # grouped 3x3, identity shortcut
    Bottleneck(8, 2, stride=2, variant="v1"),  # v1: the first 1x1 strides (exact dtype: generic path)
    Bottleneck(8, 2, stride=2, variant="v1", groups=2, base_width=64),  # strided 1x1 and a grouped 3x3
    Bottleneck(8, 2),  # identity, exact
]


@pytest.mark.parametrize("block", GENERIC, ids=repr)
def test_the_exact_generic_path_equals_the_definition(block: Bottleneck) -> None:
    params = bottleneck_params(block, seed=2, dtype="object", integer=True)
    x = bottleneck_input(block, batch=2, size=(5, 6), seed=3, dtype="object", integer=True)
    folded = FoldedBottleneck(params)
    assert not folded.fast
    mine, theirs = folded(x), bottleneck_forward(x, params)
    assert mine.shape == theirs.shape == block.output_shape(x.shape)
    assert mine.tolist() == theirs.tolist()
    assert all(type(v) in (int, Fraction) for v in mine.ravel())


@pytest.mark.parametrize("block", [GENERIC[0], GENERIC[2]], ids=repr)
def test_the_float_generic_path_of_a_grouped_block_equals_the_definition(block: Bottleneck) -> None:
    # dyadic data: float64 computes the block exactly, so the folded and unfolded passes agree to the bit
    params = bottleneck_params(block, seed=4, dtype="float64", integer=True)
    x = bottleneck_input(block, batch=2, size=(7, 5), seed=5, dtype="float64", integer=True)
    folded = FoldedBottleneck(params)
    assert not folded.fast
    np.testing.assert_array_equal(folded(x), bottleneck_forward(x, params))
    out = np.empty(block.output_shape(x.shape), np.float64)
    assert folded(x, out=out) is out
    np.testing.assert_array_equal(out, bottleneck_forward(x, params))


@pytest.mark.parametrize(
    ("block", "dtype", "text"),
    [
        (
            Bottleneck(8, 2),
            "float64",
            "FoldedBottleneck(Bottleneck(in_channels=8, planes=2, ...), dtype=float64, fast path)",
        ),
        (
            Bottleneck(16, 4, groups=2, base_width=32),
            "float32",
            "FoldedBottleneck(Bottleneck(in_channels=16, planes=4, ...), dtype=float32, generic path)",
        ),
        (
            Bottleneck(8, 2),
            "object",
            "FoldedBottleneck(Bottleneck(in_channels=8, planes=2, ...), dtype=object, generic path)",
        ),
    ],
)
def test_a_folded_block_shows_its_sizes_dtype_and_path(block: Bottleneck, dtype: str, text: str) -> None:
    assert repr(FoldedBottleneck(bottleneck_params(block, dtype=dtype, integer=True))) == text  # type: ignore[arg-type]


def test_batch_norm_parameters_show_their_channels_and_eps() -> None:
    params = bottleneck_params(Bottleneck(8, 2), dtype="float64")
    assert repr(params.bn1) == "BatchNormParams(2 channels, eps=1e-05)"
    assert repr(params.bn3) == "BatchNormParams(8 channels, eps=1e-05)"
    exact = bottleneck_params(Bottleneck(8, 2), dtype="object", integer=True)
    assert repr(exact.bn2) == "BatchNormParams(2 channels, eps=1/65536)"
