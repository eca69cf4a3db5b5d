"""The symbolic-size proofs go through, each is computed from the one definition (changing the definition makes
it fail), their LaTeX lines are well formed, and their counts agree with the spec at random sizes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.spec import Bottleneck, Conv2d
from verifier.symbolic import definition as D
from verifier.symbolic import proofs


def right_fold(w, b, gamma, beta, mu, sigma):
    return gamma / sigma * w, beta + gamma * (b - mu) / sigma


ALL: dict[str, Callable[[], proofs.Proof]] = {
    "all_inputs": proofs.all_inputs,
    "maps_equal_filters": proofs.maps_equal_filters,
    "parameter_count": proofs.parameter_count,
    "mac_count": proofs.mac_count,
    "conv1x1_is_matmul": proofs.conv1x1_is_matmul,
    "expansion_linear": proofs.expansion_linear,
    "linear_collapse": proofs.linear_collapse,
    "batchnorm_fold": lambda: proofs.batchnorm_fold(right_fold),
    "block_budget": proofs.block_budget,
}


@pytest.fixture
def fresh() -> Iterator[None]:
    proofs._one_by_one.cache_clear()
    yield
    proofs._one_by_one.cache_clear()


@pytest.mark.parametrize("name", ALL)
def test_each_symbolic_proof_holds_with_balanced_latex_lines(name: str) -> None:
    proof = ALL[name]()
    assert proof.holds, proof.detail
    assert proof.lines and proof.statement and proof.detail
    for line in proof.lines:
        assert line.count("{") == line.count("}"), line
        assert "$" not in line  # each line is the content of one display-math block
    assert proof._repr_latex_().startswith("$$")


def _swap_weight_indices(expr: sp.Basic) -> sp.Basic:
    """The definition with w_{o,j,u,v} read as w_{j,o,u,v}: a layout error."""
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == D.weight,
        lambda e: D.weight[e.indices[1], e.indices[0], e.indices[2], e.indices[3]],
    )


def _drop_group_offset(expr: sp.Basic) -> sp.Basic:
    """The definition with every filter reading the first group's inputs (groups ignored)."""
    return expr.replace(D.xbar, sp.Lambda((D._ri, D._rr, D._rc), D.xbar(D._ri - D.G * D.c_in, D._rr, D._rc)))


BROKEN = {
    "swapped weight indices": (_swap_weight_indices, ["all_inputs", "conv1x1_is_matmul"]),
    "groups ignored": (_drop_group_offset, ["all_inputs"]),
    "bias dropped": (lambda e: e.subs(D.b[D.o], 0), ["all_inputs", "expansion_linear"]),
    "one tap fewer": (
        lambda e: e.replace(
            lambda s: isinstance(s, sp.Sum), lambda s: sp.Sum(s.function, *s.limits[:2], (D.v, 0, D.k_w - 2))
        ),
        ["parameter_count", "mac_count", "block_budget", "all_inputs"],
    ),
}


@pytest.mark.parametrize("change", BROKEN)
def test_a_changed_definition_makes_the_proofs_that_rely_on_it_fail(
    change: str, fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    alter, killed = BROKEN[change]
    monkeypatch.setattr(D, "MAP", alter(D.MAP))
    if change == "one tap fewer":
        monkeypatch.setattr(D, "TERMS", (*D.TERMS[:2], (D.v, 0, D.k_w - 2)))
    for name in killed:
        assert not ALL[name]().holds, (change, name)


def test_a_wrong_fold_does_not_pass() -> None:
    def sign_flipped(w, b, gamma, beta, mu, sigma):
        return gamma / sigma * w, beta - gamma * (b - mu) / sigma

    def unscaled(w, b, gamma, beta, mu, sigma):
        return w, beta + gamma * (b - mu) / sigma

    assert not proofs.batchnorm_fold(sign_flipped).holds
    assert not proofs.batchnorm_fold(unscaled).holds


def test_the_sum_comparison_sees_a_different_coefficient() -> None:
    s = sp.Sum(D.weight[D.o, D.j, 0, 0] * D.x[D.j, 0, 0], (D.j, 0, D.C_in - 1))
    assert proofs._same(2 * s, sp.Sum(2 * D.weight[D.o, D.j, 0, 0] * D.x[D.j, 0, 0], (D.j, 0, D.C_in - 1)))
    assert not proofs._same(2 * s, sp.Sum(3 * D.weight[D.o, D.j, 0, 0] * D.x[D.j, 0, 0], (D.j, 0, D.C_in - 1)))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.booleans())
def test_the_proved_parameter_count_matches_the_spec_at_random_sizes(cin_g, cout_g, kh, kw, groups, bias):
    conv = Conv2d(cin_g * groups, cout_g * groups, (kh, kw), groups=groups, bias=bias)
    proof = proofs.parameter_count()
    weights, biases = sp.sympify(proof.figures["weights"]), sp.sympify(proof.figures["biases"])
    at = {s.name: v for s, v in D.sizes(conv).items()}
    total = weights.subs({s: at[s.name] for s in weights.free_symbols})
    total += biases.subs({s: at[s.name] for s in biases.free_symbols}) if bias else 0
    assert total == conv.param_count


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 64))
def test_the_proved_block_budgets_match_the_spec_for_every_width(m):
    per_m2 = proofs.block_budget().figures
    assert per_m2["bottleneck_per_m2"] * m**2 == Bottleneck(4 * m, m).conv_weight_count
    projected = Bottleneck(4 * m, m, projection=True).conv_weight_count
    assert (per_m2["bottleneck_per_m2"] + per_m2["projection_per_m2"]) * m**2 == projected
    wide = Conv2d(4 * m, 4 * m, 3, padding=1)
    assert per_m2["two_3x3_wide_per_m2"] * m**2 == 2 * wide.weight_count
