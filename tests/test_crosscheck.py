"""Proofs that the symbolic derivation and the numeric engine agree exactly, and that the check can fail."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import Bottleneck, VerifierError
from verifier.crosscheck import chosen_pixels, crosscheck_bottleneck, exact_pixel
from verifier.numeric import FoldedBottleneck, bottleneck_input, bottleneck_params, reference
from verifier.numeric.normalization import exact_sqrt

BLOCKS = [
    Bottleneck(8, 2),
    Bottleneck(8, 2, stride=2),
    Bottleneck(8, 2, stride=2, variant="v1"),
    Bottleneck(4, 2, projection=True),
    Bottleneck(8, 4, groups=2, base_width=32),
]


@pytest.mark.parametrize("block", BLOCKS, ids=repr)
def test_the_layer_by_layer_derivation_equals_the_loop_definition_at_every_pixel(block: Bottleneck) -> None:
    """Every pixel of a small input, so crops at all borders are exercised against the plain loops."""
    params = bottleneck_params(block, seed=2, dtype="object", integer=True)
    x = bottleneck_input(block, batch=1, input_size=(5, 6), seed=3, dtype="object", integer=True)
    expected = np.array(reference.bottleneck(x.tolist(), params, sqrt=exact_sqrt), dtype=object)[0]
    for r in range(expected.shape[1]):
        for c in range(expected.shape[2]):
            assert exact_pixel(params, x[0], (r, c)) == list(expected[:, r, c]), (r, c)


def test_float_data_with_folded_weights_is_derived_exactly_too() -> None:
    block = Bottleneck(8, 2)
    params = bottleneck_params(block, seed=4, dtype="float64")
    folded = FoldedBottleneck(params)
    x = bottleneck_input(block, batch=1, input_size=4, seed=5, dtype="float64")
    y = folded(x)[0]
    for r, c in [(0, 0), (1, 2), (3, 3)]:
        exact = exact_pixel(params, x[0], (r, c), folded=folded)
        assert all(isinstance(v, (int, Fraction)) for v in exact)
        np.testing.assert_allclose([float(v) for v in exact], y[:, r, c], rtol=1e-13, atol=1e-13)


def _padding_patterns(block: Bottleneck, size: tuple[int, int], pixels: list[tuple[int, int]]) -> set[Any]:
    """Which of conv2's taps land inside the image, per pixel: enumerated without the crosscheck's helpers."""
    convs = dict(block.convs())
    h1, w1 = convs["conv1"].output_size(*size)
    s = convs["conv2"].stride_pair[0]
    return {
        tuple((0 <= r * s - 1 + u < h1) and (0 <= c * s - 1 + v < w1) for u in range(3) for v in range(3))
        for r, c in pixels
    }


@pytest.mark.parametrize("block", [Bottleneck(), Bottleneck(stride=2), Bottleneck(stride=2, variant="v1")], ids=repr)
@pytest.mark.parametrize("size", [(56, 56), (7, 8), (3, 3)])
def test_chosen_pixels_cover_every_padding_pattern(block: Bottleneck, size: tuple[int, int]) -> None:
    out_h, out_w = block.output_shape((block.in_channels, *size))[1:]
    every = [(r, c) for r in range(out_h) for c in range(out_w)]
    chosen = chosen_pixels(block, size)
    assert _padding_patterns(block, size, chosen) == _padding_patterns(block, size, every)
    assert len(chosen) == len(set(chosen)) <= 9


def test_the_thread_block_is_checked_at_corners_edges_and_centre() -> None:
    assert chosen_pixels(Bottleneck(), (56, 56)) == [(r, c) for r in (0, 28, 55) for c in (0, 28, 55)]


def test_a_single_wrong_value_from_the_engine_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    block = Bottleneck(16, 4)
    honest = FoldedBottleneck.__call__

    def off_by_one_ulp(self: FoldedBottleneck, x: Any, out: Any = None) -> np.ndarray:
        y = honest(self, x, out)
        y[0, 3, 0, 0] = np.nextafter(y[0, 3, 0, 0], np.inf)
        return y

    assert crosscheck_bottleneck(block, (6, 6)).ok
    monkeypatch.setattr(FoldedBottleneck, "__call__", off_by_one_ulp)
    result = crosscheck_bottleneck(block, (6, 6))
    assert not result.exact
    assert result.mismatches == 1
    assert result.as_dict()["exact"] is False


def test_float_rounding_error_is_reported_and_small() -> None:
    block = Bottleneck(32, 8)
    for dtype, bound in (("float32", 1e-4), ("float64", 1e-12)):
        result = crosscheck_bottleneck(block, (6, 6), dtype=dtype, points=[(0, 0), (3, 3)])
        assert result.exact
        assert 0 < result.max_abs_error < bound, result
        assert set(result.as_dict()) == {"points", "max_abs_error", "exact"}


@pytest.mark.slow
def test_full_size_bottleneck_equals_the_derivation_exactly_at_all_chosen_pixels() -> None:
    result = crosscheck_bottleneck(Bottleneck(), (56, 56), dtype="float32")
    assert result.points == tuple(chosen_pixels(Bottleneck(), (56, 56)))
    assert result.channels == 256
    assert result.exact, result
    assert result.ok, result


def test_the_repr_says_which_data_each_verdict_is_about():
    from verifier.crosscheck import CrossCheck

    check = CrossCheck(((0, 0), (1, 1)), 256, True, 0, 12.5, 2.0**52, 2.0**-40, "float64", 0.1)
    text = repr(check)
    assert "2 pixels x 256 maps" in text and "integer data equal" in text
    assert "float64 data max abs error 12.5 for outputs up to 4.5e+15" in text
    assert "integer data 3 mismatches" in repr(CrossCheck(((0, 0),), 4, False, 3, 0.0, 1.0, 2.0**-12, "float32", 0.1))


# -- bad arguments are refused by name, before any work ---------------------------------------------------------
SMALL = Bottleneck(8, 2)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"input_size": ("a", 5)}, "input_size must be a positive int or a pair of them, got ('a', 5)"),
        ({"input_size": None}, "input_size must be a positive int or a pair of them, got None"),
        ({"input_size": (5.7, 5.7)}, "input_size must be a positive int or a pair of them, got (5.7, 5.7)"),
        ({"input_size": (0, 5)}, "input_size must be a positive int or a pair of them, got (0, 5)"),
        ({"dtype": ["float32"]}, "dtype must be one of float32, float64, got ['float32']"),
        ({"dtype": "float16"}, "dtype must be one of float32, float64, got 'float16'"),
        ({"points": [(50, 50)]}, "points[0] = (50, 50) is outside the block's 5x5 output"),
        ({"points": [(0, 0), (1, -1)]}, "points[1] must be an int >= 0 or a pair of them, got (1, -1)"),
        ({"points": [(0.5, 0)]}, "points[0] must be an int >= 0 or a pair of them, got (0.5, 0)"),
        ({"points": []}, "points must be a non-empty list of (row, col) pairs, got []"),
        ({"points": "00"}, "points must be a non-empty list of (row, col) pairs, got '00'"),
        ({"seed": -1}, "seed must be an int >= 0, got -1"),
        ({"block": "bottleneck"}, "block must be a verifier.Bottleneck, got str"),
        ({"data": (np.zeros((1, 8, 5, 5)), None)}, "data must be a pair (input array, BottleneckParams)"),
    ],
)
def test_bad_arguments_are_refused_by_name(arguments: dict[str, Any], message: str) -> None:
    call = {"block": SMALL, "input_size": (5, 5), **arguments}
    with pytest.raises(VerifierError) as info:
        crosscheck_bottleneck(**call)
    assert message in str(info.value)


def test_data_of_another_shape_dtype_or_block_is_refused_by_name() -> None:
    params = bottleneck_params(SMALL, dtype="float32")
    good = bottleneck_input(SMALL, input_size=5, dtype="float32")
    cases = [
        ((good[:, :, :4], params), "data's input must be a float32 array of shape (N, 8, 5, 5)"),
        ((good.astype(np.float64), params), "data's input must be a float32 array"),
        ((good, bottleneck_params(SMALL, dtype="float64")), "data's parameters are float64 but dtype='float32'"),
        ((good, bottleneck_params(Bottleneck(8, 2, stride=2))), "data's parameters are for Bottleneck("),
    ]
    for data, message in cases:
        with pytest.raises(VerifierError) as info:
            crosscheck_bottleneck(SMALL, (5, 5), data=data)
        assert message in str(info.value)


def test_numpy_integers_reach_the_exact_side_as_python_ints() -> None:
    from verifier.crosscheck import _exact_array

    values = np.array([np.int64(2**62), np.int32(7), np.float32(0.5)], object)
    exact = _exact_array(values)
    assert [type(v) for v in exact] == [int, int, Fraction]
    assert (exact * 4).tolist() == [2**64, 28, 2]


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 5),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    p=st.integers(0, 4),
    size=st.integers(1, 14),
)
def test_border_classes_are_those_of_the_plain_row_by_row_loop(k: int, s: int, d: int, p: int, size: int) -> None:
    from verifier.crosscheck import _patterns
    from verifier.spec import Conv2d

    conv = Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    try:
        out, _ = conv.output_size(size, size)
    except VerifierError:
        return
    plain: dict[tuple[bool, ...], list[int]] = {}
    for r in range(out):  # the definition: which taps of row r land inside the image
        plain.setdefault(tuple(0 <= r * s - p + t * d < size for t in range(k)), []).append(r)
    assert {key: list(rows) for key, rows in _patterns(conv, out, size, 0).items()} == plain


def test_pixels_of_a_huge_image_are_chosen_without_visiting_its_rows() -> None:
    height = 2**62  # far too many rows to visit one by one
    pixels = chosen_pixels(Bottleneck(), (height, 7))
    assert sorted({r for r, _ in pixels}) == [0, height // 2, height - 1]  # the top, the middle, the bottom


def _exact_params() -> Any:
    return bottleneck_params(SMALL, dtype="object", integer=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: chosen_pixels(Bottleneck(), None), "input_size must be a positive int or a pair of them, got None"),
        (lambda: chosen_pixels("bottleneck", (5, 5)), "block must be a verifier.Bottleneck, got str"),
        (lambda: exact_pixel(None, np.ones((8, 5, 5)), (0, 0)), "params must be a BottleneckParams, got NoneType"),
        (
            lambda: exact_pixel(_exact_params(), np.ones((8, 5, 5), int), "ab"),
            "position must be an int >= 0 or a pair of them, got 'ab'",
        ),
        (
            lambda: exact_pixel(_exact_params(), np.ones((8, 5, 5), int), (5, 0)),
            "position = (5, 0) is outside the block's 5x5 output",
        ),
        (
            lambda: exact_pixel(_exact_params(), np.ones((4, 5, 5), int), (0, 0)),
            "x must be one input (C, H, W) with C = 8, got shape (4, 5, 5)",
        ),
    ],
)
def test_the_pixel_helpers_refuse_bad_arguments_by_name(call: Any, message: str) -> None:
    with pytest.raises(VerifierError) as info:
        call()
    assert message in str(info.value)
