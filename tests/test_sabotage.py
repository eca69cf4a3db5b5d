"""Every theorem can fail: break what it relies on and it reports so, and `verifier prove --json` exits 1.

Each sabotage below monkeypatches one thing a theorem relies on (the spec's group rule, weight layout,
parameter and weight counts, output size; the derivation engine dropping a product or swapping two weights;
the BatchNorm fold's sign; NumPy's conv2d). KILLS is the table of which sabotage kills which theorem, with the
status each then reports: "does not hold" (a step found a wrong figure) or "could not be checked" (the
broken code raised before any step could fail). Every theorem is killed by at least one sabotage with
"does not hold".

| sabotage                      | kills                                                                      |
|-------------------------------|----------------------------------------------------------------------------|
| groups ignored (spec)         | all-inputs, maps-equal-filters, parameter-count                            |
| weight layout O/I swapped     | all-inputs, maps-equal-filters, conv1x1-is-matmul, expansion-rank, ...     |
| param count + 1 (spec)        | parameter-count                                                            |
| weight count + 1 (spec)       | maps-equal-filters, parameter-count, mac-count, bottleneck-budget          |
| output size + 1 (spec)        | mac-count                                                                  |
| derivation drops a product    | all-inputs, maps-equal-filters, parameter-count, conv1x1-is-matmul, ...    |
| derivation swaps two weights  | all-inputs, maps-equal-filters, conv1x1-is-matmul, expansion-rank, ...     |
| BatchNorm fold's sign         | batchnorm-fold                                                             |
| NumPy conv2d off by one       | conv1x1-is-matmul, expansion-rank, linear-collapse                         |
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from verifier import numeric, spec, theorems
from verifier.cli import main
from verifier.symbolic import derive
from verifier.theorems import batchnorm_fold

HOLDS_NOT, UNCHECKED = "does not hold", "could not be checked"

_plan = derive.Operands._plan
_output_size = spec.Conv2d.output_size
_conv2d = numeric.conv2d


def _drop_a_product(self: Any, pos: Any) -> Any:
    return _plan(self, pos)[:-1]


def _swap_two_weights(self: Any, pos: Any) -> Any:
    plan = list(_plan(self, pos))
    if len(plan) < 2:  # a single product has nothing to swap with
        return plan
    (w0, x0), (w1, x1) = plan[0], plan[1]
    return [(w1, x0), (w0, x1), *plan[2:]]


def _conv_off_by_one(*args: Any, **kwargs: Any) -> Any:
    out = _conv2d(*args, **kwargs).copy()
    out[..., 0, 0] += 1
    return out


def _weights(s: spec.Conv2d) -> int:
    kh, kw = s.kernel_size  # type: ignore[misc]
    return kh * kw * (s.in_channels // s.groups) * s.out_channels


#: name -> (object, attribute, replacement)
SABOTAGE: dict[str, tuple[Any, str, Any]] = {
    "groups ignored": (spec.Conv2d, "in_per_group", property(lambda s: s.in_channels)),
    "weight layout O/I swapped": (
        spec.Conv2d,
        "weight_shape",
        property(lambda s: (s.in_channels // s.groups, s.out_channels, *s.kernel_size)),
    ),
    "param count + 1": (
        spec.Conv2d,
        "param_count",
        property(lambda s: _weights(s) + (s.out_channels if s.bias else 0) + 1),
    ),
    "weight count + 1": (spec.Conv2d, "weight_count", property(lambda s: _weights(s) + 1)),
    "output size + 1": (
        spec.Conv2d,
        "output_size",
        lambda s, h, w: (_output_size(s, h, w)[0] + 1, _output_size(s, h, w)[1]),
    ),
    "derivation drops a product": (derive.Operands, "_plan", _drop_a_product),
    "derivation swaps two weights": (derive.Operands, "_plan", _swap_two_weights),
    "BatchNorm fold's sign": (
        batchnorm_fold,
        "fold",
        lambda w, b, gamma, beta, mu, sigma: (gamma / sigma * w, beta - gamma * (b - mu) / sigma),
    ),
    "NumPy conv2d off by one": (numeric, "conv2d", _conv_off_by_one),
}

#: sabotage -> {theorem id: the status it then reports}
KILLS: dict[str, dict[str, str]] = {
    "groups ignored": {"all-inputs": UNCHECKED, "maps-equal-filters": UNCHECKED, "parameter-count": HOLDS_NOT},
    "weight layout O/I swapped": {
        "all-inputs": HOLDS_NOT,
        "maps-equal-filters": HOLDS_NOT,
        "conv1x1-is-matmul": HOLDS_NOT,
        "expansion-rank": HOLDS_NOT,
        "linear-collapse": UNCHECKED,
        "batchnorm-fold": UNCHECKED,
    },
    "param count + 1": {"parameter-count": HOLDS_NOT},
    "weight count + 1": {
        "maps-equal-filters": HOLDS_NOT,
        "parameter-count": HOLDS_NOT,
        "mac-count": HOLDS_NOT,
        "bottleneck-budget": HOLDS_NOT,
    },
    "output size + 1": {"mac-count": HOLDS_NOT},
    "derivation drops a product": {
        "all-inputs": HOLDS_NOT,
        "maps-equal-filters": HOLDS_NOT,
        "parameter-count": HOLDS_NOT,
        "conv1x1-is-matmul": HOLDS_NOT,
        "expansion-rank": HOLDS_NOT,
        "linear-collapse": HOLDS_NOT,
    },
    "derivation swaps two weights": {
        "all-inputs": HOLDS_NOT,
        "maps-equal-filters": HOLDS_NOT,
        "conv1x1-is-matmul": HOLDS_NOT,
        "expansion-rank": HOLDS_NOT,
        "linear-collapse": HOLDS_NOT,
    },
    "BatchNorm fold's sign": {"batchnorm-fold": HOLDS_NOT},
    "NumPy conv2d off by one": {
        "conv1x1-is-matmul": HOLDS_NOT,
        "expansion-rank": HOLDS_NOT,
        "linear-collapse": HOLDS_NOT,
    },
}


@pytest.fixture
def forget() -> Iterator[Callable[[], None]]:
    """Forget every verdict and derived map before and after, so no answer computed with the sabotage survives."""
    theorems.clear_cache()
    yield theorems.clear_cache
    theorems.clear_cache()


def test_the_table_kills_every_theorem_with_a_finding() -> None:
    assert set(KILLS) == set(SABOTAGE)
    found_wrong = {tid for row in KILLS.values() for tid, status in row.items() if status == HOLDS_NOT}
    assert found_wrong == {t.id for t in theorems.THEOREMS}


@pytest.mark.parametrize("name", SABOTAGE)
def test_a_sabotage_makes_its_theorems_fail_and_prove_exit_1_with_json(
    name: str, forget: Callable[[], None], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target, attribute, replacement = SABOTAGE[name]
    monkeypatch.setattr(target, attribute, replacement)
    expected = KILLS[name]
    argv = ["prove", "--json"] + [arg for tid in expected for arg in ("--theorem", tid)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err and "Traceback" not in out
    data = json.loads(out)
    assert data["all_hold"] is False
    reported = {t["id"]: t for t in data["theorems"]}
    assert {tid: t["status"] for tid, t in reported.items()} == expected
    for tid, status in expected.items():
        entry = reported[tid]
        assert entry["holds"] is False
        if status == HOLDS_NOT:  # a step names what it expected and what it found
            failed = [s for s in entry["steps"] if not s["holds"]]
            assert failed and all({"kind", "holds", "statement", "detail"} == set(s) for s in entry["steps"])
            assert entry["evidence"].startswith("Does not hold.")
            assert any("expected" in s["detail"] or "does NOT" in s["detail"] for s in failed), failed
        else:
            assert entry["error"] and entry["error"].split(":")[0] in entry["evidence"]


def test_a_spec_that_ignores_groups_is_caught_with_both_figures_of_the_grouped_conv(
    forget: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spec.Conv2d, "in_per_group", property(lambda s: s.in_channels))
    verdict = theorems.get_theorem("parameter-count").check()
    assert verdict.status == HOLDS_NOT
    (grouped,) = [s for s in verdict.steps if s.statement.startswith("grouped 3x3")]
    # the definition counts 3*3*(64/8)*64 = 4,608 weights + 64 biases; the broken spec 3*3*64*64 + 64
    assert "4,608 weights + 64 biases" in grouped.statement
    assert "expected 4,672 (definition), found 36,928 (spec)" in grouped.detail
