"""The derived output maps equal a plain loop over the zero-padded input, for any Conv2d."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import VerifierError, VerifierTypeError
from verifier.spec import Conv2d
from verifier.symbolic import (
    bias_vector,
    input_tensor,
    output_map,
    output_maps,
    output_tensor,
    taps,
    weight_tensor,
)


def reference_map(conv, o, position, size, w, b, x):
    """Plain loops over an input padded with explicit zeros, summed by SymPy's ordinary constructor."""
    (top, bottom), (left, right) = conv.padding_amounts
    h, wd = size
    ch = conv.in_channels
    padded = [[[sp.Integer(0)] * (wd + left + right) for _ in range(h + top + bottom)] for _ in range(ch)]
    for c in range(ch):
        for r in range(h):
            for q in range(wd):
                padded[c][r + top][q + left] = x[c][r][q]
    kh, kw = conv.kernel_pair
    sh, sw = conv.stride_pair
    dh, dw = conv.dilation_pair
    group = o // (conv.out_channels // conv.groups)
    per = conv.in_channels // conv.groups
    total = sp.Integer(0) if b is None else b[o]
    for i in range(per):
        for u in range(kh):
            for v in range(kw):
                value = padded[group * per + i][position[0] * sh + u * dh][position[1] * sw + v * dw]
                total = total + w[o][i][u][v] * value
    return total


def symbols_as_lists(conv, size):
    w = weight_tensor(conv).tolist()
    b = None if not conv.bias else bias_vector(conv).tolist()
    x = input_tensor(conv.in_channels, *size).tolist()
    return w, b, x


@st.composite
def convs(draw):
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    same = draw(st.booleans())
    if same:
        conv = Conv2d(cin, cout, kernel, padding="same", dilation=dilation, groups=groups, bias=draw(st.booleans()))
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        conv = Conv2d(cin, cout, kernel, stride, padding, dilation, groups, draw(st.booleans()))
    extent = [d * (k - 1) + 1 for k, d in zip(conv.kernel_pair, conv.dilation_pair, strict=True)]
    size = (draw(st.integers(extent[0], extent[0] + 3)), draw(st.integers(extent[1], extent[1] + 3)))
    return conv, size


@settings(max_examples=60, deadline=None)
@given(convs(), st.data())
def test_every_output_map_equals_the_loop_over_the_zero_padded_input(case, data):
    conv, size = case
    ho, wo = conv.output_size(*size)
    o = data.draw(st.integers(0, conv.out_channels - 1))
    pos = (data.draw(st.integers(0, ho - 1)), data.draw(st.integers(0, wo - 1)))
    w, b, x = symbols_as_lists(conv, size)
    assert output_map(conv, o, pos, size) == reference_map(conv, o, pos, size, w, b, x)


