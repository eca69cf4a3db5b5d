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
