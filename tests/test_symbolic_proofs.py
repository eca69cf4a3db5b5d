"""The symbolic-size proofs go through, their LaTeX lines are well formed, and a false identity is caught."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.spec import Bottleneck, Conv2d
from verifier.symbolic import proofs

ALL = [
    proofs.all_inputs,
    proofs.maps_equal_filters,
    proofs.parameter_count,
    proofs.mac_count,
    proofs.conv1x1_is_matmul,
    proofs.expansion_rank,
    proofs.linear_collapse,
    proofs.batchnorm_fold,
    proofs.block_budget,
]


@pytest.mark.parametrize("prove", ALL, ids=lambda f: f.__name__)
def test_each_symbolic_proof_holds_with_balanced_latex_lines(prove):
    proof = prove()
    assert proof.holds
    assert proof.lines
    for line in proof.lines:
        assert line.count("{") == line.count("}"), line
        assert "$" not in line  # each line is the content of one display-math block
    assert proof._repr_latex_().startswith("$$")


def test_a_false_identity_does_not_pass_the_equality_check():
    assert proofs._eq(proofs.C_in * proofs.C_out, proofs.C_out * proofs.C_in)
    assert not proofs._eq(proofs.C_in * proofs.C_out, proofs.C_in * proofs.C_out + 1)
    i = proofs.i
    s = sp.Sum(proofs.w[i] * proofs.x[i], (i, 0, proofs.C_in - 1))
    assert proofs._eq(2 * s, sp.Sum(2 * proofs.w[i] * proofs.x[i], (i, 0, proofs.C_in - 1)))
    assert not proofs._eq(2 * s, sp.Sum(3 * proofs.w[i] * proofs.x[i], (i, 0, proofs.C_in - 1)))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.booleans())
def test_the_proved_parameter_count_matches_the_spec_at_random_sizes(cin_g, cout_g, kh, kw, groups, bias):
    conv = Conv2d(cin_g * groups, cout_g * groups, (kh, kw), groups=groups, bias=bias)
    c, C_out, k_h, k_w = proofs.c, proofs.C_out, proofs.k_h, proofs.k_w
    formula = C_out * c * k_h * k_w + (C_out if bias else 0)
    assert formula.subs({c: cin_g, C_out: cout_g * groups, k_h: kh, k_w: kw}) == conv.param_count


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 64))
def test_the_proved_block_budgets_match_the_spec_for_every_width(planes):
    per_p2 = proofs.block_budget().figures
    assert per_p2["bottleneck_per_p2"] * planes**2 == Bottleneck(4 * planes, planes).conv_weight_count
    projected = Bottleneck(4 * planes, planes, projection=True).conv_weight_count
    assert (per_p2["bottleneck_per_p2"] + per_p2["projection_per_p2"]) * planes**2 == projected
    wide = Conv2d(4 * planes, 4 * planes, 3, padding=1)
    assert per_p2["two_3x3_wide_per_p2"] * planes**2 == 2 * wide.weight_count
