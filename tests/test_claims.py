"""Proofs of the thread's claims: each verdict against facts computed here independently.

The oracles are plain NumPy: integer weights and inputs, a 1x1 conv written as a loop over output and
input maps, finite differences (exact with integers) for "which input maps does output map o read, and
through how many weights", and enumerations of the OIHW weight tensor's indices. None of them uses the
symbolic engine that the claims module reads. The expected verdict follows from the readings' facts by
the definition: all readings hold, true; none, false; some, partly true; a question that implies no belief is
answered. Sabotage tests break what a claim relies on and check that its verdict flips or becomes "could not be
checked", reported rather than raised.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import _claim_facts as claim_facts
from verifier import claims as claims_module
from verifier.claims import (
    CLAIMS,
    COULD_NOT_CHECK,
    FILTER_POLICY,
    JUDGED,
    VERDICTS,
    Claim,
    Disagreement,
    Reading,
    Statement,
    get_claim,
    judge_all,
    left_out,
    thread_text,
)
from verifier.claims._thread import posts, sentences
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


def fake_verdict(holds: bool, evidence: str, figures: dict[str, object]) -> object:
    """A theorem's verdict as the claims read it: only ``holds``, ``evidence`` and ``figures``."""
    return SimpleNamespace(holds=holds, evidence=evidence, figures=figures)


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


def test_each_quote_is_attributed_to_the_author_of_its_post_or_to_the_source_the_author_reports() -> None:
    for s in CLAIMS:
        (post,) = {sentence.post for sentence in sentences() if s.quote in sentence.text}
        if s.reported_by is None:
            assert s.speaker == post.author, s.id
        else:  # reported speech: the post's author reports it, someone else asserted it
            assert s.reported_by == post.author and s.speaker != post.author, s.id
            assert s.form == "reported statement"
    reported = [s for s in CLAIMS if s.reported_by]
    assert [s.id for s in reported] == ["n2-maps"]
    assert "it is mentioned that, " + reported[0].quote in thread_text()


def test_the_thread_splits_into_a_question_an_answer_and_signed_comments() -> None:
    kinds = [(p.kind, p.author) for p in posts()]
    assert kinds[:2] == [("question", "Newstein"), ("answer", "dontloo")]
    comments = thread_text().count(" Jul 01 '16 at ") + thread_text().count(" '18 at ")
    assert [k for k, _ in kinds[2:]] == ["comment"] * comments
    assert {a for _, a in kinds} == {"Newstein", "dontloo", "Pepe Mandioca"}
    # the posts' sentences, put back together, are the post: no word lost or added
    for post in posts():
        text = "".join("".join(s.text.split()) for s in sentences() if s.post == post)
        assert text == "".join(post.text.split())


def test_every_sentence_is_either_quoted_by_a_claim_or_left_out_with_a_recorded_reason() -> None:
    quoted = [sen for sen in sentences() if any(s.quote in sen.text for s in CLAIMS)]
    left = left_out()
    assert len(quoted) + len(left) == len(sentences())
    assert all(reason != "no reason recorded" for _, reason in left)
    assert {sen.text for sen, _ in left} == set(claims_module.LEFT_OUT_REASONS)  # no stale reasons either
    assert ":P" in {sen.text for sen, _ in left}


def test_questions_imply_a_stated_belief_or_are_answered(judged: dict[str, Claim]) -> None:
    for s in CLAIMS:
        c = judged[s.id]
        if s.form == "question" and s.reading is None:
            assert c.verdict == "answered" and c.evidence, s.id
        else:
            assert c.verdict in ("true", "false", "partly true"), s.id
    answered = {s.id for s in CLAIMS if s.form == "question" and s.reading is None}
    assert answered == {"how-256-to-64", "how-64-to-256", "what-is-w-n-i", "how-about-reducing"}
    assert judged["n1-times-n2"].reading == "A 1x1 conv with n2 filters on n1 maps outputs n1*n2 maps."


