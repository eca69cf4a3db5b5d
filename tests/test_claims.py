"""Proofs of the thread's claims: each verdict against facts computed here independently.

The oracles are plain NumPy: integer weights and inputs, a 1x1 conv written as a loop over output and
input maps, finite differences (exact with integers) for "which input maps does output map o read, and
through how many weights", and enumerations of the OIHW weight tensor's indices. None of them uses the
symbolic engine that the claims module reads. The expected verdict follows from the readings' facts by
the definition: all readings hold, true; none, false; some, partly true.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import _claim_facts as claim_facts
from verifier import claims as claims_module
from verifier.claims import CLAIMS, UNDECIDED, VERDICTS, Claim, Reading, Statement, get_claim, judge_all, thread_text
from verifier.errors import VerifierError
from verifier.spec import Bottleneck, Conv2d

RNG_SEED = 1607


def verdict_of(*readings: bool) -> str:
    """The verdict a claim must have when its readings hold as given."""
    if all(readings):
        return "true"
    if not any(readings):
        return "false"
    return "partly true"


def conv1x1_loop(weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    """y[o, h, w] = sum_i weight[o, i, 0, 0] * x[i, h, w], written as plain loops over maps."""
    c_out, c_in = weight.shape[:2]
    y = np.zeros((c_out, *x.shape[1:]), dtype=x.dtype)
    for o in range(c_out):
        for i in range(c_in):
            y[o] += weight[o, i, 0, 0] * x[i]
    return y


def conv1x1(weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The same sum as ``conv1x1_loop``, as one contraction over input maps (for the many-probe tests)."""
    return np.einsum("oi,ihw->ohw", weight[:, :, 0, 0], x)


def nonzero_ints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Small integers that are never zero, so that every connection shows in a finite difference."""
    values = rng.integers(1, 4, size=shape, dtype=np.int64)
    return values * rng.choice(np.array([-1, 1], dtype=np.int64), size=shape)


def sensitivity(weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d y[o] / d x[i] at pixel (0, 0) by exact finite differences: entry (o, i)."""
    base = conv1x1(weight, x)[:, 0, 0]
    out = np.zeros((weight.shape[0], weight.shape[1]), dtype=np.int64)
    for i in range(weight.shape[1]):
        bumped = x.copy()
        bumped[i, 0, 0] += 1
        out[:, i] = conv1x1(weight, bumped)[:, 0, 0] - base
    return out


def weights_reaching(weight: np.ndarray, x: np.ndarray, o: int) -> set[tuple[int, ...]]:
    """The weight entries that change output map o at pixel (0, 0) when bumped by one."""
    base = conv1x1(weight, x)[o, 0, 0]
    found = set()
    for idx in itertools.product(*(range(n) for n in weight.shape)):
        bumped = weight.copy()
        bumped[idx] += 1
        if conv1x1(bumped, x)[o, 0, 0] != base:
            found.add(idx)
    return found


@pytest.fixture(scope="module")
def layers() -> dict[str, Conv2d]:
    """The figure's two 1x1 layers, taken from the bottleneck spec."""
    convs = dict(Bottleneck().convs())
    return {"reduce": convs["conv1"], "expand": convs["conv3"]}


@pytest.fixture(scope="module")
def judged() -> dict[str, Claim]:
    return {c.id: c for c in judge_all()}


# -- the claims as a collection ----------------------------------------------------------------------


def test_every_quote_is_a_verbatim_substring_of_the_thread_shipped_in_the_package() -> None:
    text = thread_text()
    for s in CLAIMS:
        assert s.quote in text, s.id
        assert s.speaker in text, s.id


def test_the_shipped_thread_is_the_file_read_from_the_package_directory() -> None:
    packaged = Path(claims_module.__file__).parent / "data" / "thread.md"
    assert packaged.read_text(encoding="utf-8") == thread_text()
    assert thread_text().startswith("# The thread this project answers")


def test_claim_ids_are_unique_and_every_deciding_theorem_exists() -> None:
    from verifier import theorems

    ids = [s.id for s in CLAIMS]
    assert len(ids) == len(set(ids))
    known = {t.id for t in theorems.THEOREMS}
    for s in CLAIMS:
        assert s.theorem_ids, s.id
        assert set(s.theorem_ids) <= known, (s.id, set(s.theorem_ids) - known)


