"""Each theorem holds at the thread's full width, and each is re-derived here at random small sizes by an
independent route (SymPy's diff, Matrix products, plain loops); a failing check is reported as failing."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerifierError, theorems
from verifier.claims import get_claim
from verifier.progress import Progress
from verifier.spec import Conv2d
from verifier.symbolic import bias_vector, input_tensor, output_map, output_maps, rank_lower_bound, weight_tensor
from verifier.theorems import THEOREMS, get_theorem

IDS = [
    "all-inputs",
    "maps-equal-filters",
    "parameter-count",
    "mac-count",
    "conv1x1-is-matmul",
    "expansion-rank",
    "linear-collapse",
    "batchnorm-fold",
    "bottleneck-budget",
]


@pytest.fixture(scope="module")
def verdicts():
    stream = io.StringIO()
    results = theorems.check_all(Progress(enabled=True, stream=stream))
    assert stream.getvalue().count("theorem ") == len(IDS)  # one progress step per theorem
    return {t.id: v for t, v in results}


def test_the_theorems_are_the_nine_fixed_ids_in_order():
    assert [t.id for t in theorems.THEOREMS] == IDS
    assert [t.number for t in theorems.THEOREMS] == list(range(1, 10))
    assert repr(theorems.get_theorem("mac-count")) == "Theorem(4, 'mac-count': Multiply-add count)"
    assert theorems.get_theorem("batchnorm-fold")._repr_latex_().startswith("$$")


def test_an_unknown_id_lists_the_valid_ones():
    with pytest.raises(VerifierError, match=r"unknown theorem id 'nope'; valid ids: all-inputs, maps-equal-filters"):
        theorems.get_theorem("nope")


def test_every_theorem_holds_with_evidence_figures_and_a_proof(verdicts):
    for tid in IDS:
        v = verdicts[tid]
        assert v.holds, (tid, v.evidence)
        assert any(ch.isdigit() for ch in v.evidence)
        assert v.proof and all(isinstance(line, str) for line in v.proof)
        assert v.status == "holds" and v.steps and all(s.holds for s in v.steps)
        json.dumps(v.figures)  # JSON-able
        assert v.seconds >= 0
    assert theorems.get_theorem("all-inputs").check() is verdicts["all-inputs"]  # cached


def test_a_verdicts_latex_shows_every_proof_step(verdicts):
    v = verdicts["parameter-count"]
    latex = v._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert all(line in latex for line in v.proof)


def _theorem(check):
    return theorems.Theorem("broken", 99, "Broken", "A deliberately false statement.", "0 = 1", ("a", "b"), True, check)


def test_a_failing_step_makes_the_verdict_not_hold_naming_expected_and_found():
    def check(found, layer):
        found.equal("checked", "zero is one", "the value", 1, 0)
        found.step("proved", "a true step", True, "fine")

    verdict = theorems._core.run(_theorem(check), None)
    assert not verdict.holds and verdict.status == "does not hold"
    assert "zero is one: the value: expected 1, found 0" in verdict.evidence and "fine" not in verdict.evidence
    assert [s.holds for s in verdict.steps] == [False, True]


def test_an_exception_in_a_check_is_reported_as_could_not_be_checked():
    def check(found, layer):
        found.step("checked", "first", True, "fine")
        raise KeyError("weight_shape")

    verdict = theorems._core.run(_theorem(check), None)
    assert not verdict.holds and verdict.status == "could not be checked"
    assert verdict.error == "KeyError: 'weight_shape'" and "KeyError" in verdict.evidence


def test_a_check_that_does_not_apply_is_skipped_with_its_reason():
    def check(found, layer):
        raise theorems.NotApplicable("a 3x3 layer is not a matrix product")

    verdict = theorems._core.run(_theorem(check), Conv2d(1, 1, 3))
    assert verdict.status == "skipped" and "3x3" in verdict.evidence


# -- 1 ------------------------------------------------------------------------------------------
def test_thread_maps_have_every_input_as_derivative_its_own_weight(verdicts):
    conv = Conv2d(256, 64, 1)
    x = input_tensor(256, 1, 1).tolist()
    w = weight_tensor(conv).tolist()
    maps = output_maps(conv, (0, 0), (1, 1))
    b = bias_vector(conv).tolist()
    for o in (0, 63):
        assert maps[o] == b[o] + sp.Add(*[w[o][i][0][0] * x[i][0][0] for i in range(256)])
        assert [sp.diff(maps[o], x[i][0][0]) for i in (0, 1, 128, 255)] == [w[o][i][0][0] for i in (0, 1, 128, 255)]
    assert verdicts["all-inputs"].figures["256->64"] == {"maps": 64, "inputs_per_map": 256}
    assert verdicts["all-inputs"].figures["64->256"] == {"maps": 256, "inputs_per_map": 64}


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_with_groups_each_map_reads_exactly_its_groups_inputs(groups, cin_g, cout_g):
    conv = Conv2d(groups * cin_g, groups * cout_g, 1, groups=groups)
    x = input_tensor(conv.in_channels, 1, 1).tolist()
    for o in range(conv.out_channels):
        expr = output_map(conv, o, (0, 0), (1, 1))
        read = [i for i in range(conv.in_channels) if sp.diff(expr, x[i][0][0]) != 0]
        group = o // cout_g
        assert read == list(range(group * cin_g, (group + 1) * cin_g))


# -- 2 ------------------------------------------------------------------------------------------
def test_thread_conv_has_as_many_maps_as_filters(verdicts):
    fig = verdicts["maps-equal-filters"].figures
    assert fig["256->64"] == {"filters": 64, "output_maps": 64, "products_before_the_sum": 256 * 64}
    assert fig["64->256"] == {"filters": 256, "output_maps": 256, "products_before_the_sum": 64 * 256}
    assert fig["depthwise"]["maps"] == 256 * 64 == fig["depthwise"]["weights"] == fig["depthwise"]["ordinary_weights"]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 2))
def test_depthwise_maps_summed_over_inputs_are_the_ordinary_maps(n1, n2, k):
    ordinary = Conv2d(n1, n2, k, bias=False)
    depthwise = Conv2d(n1, n1 * n2, k, groups=n1, bias=False)
    assert depthwise.weight_count == ordinary.weight_count
    w = weight_tensor(ordinary).tolist()
    relabelled = [[w[m][i]] for i in range(n1) for m in range(n2)]  # filter i*n2+m gets w[m][i]
    for m in range(n2):
        summed = sp.Add(*[output_map(depthwise, i * n2 + m, (0, 0), (k, k), weight=relabelled) for i in range(n1)])
        assert summed == output_map(ordinary, m, (0, 0), (k, k))


# -- 3 ------------------------------------------------------------------------------------------
def test_thread_parameter_counts_equal_the_product_of_the_weight_shape(verdicts):
    fig = verdicts["parameter-count"].figures
    for name, conv in theorems.parameter_count._named_convs().items():
        kh, kw = conv.kernel_size
        by_hand = kh * kw * (conv.in_channels // conv.groups) * conv.out_channels + (
            conv.out_channels if conv.bias else 0
        )
        assert fig[name]["derived"] == fig[name]["definition"] == by_hand
    assert fig["grouped 3x3"]["definition"] == 3 * 3 * 8 * 64 + 64 == 4672
    assert fig["conv2"]["derived"] == 3 * 3 * 64 * 64
    assert fig["symbols in the derived 256->64 maps"] == 256 * 64 + 64


# -- 4 ------------------------------------------------------------------------------------------
def _loop_products(cin_g, cout, k, pad, size):
    """Count taps landing inside the image with plain loops over every output position."""
    out = size + 2 * pad - k + 1
    inside = 0
    for r in range(out):
        for c in range(out):
            for u in range(k):
                for v in range(k):
                    if 0 <= r - pad + u < size and 0 <= c - pad + v < size:
                        inside += 1
    return inside * cin_g * cout, out * out * k * k * cin_g * cout


def test_thread_mac_counts_with_and_without_padded_zeros(verdicts):
    fig = verdicts["mac-count"].figures
    zeros_omitted, with_zeros = _loop_products(64, 64, 3, 1, 56)
    assert fig["conv2"]["derived"] == zeros_omitted < fig["conv2"]["closed_form"] == with_zeros
    assert fig["conv1"]["derived"] == fig["conv1"]["closed_form"] == 56 * 56 * 256 * 64
    assert fig["conv3"]["derived"] == fig["conv3"]["closed_form"] == 56 * 56 * 64 * 256
    assert fig["block"]["closed_form"] == 2 * 56 * 56 * 256 * 64 + with_zeros


# -- 5 ------------------------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))
def test_1x1_conv_equals_the_sympy_matrix_product(cin, cout, h, w):
    conv = Conv2d(cin, cout, 1, bias=False)
    wt = weight_tensor(conv).tolist()
    xt = input_tensor(cin, h, w).tolist()
    W = sp.Matrix(cout, cin, lambda o, i: wt[o][i][0][0])
    X = sp.Matrix(cin, h * w, lambda i, p: xt[i][p // w][p % w])
    Y = W * X
    for o in range(cout):
        for p in range(h * w):
            assert output_map(conv, o, (p // w, p % w), (h, w)) == Y[o, p]


def test_thread_matmul_check_is_exact(verdicts):
    assert verdicts["conv1x1-is-matmul"].figures["W"] == [64, 256]
    assert verdicts["conv1x1-is-matmul"].figures["exact"] is True


# -- 6 ------------------------------------------------------------------------------------------
def test_thread_expansion_ranks(verdicts):
    fig = verdicts["expansion-rank"].figures
    assert fig["jacobian_shape"] == [256, 64]
    assert fig["jacobian_rank"] == fig["outputs_rank"] == fig["after_batchnorm_affine_dim"] == 64
    assert fig["after_batchnorm_linear_span"] == 65
    assert fig["after_relu_rank"] > 64 and fig["after_residual_add_rank"] > 64


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_expanded_outputs_have_rank_at_most_the_narrow_width_and_relu_breaks_it(narrow, seed):
    rng = np.random.default_rng(seed)
    wide = 4 * narrow
    W = rng.integers(-5, 6, (wide, narrow))
    X = rng.integers(-5, 6, (narrow, wide + 2))
    Y = sp.Matrix((W @ X).tolist())
    assert Y.rank() <= narrow
    assert rank_lower_bound(W @ X) == Y.rank()
    shift = sp.Matrix(rng.integers(1, 6, (wide, 1)).tolist())
    shifted = Y + shift * sp.ones(1, Y.cols)
    assert shifted.rank() <= narrow + 1


# -- 7 ------------------------------------------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3))
def test_two_1x1_convs_compose_to_one_with_the_matrix_product(cin, mid, cout):
    a, b = Conv2d(cin, mid, 1, bias=False), Conv2d(mid, cout, 1, bias=False)
    ua, vb = weight_tensor(a, "u").tolist(), weight_tensor(b, "v").tolist()
    hidden = [[[output_map(a, m, (0, 0), (1, 1), weight=ua)]] for m in range(mid)]
    U = sp.Matrix(mid, cin, lambda m, i: ua[m][i][0][0])
    V = sp.Matrix(cout, mid, lambda o, m: vb[o][m][0][0])
    x = sp.Matrix([row[0][0] for row in input_tensor(cin, 1, 1).tolist()])
    for o in range(cout):
        composed = output_map(b, o, (0, 0), (1, 1), weight=vb, input=hidden)
        assert sp.expand(composed - ((V * U) * x)[o]) == 0
    assert (V * U).rank() <= mid


def test_thread_collapse_has_rank_64(verdicts):
    assert verdicts["linear-collapse"].figures["rank"] == 64
    assert verdicts["linear-collapse"].figures["maps"] == 256


# -- 8 ------------------------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_batchnorm_folds_exactly_with_rationals_and_an_irrational_sigma(cin, seed):
    rng = np.random.default_rng(seed)
    conv = Conv2d(cin, 1, 1)
    w = [[[[sp.Integer(int(v))]] for v in rng.integers(-5, 6, cin)]]
    b = [sp.Rational(int(rng.integers(-9, 10)), 2)]
    x = [[[sp.Integer(int(v))]] for v in rng.integers(-5, 6, cin)]
    gamma, beta, mu = (sp.Rational(int(rng.integers(1, 9)), int(rng.integers(1, 5))) for _ in range(3))
    sigma = sp.sqrt(sp.Rational(int(rng.integers(1, 50)), 7) + sp.Rational(1, 100000))
    y = output_map(conv, 0, (0, 0), (1, 1), weight=w, bias=b, input=x)
    folded_w = [[[[gamma / sigma * w[0][i][0][0]]] for i in range(cin)]]
    folded_b = [beta + gamma * (b[0] - mu) / sigma]
    folded = output_map(conv, 0, (0, 0), (1, 1), weight=folded_w, bias=folded_b, input=x)
    assert sp.simplify(gamma * (y - mu) / sigma + beta - folded) == 0


def test_thread_batchnorm_fold_is_exact(verdicts):
    assert verdicts["batchnorm-fold"].figures == {**verdicts["batchnorm-fold"].figures, "exact": True, "maps": 64}


# -- 9 ------------------------------------------------------------------------------------------
def test_thread_budgets_match_hand_arithmetic(verdicts):
    fig = verdicts["bottleneck-budget"].figures
    bottleneck = 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
    assert fig["bottleneck"] == {"derived": bottleneck, "closed_form": bottleneck}
    assert fig["basic block"]["derived"] == 2 * 3 * 3 * 64 * 64
    assert fig["two 3x3 at 256"]["derived"] == 2 * 3 * 3 * 256 * 256
    assert fig["bottleneck + projection"]["derived"] == bottleneck + 256 * 256
    assert 1.9 < fig["projection_ratio"] < 2


@pytest.mark.slow
def test_two_3x3_convs_at_256_maps_have_the_proved_count_of_symbols():
    from verifier.symbolic import count_free_symbols, tensors

    conv = Conv2d(256, 256, 3, padding=1, bias=False)
    try:
        assert 2 * count_free_symbols(weight_tensor(conv, "q")) == 2 * 3 * 3 * 256 * 256
    finally:  # 589,824 symbols: do not keep them cached for the rest of the session
        for cached in (tensors.flat_symbols, tensors.symbol_ndarray, tensors._array):
            cached.cache_clear()


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
THEOREM_IDS = [t.id for t in THEOREMS]


not_an_id = st.one_of(st.text(max_size=20), st.integers(), st.none(), st.floats())


@settings(max_examples=40, deadline=None)
@given(theorem_id=not_an_id.filter(lambda v: v not in THEOREM_IDS))
def test_unknown_theorem_ids_are_refused_listing_every_valid_id(theorem_id: Any) -> None:
    message = f"unknown theorem id {theorem_id!r}; valid ids: {', '.join(THEOREM_IDS)}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        get_theorem(theorem_id)


@settings(max_examples=40, deadline=None)
@given(claim_id=not_an_id)
def test_unknown_claim_ids_are_refused_naming_the_parameter_and_value(claim_id: Any) -> None:
    try:
        claim = get_claim(claim_id)
    except VerifierError as exc:
        assert str(exc).startswith("claim_id must be one of ") and "n1-times-n2" in str(exc)
        assert str(exc).endswith(f", got {claim_id!r}")
    else:  # a valid id: the claim it names
        assert claim.id == claim_id


def test_every_theorem_is_found_by_its_own_id() -> None:
    assert THEOREM_IDS == IDS  # the list at the top of this file, in the site's order
    for number, theorem_id in enumerate(THEOREM_IDS, start=1):
        theorem = get_theorem(theorem_id)
        assert theorem.id == theorem_id and theorem.number == number


def test_check_all_refuses_a_progress_that_is_not_a_progress() -> None:
    from verifier.errors import VerifierTypeError
    from verifier.theorems import check_all

    with pytest.raises(VerifierTypeError, match=r"progress must be a verifier.progress.Progress or None, got 'x'"):
        check_all(progress="x")  # type: ignore[arg-type]


# -- the interface the per-layer checks rely on ----------------------------------------------------------
def test_validate_layer_refuses_what_is_not_a_conv_naming_it() -> None:
    from verifier.errors import VerifierTypeError
    from verifier.theorems import validate_layer

    with pytest.raises(VerifierTypeError, match=r"layer must be a verifier.spec.Conv2d or None, got 'conv'"):
        validate_layer("conv")


def test_validate_layer_refuses_a_layer_too_large_with_the_estimate() -> None:
    from verifier.spec import Conv2d
    from verifier.theorems import get_theorem, validate_layer

    big = Conv2d(2048, 2048, 3)
    message = r"too large to check exactly: deriving its 2,048 maps at one pixel takes 37,748,736 products"
    with pytest.raises(VerifierError, match=message):
        validate_layer(big)
    with pytest.raises(VerifierError, match=message):  # before any work
        get_theorem("all-inputs").check(big)


def test_a_step_kind_outside_the_three_is_refused() -> None:
    from verifier.theorems import Step

    with pytest.raises(VerifierError, match=r"kind must be one of proved, checked, cited, got 'assumed'"):
        Step("assumed", True, "x", "y")  # type: ignore[arg-type]


def test_at_a_3x3_layer_the_matrix_product_theorem_is_skipped_with_its_reason() -> None:
    from verifier.spec import Conv2d

    layer = Conv2d(64, 64, 3, padding=1, groups=8)
    verdict = get_theorem("conv1x1-is-matmul").check(layer)
    assert verdict.status == "skipped" and not verdict.holds and verdict.steps == ()
    assert "kernel is 3x3" in verdict.evidence and "Conv2d(64, 64" in verdict.evidence
    assert get_theorem("conv1x1-is-matmul").check(layer) is verdict  # cached per layer


def test_at_a_layer_each_theorem_about_layers_is_checked_there() -> None:
    from verifier.spec import Conv2d
    from verifier.theorems import check_all

    layer = Conv2d(64, 64, 3, padding=1, groups=8)
    results = {t.id: (t, v) for t, v in check_all(layer=layer)}
    assert list(results) == THEOREM_IDS
    param_theorem, param = results["parameter-count"]
    assert param_theorem.depends_on_layer and param.status == "holds"
    assert param.figures["layer"] == {"derived": 4672, "closed_form": 4672, "definition": 4672}
    assert any("4,608 weights + 64 biases" in s.statement for s in param.steps)
    budget_theorem, budget = results["bottleneck-budget"]
    assert not budget_theorem.depends_on_layer and "not about one layer" in budget.evidence  # as the CLI says
    statuses = {tid: v.status for tid, (_, v) in results.items()}
    assert statuses == {
        **dict.fromkeys(THEOREM_IDS, "holds"),
        "bottleneck-budget": "skipped",
        "conv1x1-is-matmul": "skipped",
        "expansion-rank": "skipped",
        "linear-collapse": "skipped",
    }


def test_an_exception_in_one_theorem_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses
    import json

    from verifier import theorems
    from verifier.cli import main

    def broken(found: Any, layer: Any) -> None:
        raise KeyError("weight_shape")

    theorem = get_theorem("mac-count")
    monkeypatch.setitem(theorems._BY_ID, "mac-count", dataclasses.replace(theorem, _check=broken))
    theorems._core._CACHE.pop(("mac-count", None), None)
    try:
        code = main(["prove", "--json", "--theorem", "mac-count", "--theorem", "parameter-count"])
    finally:
        theorems._core._CACHE.pop(("mac-count", None), None)
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert code == 1 and "Traceback" not in err
    entry, other = data["theorems"]
    assert entry["status"] == "could not be checked" and entry["error"] == "KeyError: 'weight_shape'"
    assert "KeyError" in entry["evidence"] and other["status"] == "holds"