def test_the_shipped_thread_is_the_file_read_from_the_package_directory() -> None:
    packaged = Path(claims_module.__file__).parent.parent / "data" / "thread.md"
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
        assert c.checked, (c.id, c.evidence)
        assert c.verdict in JUDGED
        assert c.evidence and c.readings
        data = c.to_dict()
        assert list(data)[:5] == ["id", "quote", "speaker", "verdict", "evidence"]
        assert data["quote"] == c.quote


def test_the_thread_has_true_false_partly_true_and_answered_claims(judged: dict[str, Claim]) -> None:
    assert {c.verdict for c in judged.values()} == set(JUDGED) == set(VERDICTS) - {COULD_NOT_CHECK}


def test_unknown_claim_id_is_refused_naming_the_value_and_the_valid_ids() -> None:
    with pytest.raises(VerifierError, match=r"claim_id must be one of .*64x256-filters.*got 'nope'"):
        get_claim("nope")


def test_repr_and_markdown_show_id_verdict_and_quote(judged: dict[str, Claim]) -> None:
    c = judged["64x256-filters"]
    assert repr(c) == "Claim('64x256-filters', 'false', dontloo: \"there'll be 64*256 filters\")"
    md = c._repr_markdown_()
    assert md.startswith("> there'll be 64*256 filters")
    assert "**false**" in md and "`parameter-count`" in md and "Note: dontloo uses 'filter'" in md


def test_a_failing_theorem_leaves_exactly_its_claims_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier import theorems

    real = theorems.get_theorem

    class Broken:
        id = "all-inputs"

        def check(self) -> object:
            return fake_verdict(False, "output map 3 misses input map 7", {})

    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Broken() if tid == "all-inputs" else real(tid))
    for c in judge_all():
        if "all-inputs" in c.theorem_ids:
            assert c.verdict == COULD_NOT_CHECK and not c.checked, c.id
            assert "output map 3 misses input map 7" in c.evidence
        else:
            assert c.verdict in VERDICTS, c.id


def test_a_theorem_that_cannot_be_checked_leaves_its_claims_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier import theorems

    real = theorems.get_theorem

    class Raising:
        def check(self) -> object:
            raise RuntimeError("ran out of patience")

    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Raising() if tid == "parameter-count" else real(tid))
    c = get_claim("1x1xCx64-parameters")
    assert c.verdict == COULD_NOT_CHECK
    assert "could not be checked (RuntimeError: ran out of patience)" in c.evidence


def test_a_theorem_figure_that_disagrees_with_the_claims_derivation_leaves_it_not_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verifier import theorems

    honest = theorems.get_theorem("maps-equal-filters").check()
    real = theorems.get_theorem
    skewed = dict(honest.figures)
    skewed["256->64"] = {**skewed.get("256->64", {}), "output_maps": 65}

    class Skewed:
        def check(self) -> object:
            return fake_verdict(True, honest.evidence, skewed)

    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Skewed() if tid == "maps-equal-filters" else real(tid))
    c = get_claim("n2-maps")
    assert c.verdict == COULD_NOT_CHECK
    assert "maps-equal-filters/256->64/output_maps is 65 but this claim's derivation gives 64" in c.evidence


def test_a_derivation_that_breaks_leaves_the_claims_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier import symbolic, theorems

    class Holds:
        def check(self) -> object:
            return fake_verdict(True, "holds", {})

    def broken(*args: object, **kwargs: object) -> object:
        raise ArithmeticError("derivation interrupted")

    claim_facts.derive.cache_clear()
    monkeypatch.setattr(theorems, "get_theorem", lambda tid: Holds())  # only the claim's own derivation breaks
    monkeypatch.setattr(symbolic, "output_maps", broken)
    try:
        c = get_claim("256-weights-per-output")
    finally:
        claim_facts.derive.cache_clear()
    assert c.verdict == COULD_NOT_CHECK
    assert "Could not be checked: ArithmeticError: derivation interrupted" in c.evidence


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