def test_every_claim_is_judged_with_a_contract_verdict_and_evidence(judged: dict[str, Claim]) -> None:
    assert [c.id for c in judged.values()] == [s.id for s in CLAIMS]
    for c in judged.values():
        assert c.decided, (c.id, c.evidence)
        assert c.verdict in VERDICTS
        assert c.evidence and c.readings
        assert c.to_dict()["quote"] == c.quote


def test_the_thread_has_true_false_and_partly_true_claims(judged: dict[str, Claim]) -> None:
    assert {c.verdict for c in judged.values()} == set(VERDICTS)


def test_unknown_claim_id_is_refused_naming_the_value_and_the_valid_ids() -> None:
    with pytest.raises(VerifierError, match=r"claim_id must be one of .*64x256-filters.*got 'nope'"):
        get_claim("nope")


def test_repr_and_markdown_show_id_verdict_and_quote(judged: dict[str, Claim]) -> None:
    c = judged["64x256-filters"]
    assert repr(c) == "Claim('64x256-filters', 'partly true', dontloo: \"there'll be 64*256 filters\")"
    md = c._repr_markdown_()
    assert md.startswith("> there'll be 64*256 filters")
    assert "**partly true**" in md and "`parameter-count`" in md


def test_a_failing_theorem_leaves_exactly_its_claims_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier import theorems

    real = theorems.get_theorem

    class Broken:
        id = "all-inputs"

        def check(self) -> object:
            return theorems.Verdict(
                holds=False, evidence="output map 3 misses input map 7", figures={}, proof=(), seconds=0.0
            )

    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Broken() if tid == "all-inputs" else real(tid))
    for c in judge_all():
        if "all-inputs" in c.theorem_ids:
            assert c.verdict == UNDECIDED and not c.decided, c.id
            assert "output map 3 misses input map 7" in c.evidence
        else:
            assert c.verdict in VERDICTS, c.id


def test_a_theorem_that_cannot_be_checked_leaves_its_claims_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier import theorems

    real = theorems.get_theorem

    class Raising:
        def check(self) -> object:
            raise RuntimeError("ran out of patience")

    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Raising() if tid == "parameter-count" else real(tid))
    c = get_claim("1x1xCx64-parameters")
    assert c.verdict == UNDECIDED
    assert "could not be checked (RuntimeError: ran out of patience)" in c.evidence


def test_a_theorem_figure_that_disagrees_with_the_claims_derivation_leaves_it_undecided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verifier import theorems

    honest = theorems.get_theorem("maps-equal-filters").check()
    real = theorems.get_theorem
    skewed = dict(honest.figures)
    skewed["256->64"] = {**skewed.get("256->64", {}), "output_maps": 65}

    class Skewed:
        def check(self) -> object:
            return theorems.Verdict(holds=True, evidence=honest.evidence, figures=skewed, proof=(), seconds=0.0)

    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Skewed() if tid == "maps-equal-filters" else real(tid))
    c = get_claim("n2-maps")
    assert c.verdict == UNDECIDED
    assert "maps-equal-filters/256->64/output_maps is 65 but this claim's derivation gives 64" in c.evidence


def test_a_derivation_that_breaks_leaves_the_claims_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier import symbolic, theorems

    class Holds:
        def check(self) -> object:
            return theorems.Verdict(holds=True, evidence="holds", figures={}, proof=(), seconds=0.0)

    def broken(*args: object, **kwargs: object) -> object:
        raise ArithmeticError("derivation interrupted")

    claim_facts.derive.cache_clear()
    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Holds())  # only the claim's own derivation breaks
    monkeypatch.setattr(symbolic, "output_maps", broken)
    try:
        c = get_claim("256-weights-per-output")
    finally:
        claim_facts.derive.cache_clear()
    assert c.verdict == UNDECIDED
    assert "the computation failed (ArithmeticError: derivation interrupted)" in c.evidence


# -- one proof per claim -----------------------------------------------------------------------------


