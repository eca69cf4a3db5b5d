"""Proofs that the loop oracle (verifier/numeric/reference.py) is right on its own terms.

Impulses, matrix products, shapes, groups and dilation for the conv; PyTorch's eps and exact roots for batch
norm; the sign rule for ReLU. Nothing here uses the fast engine.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verifier import Bottleneck, Conv2d, VerifierError
from verifier.numeric import bottleneck_input, bottleneck_params, reference
from verifier.numeric.normalization import exact_sqrt


def _rng_ints(seed: int, shape: tuple[int, ...]) -> list:
    return np.random.default_rng(seed).integers(-3, 4, shape).tolist()


def test_a_hand_computed_example() -> None:
    x = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]
    w = [[[[1, 0], [0, -1]]]]  # top-left minus bottom-right
    assert reference.conv2d(x, w, [10]) == [[[10 + 1 - 5, 10 + 2 - 6], [10 + 4 - 8, 10 + 5 - 9]]]


def test_an_impulse_reproduces_the_kernel_turned_half_way_round() -> None:
    """Cross-correlation of a single 1 with kernel K, 'same' padding, shows K rotated by 180 degrees."""
    kernel = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    x = [[[1 if (r, c) == (2, 2) else 0 for c in range(5)] for r in range(5)]]
    out = reference.conv2d(x, [[kernel]], padding="same")[0]
    patch = [row[1:4] for row in out[1:4]]
    assert patch == [row[::-1] for row in kernel[::-1]]


def test_a_one_by_one_conv_is_the_matrix_product_over_channels() -> None:
    x = _rng_ints(1, (5, 3, 4))
    w = _rng_ints(2, (2, 5, 1, 1))
    expected = np.einsum("oc,chw->ohw", np.array(w)[:, :, 0, 0], np.array(x)).tolist()
    assert reference.conv2d(x, w) == expected


@pytest.mark.parametrize(
    ("k", "stride", "padding", "dilation"),
    [
        (k, s, p, d)
        for k, s, p, d in itertools.product([1, 2, 3], [1, 2, 3], [0, 1, (2, 1), "valid", "same"], [1, 2])
        if not (p == "same" and s != 1)
    ],
)
def test_output_sizes_agree_with_the_spec_rule(k: int, stride: int, padding: object, dilation: int) -> None:
    """The oracle finds its windows by walking; the spec has PyTorch's formula: they must agree."""
    conv = Conv2d(1, 1, k, stride=stride, padding=padding, dilation=dilation)  # type: ignore[arg-type]
    for h, w in [(5, 5), (6, 7), (9, 4)]:
        x = [[[0] * w for _ in range(h)]]
        out = reference.conv2d(x, [[[[0] * k for _ in range(k)]]], None, stride, padding, dilation)
        if not out[0] or not out[0][0]:  # no window fits: the spec refuses the size
            with pytest.raises(VerifierError, match="smaller than the dilated kernel"):
                conv.output_shape((1, h, w))
            continue
        assert (1, len(out[0]), len(out[0][0])) == conv.output_shape((1, h, w))


def test_groups_are_independent_convs_on_channel_slices() -> None:
    x = _rng_ints(3, (6, 4, 4))
    w = _rng_ints(4, (4, 3, 3, 3))
    grouped = reference.conv2d(x, w, padding=1, groups=2)
    first = reference.conv2d(x[:3], w[:2], padding=1)
    second = reference.conv2d(x[3:], w[2:], padding=1)
    assert grouped == first + second


def test_dilation_equals_a_kernel_with_zeros_between_its_taps() -> None:
    x = _rng_ints(5, (2, 7, 7))
    w = np.array(_rng_ints(6, (3, 2, 3, 3)))
    spread = np.zeros((3, 2, 5, 5), dtype=int)
    spread[:, :, ::2, ::2] = w
    assert reference.conv2d(x, w.tolist(), padding=2, dilation=2) == reference.conv2d(x, spread.tolist(), padding=2)


def test_batch_norm_with_unit_statistics_is_the_identity_and_shifts_exactly() -> None:
    x = [[[[Fraction(1, 3), -2]]]]
    eps = Fraction(1, 4)
    same = reference.batch_norm(x, [0], [1 - eps], eps=eps, sqrt=lambda v: v)  # sqrt(1) = 1
    assert same == x
    shifted = reference.batch_norm(x, [1], [4 - eps], [6], [1], eps=eps, sqrt=lambda v: Fraction(2))
    assert shifted == [[[[(Fraction(1, 3) - 1) / 2 * 6 + 1, (-2 - 1) / 2 * 6 + 1]]]]


def test_relu_keeps_positives_and_zeroes_the_rest() -> None:
    assert reference.relu([[-1, 0, Fraction(1, 2)], [3, -Fraction(1, 3), 2]]) == [[0, 0, Fraction(1, 2)], [3, 0, 2]]


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
    x = bottleneck_input(block, batch=1, input_size=(4, 4), seed=4, dtype="object", integer=True)
    roots: list[Fraction] = []

    def root(value: Fraction) -> Fraction:
        roots.append(value)
        return exact_sqrt(value)

    out = reference.bottleneck(x.tolist(), params, sqrt=root)
    assert all(type(v) in (int, Fraction) for v in _leaves(out))
    assert len(roots) == channels and all(type(v) is Fraction for v in roots)  # one per channel of each BatchNorm
