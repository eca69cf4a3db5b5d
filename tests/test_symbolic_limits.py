"""Derivations too large for the memory are refused with the estimate before anything is built, and a
single map of a wide layer is derived from the symbols it reads, equal to the map of the full tensors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from verifier import VerifierError
from verifier.spec import Conv2d
from verifier.symbolic import derive, output_map, output_maps, output_tensor, tensors, weight_tensor


def _no_memory(monkeypatch):
    """Pretend 1 MiB is available: every estimate above the small-work threshold is then refused."""
    from verifier import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 20)
    monkeypatch.setattr(memory, "SMALL", 0)


def test_a_huge_weight_tensor_is_refused_with_its_estimate():
    with pytest.raises(VerifierError, match=r"6,400,000,000 symbols w_\{\.\.\.\} .* needs about 1\.5 TiB"):
        weight_tensor(Conv2d(100_000_000, 64, 1))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: output_maps(c, (0, 0), (1, 1)),
        lambda c: output_tensor(c, (1, 1)),
        lambda c: output_map(c, 0, (0, 0), (1, 1), input=[[[1]]] * c.in_channels),
        lambda c: output_map(c, 0, (0, 0), (1, 1)),
    ],
    ids=["output_maps", "output_tensor", "output_map with values", "output_map"],
)
def test_every_derivation_checks_its_size_before_building(call, monkeypatch):
    _no_memory(monkeypatch)
    conv = Conv2d(300, 300, 1)
    tensors.flat_symbols.cache_clear()
    with pytest.raises(
        VerifierError, match=r"(deriving|a tensor of) .* needs about .* nothing was allocated: .*(fewer|smaller)"
    ):
        call(conv)


@pytest.mark.parametrize(
    "conv, position, size",
    [
        (Conv2d(700, 8, 1), (0, 0), (1, 1)),
        (Conv2d(40, 6, 3, padding=1, groups=2, bias=True), (0, 4), (5, 5)),
        (Conv2d(30, 4, 3, stride=2, dilation=2, padding=2), (1, 1), (7, 9)),
    ],
)
def test_a_wide_layers_single_map_equals_the_map_of_the_whole_tensors(conv, position, size, monkeypatch):
    every = output_maps(conv, position, size)
    monkeypatch.setattr(derive, "_WHOLE_TENSORS_UP_TO", 0)  # force the symbols-it-reads route
    for o in range(conv.out_channels):
        single = output_map(conv, o, position, size)
        assert single == every[o]
        assert sp.srepr(single) == sp.srepr(every[o])


def test_the_cli_refuses_a_huge_derivation_quickly_and_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "verifier", "derive", "--in", "100000000", "--out", "64", "--map", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    assert "100,000,000 products" in done.stderr and "nothing was allocated" in done.stderr


@pytest.mark.parametrize("bad", [sp.oo, -sp.oo, sp.nan, sp.zoo, sp.Symbol("t") - sp.oo])
@pytest.mark.parametrize("where", ["weight", "bias", "input"])
def test_infinite_and_undefined_sympy_entries_are_refused_by_name(bad, where):
    conv = Conv2d(2, 1, 1)
    given = {"weight": [[[[1]], [[2]]]], "bias": [3], "input": [[[4]], [[5]]]}
    flat = {"weight": lambda v: [[[[v]], [[2]]]], "bias": lambda v: [v], "input": lambda v: [[[v]], [[5]]]}
    given[where] = flat[where](bad)
    with pytest.raises(VerifierError, match=rf"{where} entries must be finite, got"):
        output_map(conv, 0, (0, 0), (1, 1), **given)


def _captured(monkeypatch):
    """Record every estimate the derivation hands to the memory guard, in bytes, with its advice."""
    seen = []

    def record(nbytes, what, *, advice="", available=None):
        seen.append((nbytes, what, advice))

    monkeypatch.setattr(derive, "ensure_fits", record)
    return seen


@pytest.mark.parametrize(
    "conv, size", [(Conv2d(6, 4, 3, padding=1, groups=2), (5, 7)), (Conv2d(3, 5, 1, bias=False), (2, 3))]
)
def test_the_estimate_counts_every_symbol_and_product(conv, size, monkeypatch):
    seen = _captured(monkeypatch)
    ho, wo = conv.output_size(*size)
    kh, kw = conv.kernel_pair
    weights = conv.out_channels * (conv.in_channels // conv.groups) * kh * kw
    symbols = weights + conv.in_channels * size[0] * size[1] + conv.out_channels
    per_map = (conv.in_channels // conv.groups) * kh * kw  # every tap, padding included: an upper bound

    output_maps(conv, (0, 0), size)
    output_tensor(conv, size)
    output_map(conv, 1, (0, 0), size, input=np.ones((conv.in_channels, *size), dtype=int).astype(object))
    maps = [conv.out_channels, conv.out_channels * ho * wo, 1]
    assert [n for n, _, _ in seen] == [
        symbols * tensors.SYMBOL_BYTES + m * per_map * derive.PRODUCT_BYTES for m in maps
    ]
    assert all("derive fewer maps" in advice for _, _, advice in seen)
    assert f"({symbols:,} symbols, up to {conv.out_channels * per_map:,} products)" in seen[0][1]


def test_a_single_wide_map_is_estimated_from_its_own_products(monkeypatch):
    conv = Conv2d(300, 2, 3, padding=1, bias=False)
    monkeypatch.setattr(derive, "_WHOLE_TENSORS_UP_TO", 0)
    seen = _captured(monkeypatch)
    output_map(conv, 1, (0, 0), (4, 4))  # a corner: 2 x 2 of the 3 x 3 taps lie inside the image
    products = 300 * 2 * 2
    assert seen == [
        (
            products * (derive.PRODUCT_BYTES + 2 * tensors.SYMBOL_BYTES),
            f"deriving output map 1 of {conv!r} ({products:,} products)",
            "use fewer input channels or a smaller kernel",
        )
    ]


@pytest.mark.parametrize("bias", [True, False])
def test_a_wide_single_map_has_a_bias_exactly_when_the_conv_has(bias, monkeypatch):
    monkeypatch.setattr(derive, "_WHOLE_TENSORS_UP_TO", 0)
    conv = Conv2d(5, 2, 1, bias=bias)
    expr = output_map(conv, 1, (0, 0), (1, 1))
    assert (sp.Symbol("b_{1}") in expr.free_symbols) is bias
    assert expr == output_maps(conv, (0, 0), (1, 1))[1]


def test_the_estimate_uses_both_kernel_sides(monkeypatch):
    seen = _captured(monkeypatch)
    conv = Conv2d(2, 3, (3, 1), bias=False)  # 3 rows by 1 column of taps
    output_maps(conv, (0, 0), (4, 4))
    symbols = 3 * 2 * 3 * 1 + 2 * 4 * 4 + 3  # weights, inputs, and a bias per map (counted with or without)
    assert seen[0][0] == symbols * tensors.SYMBOL_BYTES + 3 * (2 * 3 * 1) * derive.PRODUCT_BYTES
    assert seen[0][2] == "derive fewer maps (output_map derives one) or use fewer channels or a smaller input"


@pytest.mark.parametrize("position", [(0, 3), (2, 0), (2, 3)])
def test_a_position_on_or_past_the_outputs_edge_is_refused(position):
    conv = Conv2d(1, 1, 3)  # a 4x5 input gives a 2x3 output
    with pytest.raises(VerifierError, match=r"position .* is outside the 2x3 output"):
        output_map(conv, 0, position, (4, 5))


def test_halves_everywhere_are_summed_as_halves():
    from fractions import Fraction

    conv = Conv2d(2, 1, 1, bias=False)
    half = Fraction(1, 2)
    value = output_map(conv, 0, (0, 0), (1, 1), weight=[[[[half]], [[3 * half]]]], input=[[[half]], [[5 * half]]])
    assert value == sp.Rational(1, 4) + sp.Rational(15, 4)