def test_change_dimensionality_true_as_both_1x1_layers_change_the_number_of_maps(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    rng = np.random.default_rng(RNG_SEED)
    changes = []
    for conv in layers.values():
        x = nonzero_ints(rng, (conv.in_channels, 2, 2))
        y = conv1x1_loop(nonzero_ints(rng, conv.weight_shape), x)
        changes.append(y.shape[0] != x.shape[0])
    assert judged["change-dimensionality"].verdict == verdict_of(all(changes))


def test_feature_map_size_partly_true_the_count_changes_but_each_map_stays_56x56(judged: dict[str, Claim]) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = rng.integers(-2, 3, size=(256, 56, 56), dtype=np.int64)
    w = rng.integers(-2, 3, size=(64, 256, 1, 1), dtype=np.int64)
    y = np.einsum("oi,ihw->ohw", w[:, :, 0, 0], x)
    assert (
        judged["size-256-to-64"].verdict
        == verdict_of(
            (x.shape[0], y.shape[0]) == (256, 64),  # number of maps 256 -> 64
            x.shape[1:] != y.shape[1:],  # each map's size changes
        )
    )


def test_n2_maps_true_as_n2_filters_give_n2_output_maps(judged: dict[str, Claim], layers: dict[str, Conv2d]) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ok = []
    for conv in layers.values():
        n1, n2 = conv.in_channels, conv.out_channels
        y = conv1x1_loop(nonzero_ints(rng, (n2, n1, 1, 1)), nonzero_ints(rng, (n1, 1, 1)))
        ok.append(y.shape[0] == n2)
    assert judged["n2-maps"].verdict == verdict_of(all(ok))


def test_n1_times_n2_false_as_the_output_has_n2_maps_not_n1_n2(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    rng = np.random.default_rng(RNG_SEED)
    said = []
    for conv in layers.values():
        n1, n2 = conv.in_channels, conv.out_channels
        y = conv1x1_loop(nonzero_ints(rng, (n2, n1, 1, 1)), nonzero_ints(rng, (n1, 1, 1)))
        said.append(y.shape[0] == n1 * n2)
    assert judged["n1-times-n2"].verdict == verdict_of(all(said))
    assert judged["n1-times-n2"].verdict == "false"


def test_one_output_per_input_partly_true_products_exist_but_are_summed(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1))
    # the per-channel products, enumerated before any sum
    products = {(o, i): w[o, i, 0, 0] * x[i, 0, 0] for o in range(w.shape[0]) for i in range(w.shape[1])}
    per_filter = {o: sum(1 for (p, _) in products if p == o) for o in range(w.shape[0])}
    y = conv1x1_loop(w, x)
    assert all(y[o, 0, 0] == sum(v for (p, _), v in products.items() if p == o) for o in range(w.shape[0]))
    assert judged["output-per-input"].verdict == verdict_of(
        set(per_filter.values()) == {conv.in_channels},  # one product per input map in every filter
        y.shape[0] == len(products),  # the products are the outputs
    )


def test_how_64_to_256_true_each_of_256_maps_reads_all_64(judged: dict[str, Claim], layers: dict[str, Conv2d]) -> None:
    conv = layers["expand"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1))
    s = sensitivity(w, x)
    assert judged["how-64-to-256"].verdict == verdict_of(s.shape == (256, 64) and bool(np.all(s != 0)))


def test_one_parameter_per_input_map_true_by_finite_differences(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ok = []
    for conv in layers.values():
        w, x = nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1))
        # bumping input map i moves output o by exactly its one weight, and a 1x1 slice holds one entry
        ok.append(np.array_equal(sensitivity(w, x), w[:, :, 0, 0]) and w[0, 0].size == 1)
    assert judged["one-parameter-per-input-map"].verdict == verdict_of(all(ok))