@settings(max_examples=15, deadline=None)
@given(convs(), st.integers(0, 2**32 - 1))
def test_exact_numbers_give_the_loops_integer_and_rational_value(case, seed):
    conv, size = case
    rng = random.Random(seed)
    w = np.array(
        [Fraction(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(int(np.prod(conv.weight_shape)))], dtype=object
    ).reshape(conv.weight_shape)
    x = np.array([rng.randint(-9, 9) for _ in range(conv.in_channels * size[0] * size[1])], dtype=object).reshape(
        conv.in_channels, *size
    )
    b = [sp.Rational(rng.randint(-9, 9), 7) for _ in range(conv.out_channels)] if conv.bias else None
    ho, wo = conv.output_size(*size)
    for o in range(conv.out_channels):
        for r in range(ho):
            for c in range(wo):
                got = output_map(conv, o, (r, c), size, weight=w, bias=b, input=x)
                ref = reference_map(
                    conv,
                    o,
                    (r, c),
                    size,
                    [[[[sp.Rational(v.numerator, v.denominator) for v in row] for row in k] for k in f] for f in w],
                    b,
                    [[[sp.Integer(v) for v in row] for row in ch] for ch in x],
                )
                assert got == ref and isinstance(got, sp.Rational)


def test_canonical_sums_equal_what_sympy_builds_term_by_term_whatever_the_names():
    conv = Conv2d(5, 3, 2, padding=1, groups=1)
    size = (3, 3)
    for wname, xname, bname in [("w", "x", "b"), ("z", "a", "m"), ("alpha", "beta", "c")]:
        wt, xt, bt = weight_tensor(conv, wname), input_tensor(5, 3, 3, xname), bias_vector(conv, bname)
        for o in range(3):
            got = output_map(conv, o, (1, 2), size, weight=wt, bias=bt, input=xt)
            ref = reference_map(conv, o, (1, 2), size, wt.tolist(), bt.tolist(), xt.tolist())
            assert got == ref
            assert got.args == ref.args  # the same canonical object, not merely an equal one


def test_repeated_symbols_fall_back_to_sympys_own_sum():
    a, y = sp.symbols("a y")
    conv = Conv2d(2, 1, 1, bias=False)
    got = output_map(conv, 0, (0, 0), (1, 1), weight=[[[[a]], [[a]]]], input=[[[y]], [[y]]])
    assert got == 2 * a * y


def test_a_full_width_map_is_the_sum_over_all_256_input_maps():
    conv = Conv2d(256, 64, 1, bias=False)
    maps = output_maps(conv, (0, 0), (1, 1))
    assert len(maps) == 64
    assert all(len(m.args) == 256 for m in maps)
    x = [row[0][0] for row in input_tensor(256, 1, 1).tolist()]
    w = weight_tensor(conv).tolist()
    for o in (0, 17, 63):
        assert maps[o] == sp.Add(*[w[o][i][0][0] * x[i] for i in range(256)])
        assert [sp.diff(maps[o], x[i]) for i in (0, 100, 255)] == [w[o][i][0][0] for i in (0, 100, 255)]


def test_output_tensor_stacks_every_map_at_every_position():
    conv = Conv2d(2, 3, 2, stride=1, padding=0)
    t = output_tensor(conv, (3, 4))
    assert t.shape == (3, 2, 3)
    assert t[2, 1, 0] == output_map(conv, 2, (1, 0), (3, 4))


def test_taps_skip_exactly_the_padded_positions():
    conv = Conv2d(1, 1, 3, padding=1)
    corner = taps(conv, 0, (0, 0), (4, 4))
    centre = taps(conv, 0, (1, 1), (4, 4))
    assert len(corner) == 4 and len(centre) == 9
    assert all(0 <= t.h < 4 and 0 <= t.w < 4 for t in corner)


def test_positions_entirely_in_padding_leave_only_the_bias():
    conv = Conv2d(2, 1, 1, padding=1)
    assert output_map(conv, 0, (0, 0), (1, 1)) == bias_vector(conv)[0]
    assert output_map(Conv2d(2, 1, 1, padding=1, bias=False), 0, (0, 0), (1, 1)) == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"o": 4}, VerifierError, r"o must be an output map index 0\.\.3 .* got 4"),
        ({"o": -1}, VerifierError, r"o must be an int >= 0, got -1"),
        ({"o": 1.0}, VerifierTypeError, r"o must be an int >= 0, got 1\.0"),
        ({"position": (5, 0)}, VerifierError, r"position \(5, 0\) is outside the 2x2 output"),
        ({"position": 3}, VerifierError, r"position must be a pair \(row, col\), got 3"),
        ({"input_size": (0, 2)}, VerifierError, r"input_size must be a positive int or a pair of them, got \(0, 2\)"),
        ({"weight": [[1, 2]]}, VerifierError, r"weight must have shape \(4, 3, 1, 1\), got shape \(1, 2\)"),
        ({"input": "x"}, VerifierError, r"input must have shape \(3, 2, 2\)"),
        ({"bias": [1, 2, 3, 4]}, VerifierError, r"bias was given but Conv2d\(3, 4.*has bias=False"),
        ({"weight": np.full((4, 3, 1, 1), "a", dtype=object)}, VerifierTypeError, r"weight entries must be"),
    ],
)
def test_bad_arguments_name_the_parameter_and_the_value(kwargs, error, match):
    args = {"o": 0, "position": (0, 0), "input_size": (2, 2)}
    args.update(kwargs)
    conv = Conv2d(3, 4, 1, bias=False)
    with pytest.raises(error, match=match):
        output_map(conv, args.pop("o"), args.pop("position"), args.pop("input_size"), **args)


def test_a_non_conv_is_refused_by_name():
    with pytest.raises(VerifierTypeError, match=r"conv must be a verifier.Conv2d, got 3 \(int\)"):
        output_map(3, 0, (0, 0), (1, 1))  # type: ignore[arg-type]


def test_weight_and_input_are_conv2ds_names_and_the_former_names_give_the_same_map():
    conv = Conv2d(2, 1, 1, bias=False)
    w, x = [[[[2]], [[3]]]], [[[5]], [[7]]]
    by_hand = 2 * 5 + 3 * 7
    assert output_map(conv, 0, (0, 0), (1, 1), weight=w, input=x) == by_hand
    assert output_map(conv, 0, (0, 0), (1, 1), weights=w, inputs=x) == by_hand
    with pytest.raises(VerifierTypeError, match=r"got both weight= and its former name weights="):
        output_map(conv, 0, (0, 0), (1, 1), weight=w, weights=w)
    with pytest.raises(VerifierTypeError, match=r"unexpected keyword argument 'weigths'"):
        output_map(conv, 0, (0, 0), (1, 1), weigths=w)