def test_feature_map_size_true_read_as_the_number_of_maps_the_only_reading_with_256_and_64(
    judged: dict[str, Claim],
) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = rng.integers(-2, 3, size=(256, 56, 56), dtype=np.int64)
    w = rng.integers(-2, 3, size=(64, 256, 1, 1), dtype=np.int64)
    y = np.einsum("oi,ihw->ohw", w[:, :, 0, 0], x)
    assert (x.shape[1:], y.shape[1:]) == ((56, 56), (56, 56))  # the spatial reading has no 256 or 64 in it
    c = judged["size-256-to-64"]
    assert c.verdict == verdict_of((x.shape[0], y.shape[0]) == (256, 64))
    assert "number of maps" in (c.note or "")


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
    assert f"{len(products):,} products per pixel" in judged["output-per-input"].evidence


def test_how_64_to_256_is_answered_each_of_256_maps_reads_all_64(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["expand"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1))
    s = sensitivity(w, x)
    assert s.shape == (256, 64) and bool(np.all(s != 0))
    c = judged["how-64-to-256"]
    assert c.verdict == "answered" and c.reading is None
    assert f"{s.shape[0]} such maps" in c.evidence and f"all {s.shape[1]} input maps" in c.evidence


@pytest.mark.parametrize("claim_id", ["how-256-to-64", "how-about-reducing"])
def test_the_questions_about_256_to_64_are_answered_with_64_maps_each_reading_all_256(
    claim_id: str, judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    s = sensitivity(nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1)))
    c = judged[claim_id]
    assert c.verdict == "answered"
    assert f"makes {s.shape[0]} maps" in c.evidence and f"all {s.shape[1]} input maps" in c.evidence


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


def test_265_linear_combinations_true_on_its_meaning_256_with_the_typo_noted(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["expand"]
    rng = np.random.default_rng(RNG_SEED)
    s = sensitivity(nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 1, 1)))
    made, variables = s.shape
    c = judged["265-linear-combinations"]
    assert sorted("265") == sorted(str(made)) and made != 265
    assert c.verdict == verdict_of(variables == 64 and bool(np.all(s != 0)))  # each map combines all 64
    assert f"'265' is read as {made}" in (c.note or "")


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