def test_same_scalar_true_every_position_of_a_map_gets_the_same_weight(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    w = nonzero_ints(rng, conv.weight_shape)[:, :, 0, 0]
    h = wd = 3
    # d y[o, p] / d x[i, p] at each position p, from basis inputs: one input map, one position at a time
    jac = np.zeros((h * wd, w.shape[0], w.shape[1]), dtype=np.int64)
    for p, (r, c) in enumerate(itertools.product(range(h), range(wd))):
        basis = np.zeros((w.shape[1], w.shape[1], h, wd), dtype=np.int64)
        basis[np.arange(w.shape[1]), np.arange(w.shape[1]), r, c] = 1
        out = np.einsum("oi,bihw->bohw", w, basis)
        jac[p] = out[:, :, r, c].T
    same_everywhere = all(np.array_equal(jac[p], jac[0]) for p in range(h * wd))
    assert judged["same-scalar"].verdict == verdict_of(same_everywhere)


def test_265_linear_combinations_partly_true_it_is_256_written_with_digits_swapped(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["expand"]
    maps = conv1x1_loop(np.ones(conv.weight_shape, dtype=np.int64), np.ones((conv.in_channels, 1, 1), np.int64))
    made = maps.shape[0]
    c = judged["265-linear-combinations"]
    assert c.verdict == verdict_of(made == 265, sorted("265") == sorted(str(made)))
    assert "typo for 256" in c.evidence


def test_yn_formula_true_each_output_is_the_weighted_sum_of_the_64_inputs(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["expand"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1))
    y = np.einsum("oi,ihw->ohw", w[:, :, 0, 0], x)
    formula = [sum(w[n, i, 0, 0] * x[i, 0, 0] for i in range(64)) for n in range(conv.out_channels)]
    assert judged["yn-formula"].verdict == verdict_of(list(y[:, 0, 0]) == formula)


def test_any_number_of_output_maps_true_for_every_filter_count_tried(judged: dict[str, Claim]) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = nonzero_ints(rng, (64, 1, 1))
    ok = [conv1x1_loop(nonzero_ints(rng, (n, 64, 1, 1)), x).shape[0] == n for n in (1, 5, 64, 256, 265, 777)]
    assert judged["any-number-of-maps"].verdict == verdict_of(all(ok))


def test_redundant_output_partly_true_rank_64_linear_but_full_after_relu_and_residual(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["expand"]
    rng = np.random.default_rng(RNG_SEED)
    pixels = 300
    w = rng.integers(-3, 4, size=(conv.out_channels, conv.in_channels)).astype(np.float64)
    h = rng.integers(-3, 4, size=(conv.in_channels, pixels)).astype(np.float64)
    shortcut = rng.integers(-3, 4, size=(conv.out_channels, pixels)).astype(np.float64)
    shift = rng.integers(-3, 4, size=(conv.out_channels, 1)).astype(np.float64)
    linear = w @ h
    block = np.maximum(2 * linear + shift + shortcut, 0)
    linear_rank, block_rank = np.linalg.matrix_rank(linear), np.linalg.matrix_rank(block)
    assert (linear_rank, block_rank) == (64, 256)
    assert judged["output-redundant"].verdict == verdict_of(linear_rank < 256, block_rank < 256)


def test_different_weights_per_output_true_the_oihw_rows_are_disjoint(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, (8, conv.in_channels, 1, 1)), nonzero_ints(rng, (conv.in_channels, 1, 1))
    reach = [weights_reaching(w, x, o) for o in range(w.shape[0])]
    disjoint = all(not (a & b) for a, b in itertools.combinations(reach, 2))
    assert all(len(r) == conv.in_channels for r in reach)
    assert judged["different-weights-per-output"].verdict == verdict_of(disjoint)


def test_just_w_i_false_as_two_output_maps_are_reached_by_different_weights(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, (3, conv.in_channels, 1, 1)), nonzero_ints(rng, (conv.in_channels, 1, 1))
    reach = {frozenset(weights_reaching(w, x, o)) for o in range(3)}
    assert judged["just-w-i"].verdict == verdict_of(len(reach) == 1)


def test_reduction_is_the_same_true_64_maps_each_reading_all_256(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    s = sensitivity(nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1)))
    assert judged["reduction-is-the-same"].verdict == verdict_of(s.shape == (64, 256) and bool(np.all(s != 0)))


def test_64_randomly_selected_false_as_every_output_map_reads_all_256_inputs(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    s = sensitivity(nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1)))
    read = (s != 0).sum(axis=1)
    assert judged["64-randomly-selected"].verdict == verdict_of(bool(np.all(read == 64)))
    assert judged["64-randomly-selected"].verdict == "false"


def test_input_has_256_maps_true_from_the_block_shapes(judged: dict[str, Claim]) -> None:
    first = Bottleneck().rows((1, 256, 56, 56))[0]
    assert judged["input-has-256"].verdict == verdict_of(first.input_shape[1] == 256)


def test_256_weights_per_output_channel_true_by_bumping_each_weight(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, (2, conv.in_channels, 1, 1)), nonzero_ints(rng, (conv.in_channels, 1, 1))
    per_output = {len(weights_reaching(w, x, o)) for o in range(2)}
    channels = conv.weight_shape[0]
    assert judged["256-weights-per-output"].verdict == verdict_of(per_output == {256} and channels == 64)


def _filters_and_slices(conv: Conv2d) -> tuple[int, int, int, int]:
    """Kernels along OIHW's first axis, (o, i) slices by enumeration, and the entries of each."""
    w = np.zeros(conv.weight_shape)
    kernels = len(w)
    slices = {(o, i) for o, i, _, _ in itertools.product(*(range(n) for n in w.shape))}
    return kernels, len(slices), w[0].size, w[0, 0].size


def test_256_weights_with_64_filters_partly_true_64_filters_of_256_weights(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    kernels, _, per_kernel, _ = _filters_and_slices(layers["reduce"])
    assert judged["256-weights-64-filters"].verdict == verdict_of(kernels == 64, per_kernel < 256)


def test_single_parameter_partly_true_for_a_slice_not_for_a_1x1xc_filter(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    _, _, per_kernel, per_slice = _filters_and_slices(layers["reduce"])
    assert judged["single-parameter"].verdict == verdict_of(per_slice == 1, per_kernel == 1)


def test_not_64_filters_partly_true_there_are_64_kernels_but_16384_slices(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    kernels, slices, _, _ = _filters_and_slices(layers["reduce"])
    assert judged["not-64-filters"].verdict == verdict_of(kernels != 64, slices != 64)


def test_64x256_filters_partly_true_counting_slices_not_oihw_filters(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    kernels, slices, _, _ = _filters_and_slices(layers["reduce"])
    assert (kernels, slices) == (64, 64 * 256)
    assert judged["64x256-filters"].verdict == verdict_of(slices == 64 * 256, kernels == 64 * 256)


def test_filter_per_channel_then_sum_true_the_loop_of_slices_is_the_conv(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 2, 2))
    # apply each slice to its own input map, then add the results up
    per_channel = [[w[o, i, 0, 0] * x[i] for i in range(conv.in_channels)] for o in range(conv.out_channels)]
    summed = np.stack([np.sum(parts, axis=0) for parts in per_channel])
    conv_out = np.einsum("oi,ihw->ohw", w[:, :, 0, 0], x)
    assert judged["filter-per-channel-then-sum"].verdict == verdict_of(np.array_equal(summed, conv_out))


def test_1x1xc_filter_true_each_kernel_is_1x1_by_256(judged: dict[str, Claim], layers: dict[str, Conv2d]) -> None:
    kernel = np.zeros(layers["reduce"].weight_shape)[0]
    assert judged["1x1xC-filter"].verdict == verdict_of(kernel.shape == (256, 1, 1))


def test_c_parameters_true_a_filter_of_a_biasless_conv_has_c_entries(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    assert judged["C-parameters"].verdict == verdict_of(np.zeros(conv.weight_shape)[0].size == 256 and not conv.bias)


def test_1x1xcx64_parameters_true_the_layer_has_1_1_256_64_entries(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    entries = sum(1 for _ in itertools.product(*(range(n) for n in conv.weight_shape)))
    biases = conv.out_channels if conv.bias else 0
    assert judged["1x1xCx64-parameters"].verdict == verdict_of(entries + biases == 1 * 1 * 256 * 64)


# -- the judging rule --------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=5))
def test_verdict_is_true_iff_every_reading_holds_false_iff_none(held: list[bool]) -> None:
    readings = tuple(Reading(f"reading {k}", h, f"computed {h}") for k, h in enumerate(held))
    statement = Statement("probe", "someone", "a probe", ("parameter-count",), lambda fig: (readings, {}))
    claim = statement.judge()
    expected = "true" if all(held) else "false" if not any(held) else "partly true"
    assert claim.verdict == expected
    assert claim.readings == readings
    for r in readings:
        assert r.because[1:] in claim.evidence  # a lone reading's reason starts the sentence, capitalised


def test_a_judge_with_no_readings_leaves_the_claim_undecided() -> None:
    statement = Statement("probe", "someone", "a probe", ("parameter-count",), lambda fig: ((), {}))
    claim = statement.judge()
    assert claim.verdict == UNDECIDED
    assert "a claim needs at least one reading to be judged, got none" in claim.evidence
