"""Unknown theorem and claim ids are refused with the list of valid ones, whatever is passed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerifierError
from verifier.claims import get_claim
from verifier.theorems import THEOREMS, get_theorem

IDS = [t.id for t in THEOREMS]
not_an_id = st.one_of(st.text(max_size=20), st.integers(), st.none(), st.floats())


@settings(max_examples=40, deadline=None)
@given(theorem_id=not_an_id.filter(lambda v: v not in IDS))
def test_unknown_theorem_ids_are_refused_listing_every_valid_id(theorem_id: Any) -> None:
    message = f"unknown theorem id {theorem_id!r}; valid ids: {', '.join(IDS)}"
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
    assert IDS == [
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
    for number, theorem_id in enumerate(IDS, start=1):
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
    assert list(results) == IDS
    param_theorem, param = results["parameter-count"]
    assert param_theorem.depends_on_layer and param.status == "holds"
    assert param.figures["layer"] == {"derived": 4672, "closed_form": 4672, "definition": 4672}
    assert any("4,608 weights + 64 biases" in s.statement for s in param.steps)
    budget_theorem, budget = results["bottleneck-budget"]
    assert not budget_theorem.depends_on_layer and budget is budget_theorem.check()
    statuses = {tid: v.status for tid, (_, v) in results.items()}
    assert statuses == {
        **dict.fromkeys(IDS, "holds"),
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