def test_redundant_output_partly_true_rank_64_linear_rank_256_after_relu_yet_a_function_of_64_numbers(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["expand"]
    rng = np.random.default_rng(RNG_SEED)
    pixels = 300
    w = rng.integers(-3, 4, size=(conv.out_channels, conv.in_channels)).astype(np.float64)
    h = rng.integers(-3, 4, size=(conv.in_channels, pixels)).astype(np.float64)
    shift = rng.integers(-3, 4, size=(conv.out_channels, 1)).astype(np.float64)
    linear = w @ h
    after_relu = np.maximum(2 * linear + shift, 0)
    linear_rank, relu_rank = np.linalg.matrix_rank(linear), np.linalg.matrix_rank(after_relu)
    assert (linear_rank, relu_rank) == (64, 256)
    # information: each pixel's 256 values are computed from that pixel's column of h alone (64 numbers)
    column = after_relu[:, 7]
    assert np.array_equal(column, np.maximum(2 * (w @ h[:, 7]) + shift[:, 0], 0))
    c = judged["output-redundant"]
    assert c.verdict == verdict_of(linear_rank < 256, relu_rank < 256, h.shape[0] < 256)
    assert [r.holds for r in c.readings] == [True, False, True]
    assert "rank" in c.readings[0].meaning and "information" in c.readings[2].meaning


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


def test_subscript_of_yn_true_the_weights_of_output_map_n_are_row_n_of_the_weight_tensor(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["expand"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, (4, conv.in_channels, 1, 1)), nonzero_ints(rng, (conv.in_channels, 1, 1))
    rows = {o: {idx[0] for idx in weights_reaching(w, x, o)} for o in range(4)}
    assert judged["subscript-of-yn"].verdict == verdict_of(all(r == {o} for o, r in rows.items()))
    what = judged["what-is-w-n-i"]
    assert what.verdict == "answered" and "multiplies input map x_i in output map y_n" in what.evidence


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


# The filter policy: a filter is the 1x1xC_in stack of one output map (OIHW's first axis); a slice is a weight.


def test_the_filter_policy_is_stated_once_and_every_claim_using_the_word_counts_oihw_filters(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    assert "1x1xC_in" in FILTER_POLICY and "never a filter" in FILTER_POLICY
    kernels = {_filters_and_slices(conv)[0] for conv in layers.values()}  # 64 (top layer), 256 (bottom layer)
    using = [c for c in judged.values() if "filter" in c.quote]
    assert {"n2-maps", "64x256-filters", "single-parameter", "1x1xC-filter"} <= {c.id for c in using}
    for c in using:  # every count of filters in the evidence is a count of OIHW kernels
        counts = {int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*) (?:1x1 )?filters", c.evidence)}
        assert counts <= kernels, (c.id, counts)


def test_256_weights_with_64_filters_false_64_filters_hold_256_weights_each(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    kernels, _, per_kernel, _ = _filters_and_slices(layers["reduce"])
    assert kernels == 64
    c = judged["256-weights-64-filters"]
    assert c.form == "question" and c.reading
    assert c.verdict == verdict_of(per_kernel < 256)


@pytest.mark.parametrize("claim_id", ["single-parameter", "single-parameter-assumed"])
def test_single_parameter_in_a_1x1_filter_false_a_1x1xc_filter_holds_c(
    claim_id: str, judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    _, _, per_kernel, per_slice = _filters_and_slices(layers["reduce"])
    assert per_slice == 1  # what dontloo calls a filter: a weight
    assert judged[claim_id].verdict == verdict_of(per_kernel == 1)
    assert judged[claim_id].speaker == ("Newstein" if claim_id.endswith("assumed") else "dontloo")


def test_not_64_filters_false_there_are_64_filters_one_per_output_map(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    kernels, _, _, _ = _filters_and_slices(layers["reduce"])
    assert judged["not-64-filters"].verdict == verdict_of(kernels != 64)


def test_64x256_filters_false_64x256_counts_the_weights(judged: dict[str, Claim], layers: dict[str, Conv2d]) -> None:
    kernels, slices, _, _ = _filters_and_slices(layers["reduce"])
    assert (kernels, slices) == (64, 64 * 256)
    c = judged["64x256-filters"]
    assert c.verdict == verdict_of(kernels == 64 * 256)
    assert f"{slices:,} is the number of its weights" in c.evidence


def test_filter_per_channel_then_sum_partly_true_the_procedure_holds_with_weights_for_filters(
    judged: dict[str, Claim], layers: dict[str, Conv2d]
) -> None:
    conv = layers["reduce"]
    rng = np.random.default_rng(RNG_SEED)
    w, x = nonzero_ints(rng, conv.weight_shape), nonzero_ints(rng, (conv.in_channels, 2, 2))
    # apply each weight to its own input map, then add the results up
    per_channel = [[w[o, i, 0, 0] * x[i] for i in range(conv.in_channels)] for o in range(conv.out_channels)]
    summed = np.stack([np.sum(parts, axis=0) for parts in per_channel])
    conv_out = np.einsum("oi,ihw->ohw", w[:, :, 0, 0], x)
    kernel_spans = w[0].shape[0]  # input maps one filter spans
    assert judged["filter-per-channel-then-sum"].verdict == verdict_of(
        kernel_spans == 1, np.array_equal(summed, conv_out)
    )


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


def test_a_judge_with_no_readings_leaves_the_claim_not_checked() -> None:
    statement = Statement("probe", "someone", "a probe", ("parameter-count",), lambda fig: ((), {}))
    claim = statement.judge()
    assert claim.verdict == COULD_NOT_CHECK
    assert "a claim needs at least one reading to be judged, got none" in claim.evidence


# -- failures are reported, not raised; sabotage flips what it breaks ----------------------------------------


def test_an_exception_inside_one_claims_check_is_its_verdict_and_the_rest_are_judged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(fig: object) -> object:
        raise KeyError("weight layout")

    target = "C-parameters"
    patched = tuple(replace(s, judge_readings=broken) if s.id == target else s for s in CLAIMS)
    monkeypatch.setattr(claims_module, "CLAIMS", patched)
    claims = {c.id: c for c in judge_all()}
    assert claims[target].verdict == COULD_NOT_CHECK
    assert claims[target].evidence == "Could not be checked: KeyError: 'weight layout'"
    assert all(c.verdict in JUDGED for i, c in claims.items() if i != target)


def test_claims_cli_exits_1_with_valid_json_when_a_claim_could_not_be_checked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from verifier.cli import main

    def broken(fig: object) -> object:
        raise IndexError("tuple index out of range")

    patched = tuple(replace(s, judge_readings=broken) if s.id == "n2-maps" else s for s in CLAIMS)
    monkeypatch.setattr(claims_module, "CLAIMS", patched)
    status = main(["claims", "--json"])
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert status == 1 and "Traceback" not in err
    verdicts = {c["id"]: c["verdict"] for c in payload["claims"]}
    assert verdicts["n2-maps"] == COULD_NOT_CHECK and payload["all_checked"] is False
    assert "IndexError: tuple index out of range" in payload["claims"][3]["evidence"]
    assert sum(v == COULD_NOT_CHECK for v in verdicts.values()) == 1


def test_two_paths_that_disagree_raise_a_disagreement_of_the_projects_error_family() -> None:
    assert issubclass(Disagreement, VerifierError)


@pytest.fixture
def fresh_derivations() -> Any:
    """The claims cache their derivations: derive again under a sabotage, and forget those derivations after."""
    claim_facts.derive.cache_clear()
    claim_facts.weight_tensor.cache_clear()
    yield
    claim_facts.derive.cache_clear()
    claim_facts.weight_tensor.cache_clear()


def _drop_last_term(monkeypatch: pytest.MonkeyPatch) -> None:
    """The derivation forgets one product of every output map."""
    import sympy

    from verifier import symbolic

    real = symbolic.output_maps
    monkeypatch.setattr(
        symbolic, "output_maps", lambda *a, **k: [sympy.Add(*m.args[:-1], evaluate=False) for m in real(*a, **k)]
    )


def _engine_adds_a_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """The NumPy engine returns one output map too many."""
    from verifier import numeric

    real = numeric.conv2d
    monkeypatch.setattr(numeric, "conv2d", lambda *a, **k: np.concatenate([real(*a, **k)] * 2, axis=1)[:, :-1])


def _weight_count_off_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Conv2d.weight_count
    monkeypatch.setattr(Conv2d, "weight_count", property(lambda self: real.fget(self) + 1))  # type: ignore[attr-defined]


def _output_maps_rule_off_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Conv2d.output_shape
    monkeypatch.setattr(Conv2d, "output_shape", lambda self, shp: (shp[0], real(self, shp)[1] + 1, *shp[2:]))


def _weight_layout_swapped(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Conv2d.weight_shape
    monkeypatch.setattr(Conv2d, "weight_shape", property(lambda self: real.fget(self)[::-1]))  # type: ignore[attr-defined]


def _every_map_gets_the_first_maps_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """The derivation swaps indices: output map o is given row 0 of the weight tensor instead of row o."""
    from verifier import symbolic

    real = symbolic.output_maps

    def shared(conv: Conv2d, *a: Any, **k: Any) -> list[Any]:
        w = symbolic.weight_tensor(conv)
        first = {w[idx]: w[(0, *idx[1:])] for idx in itertools.product(*(range(n) for n in w.shape))}
        return [m.xreplace(first) for m in real(conv, *a, **k)]

    monkeypatch.setattr(symbolic, "output_maps", shared)


def _keep_64_products(monkeypatch: pytest.MonkeyPatch) -> None:
    """The derivation keeps only the first 64 products of each output map."""
    import sympy

    from verifier import symbolic

    real = symbolic.output_maps
    monkeypatch.setattr(
        symbolic, "output_maps", lambda *a, **k: [sympy.Add(*m.args[:64], evaluate=False) for m in real(*a, **k)]
    )


# Which sabotage must change which claims (each to another verdict, or to "could not be checked"); every claim
# is in at least one row.
SABOTAGE = {
    "the derivation drops a term": (
        _drop_last_term,
        [
            "how-256-to-64", "output-per-input", "one-parameter-per-input-map", "same-scalar",
            "265-linear-combinations", "how-about-reducing", "reduction-is-the-same", "input-has-256",
            "256-weights-per-output", "256-weights-64-filters", "single-parameter-assumed", "single-parameter",
            "not-64-filters", "64x256-filters", "filter-per-channel-then-sum", "1x1xC-filter", "C-parameters",
            "1x1xCx64-parameters",
        ],
    ),
    "the derivation gives every map the first map's weights": (
        _every_map_gets_the_first_maps_weights,
        ["just-w-i", "different-weights-per-output", "subscript-of-yn"],
    ),
    "the derivation keeps 64 products per map": (_keep_64_products, ["64-randomly-selected"]),
    "the NumPy engine adds a map": (
        _engine_adds_a_map,
        ["change-dimensionality", "size-256-to-64", "n2-maps", "any-number-of-maps", "output-redundant"],
    ),
    "the spec's weight count is off by one": (
        _weight_count_off_by_one,
        ["256-weights-per-output", "64x256-filters", "single-parameter-assumed", "1x1xCx64-parameters"],
    ),
    "the spec's output shape has one map too many": (
        _output_maps_rule_off_by_one,
        ["change-dimensionality", "n2-maps", "n1-times-n2", "size-256-to-64", "any-number-of-maps", "how-64-to-256"],
    ),
    "the spec's weight layout is reversed": (
        _weight_layout_swapped,
        ["1x1xC-filter", "not-64-filters", "yn-formula", "what-is-w-n-i", "subscript-of-yn"],
    ),
}  # fmt: skip


def test_every_claim_is_changed_by_at_least_one_sabotage() -> None:
    assert set().union(*(set(ids) for _, ids in SABOTAGE.values())) == {s.id for s in CLAIMS}


@pytest.mark.parametrize("sabotage", list(SABOTAGE))
def test_sabotage_changes_the_verdicts_of_the_claims_that_rely_on_what_it_breaks(
    sabotage: str, judged: dict[str, Claim], monkeypatch: pytest.MonkeyPatch, fresh_derivations: None
) -> None:
    from verifier import theorems

    honest = {i: judged[i].verdict for i in SABOTAGE[sabotage][1]}
    # the deciding theorems hold as before: only the claim's own checks meet the sabotage
    monkeypatch.setattr(theorems, "get_theorem", lambda tid: SimpleNamespace(check=lambda: fake_verdict(True, "", {})))
    SABOTAGE[sabotage][0](monkeypatch)
    for claim_id, verdict in honest.items():
        c = get_claim(claim_id)
        assert c.verdict != verdict, (sabotage, claim_id, c.evidence)
        assert c.evidence != judged[claim_id].evidence  # the sentence of success is not printed again
        if c.verdict == COULD_NOT_CHECK:
            assert c.evidence.startswith("Could not be checked: ")
            assert "Disagreement: " in c.evidence or "Error: " in c.evidence


def test_a_derivation_missing_a_product_is_reported_with_what_was_found_not_the_success_sentence(
    monkeypatch: pytest.MonkeyPatch, fresh_derivations: None
) -> None:
    from verifier import theorems

    monkeypatch.setattr(theorems, "get_theorem", lambda tid: SimpleNamespace(check=lambda: fake_verdict(True, "", {})))
    _drop_last_term(monkeypatch)
    c = get_claim("reduction-is-the-same")
    assert c.verdict == "false"
    assert "between 255 and 256 of the 256 input maps" in c.evidence or "255 of the 256 input maps" in c.evidence
    assert "the y_n formula" not in c.evidence
