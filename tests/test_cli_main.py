"""Proofs of the `verifier claims` command and of the main job (`verifier` with no arguments).

Exit status is the contract: 0 when everything checked holds, 1 when a check fails (a theorem, a claim
that could not be checked, the run), 2 for bad usage. Failures are simulated by replacing one theorem or the run
with a broken one, and the report must catch each.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

import verifier.commands.run as run_command
from verifier import theorems
from verifier.claims import CLAIMS, VERDICTS
from verifier.cli import main
from verifier.progress import Progress
from verifier.report import Report
from verifier.spec import Bottleneck

RUN_KEYS = {"input_shape", "output_shape", "dtype", "seconds", "macs", "gmacs_per_s", "peak_bytes", "crosscheck"}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def break_theorem(monkeypatch: pytest.MonkeyPatch, broken_id: str) -> None:
    """Make theorem ``broken_id`` fail wherever it is checked, for the prove report and the claims alike."""
    real_check = theorems.Theorem.check

    def failing(self: Any) -> Any:
        if self.id == broken_id:
            return theorems.Verdict(holds=False, evidence="simulated failure", figures={}, proof=(), seconds=0.0)
        return real_check(self)

    monkeypatch.setattr(theorems.Theorem, "check", failing)


def fake_run(ok: bool = True, macs_off: int = 0) -> Any:
    """A stand-in for `verifier run` with the contract's keys, so the main job's tests stay fast."""

    shape = (1, 256, 56, 56)
    block = Bottleneck()

    def execute(args: argparse.Namespace, progress: Progress) -> Report:
        data = {
            "input_shape": list(shape),
            "output_shape": list(block.output_shape(shape)),
            "dtype": "float32",
            "seconds": 0.0123,
            "macs": block.macs(shape) + macs_off,
            "gmacs_per_s": 17.7,
            "peak_bytes": 9_633_792,
            "crosscheck": {"points": 9, "max_abs_error": 0.0, "exact": ok},
        }
        return Report("run", ok=ok, data=data)

    return execute


# -- verifier claims --------------------------------------------------------------------------------


def test_claims_json_lists_every_claim_with_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "claims", "--json")
    payload = json.loads(out)
    assert status == 0
    assert [c["id"] for c in payload["claims"]] == [s.id for s in CLAIMS]
    for c in payload["claims"]:
        assert {"id", "quote", "verdict", "evidence"} <= set(c)
        assert c["verdict"] in VERDICTS
        assert c["evidence"]


def test_claims_text_report_shows_each_quote_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "claims", "--id", "64x256-filters", "--id", "n1-times-n2")
    assert status == 0
    assert '[false] 64x256-filters (dontloo): "there\'ll be 64*256 filters"' in out
    assert "[false] n1-times-n2" in out
    assert out.rstrip().endswith("all checks hold")


def test_claims_unknown_id_is_bad_usage_naming_the_id(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "claims", "--id", "n3-maps")
    assert (status, out) == (2, "")
    assert "verifier claims: error: claim_id must be one of" in err and "got 'n3-maps'" in err


def test_claims_exit_1_when_a_deciding_theorem_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    break_theorem(monkeypatch, "maps-equal-filters")
    status, out, _ = run_cli(capsys, "claims", "--json")
    payload = json.loads(out)
    assert status == 1
    verdicts = {c["id"]: c["verdict"] for c in payload["claims"]}
    assert verdicts["n2-maps"] == "could not be checked"
    assert verdicts["C-parameters"] in VERDICTS  # decided by parameter-count only
    assert payload["all_decided"] is False


# -- the main job -----------------------------------------------------------------------------------


def test_main_job_json_combines_prove_claims_and_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_command, "execute", fake_run())
    status, out, _ = run_cli(capsys, "--json")
    payload = json.loads(out)
    assert status == 0
    assert payload["all_hold"] is True
    assert [t["id"] for t in payload["theorems"]] == [t.id for t in theorems.THEOREMS]
    assert all(t["holds"] for t in payload["theorems"])
    assert [c["id"] for c in payload["claims"]] == [s.id for s in CLAIMS]
    assert set(payload["run"]) == RUN_KEYS
    assert payload["run_checks"] and all(payload["run_checks"].values())


def test_main_job_text_report_answers_then_tabulates(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_command, "execute", fake_run())
    status, out, _ = run_cli(capsys)
    assert status == 0
    answer = out.index("Answer:")
    assert answer < out.index("all-inputs") < out.index("64x256-filters") < out.index("crosscheck.points")
    assert "256 -> 64: 64 filters of 1x1x256 (16,384 weights)" in out
    assert "64 -> 256: 256 filters of 1x1x64 (16,384 weights)" in out


def test_main_job_exit_1_and_no_answer_when_a_theorem_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_command, "execute", fake_run())
    break_theorem(monkeypatch, "all-inputs")
    status, out, _ = run_cli(capsys)
    assert status == 1
    assert "Answer:" not in out
    assert "The answer is not established" in out
    assert "SOME CHECKS FAIL" in out


def test_main_job_exit_1_when_the_run_does_not_check(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_command, "execute", fake_run(ok=False))
    status, out, _ = run_cli(capsys, "--json")
    assert status == 1
    assert json.loads(out)["all_hold"] is False


def test_main_job_exit_1_when_the_runs_macs_differ_from_the_closed_form(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_command, "execute", fake_run(macs_off=1))
    status, out, _ = run_cli(capsys)
    assert status == 1
    assert "The run DISAGREES with the specs: MACs equal the closed form." in " ".join(out.split())


def test_main_job_reports_a_part_that_cannot_run_instead_of_crashing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from verifier.errors import VerifierError

    def refuse(args: argparse.Namespace, progress: Progress) -> Report:
        raise VerifierError("batch 1 would need 99 GiB")

    monkeypatch.setattr(run_command, "execute", refuse)
    status, out, _ = run_cli(capsys, "--json")
    payload = json.loads(out)
    assert status == 1
    assert payload["errors"] == {"run": "batch 1 would need 99 GiB"}
    assert payload["run"] == {}


def test_main_job_skip_run_proves_and_judges_only(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--skip-run", "--json")
    payload = json.loads(out)
    assert status == 0
    assert payload["run"] is None and payload["all_hold"] is True


@pytest.mark.slow
def test_main_job_at_full_size_holds_and_reports_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--json")
    payload = json.loads(out)
    assert status == 0, payload.get("errors")
    assert set(payload["run"]) >= RUN_KEYS
    assert payload["run"]["crosscheck"]["points"] > 0


def _held() -> dict[str, Any]:
    ids = ("all-inputs", "maps-equal-filters", "parameter-count")
    return {"claims": [{"id": "n2-maps", "verdict": "true"}], "theorems": [{"id": t, "holds": True} for t in ids]}


@pytest.mark.parametrize("bias", [False, True])
def test_the_answer_gives_the_convs_a_bias_exactly_when_the_bottleneck_has_one(
    bias: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from verifier.commands import main as main_job
    from verifier.spec import Bottleneck, Conv2d

    if bias:  # a bottleneck whose 1x1 convs had biases: the sentence and the derived example must follow
        real = Bottleneck.main_path

        def with_bias(self: Bottleneck) -> tuple[Any, ...]:
            return tuple(
                (n, Conv2d(*layer.weight_shape[1::-1], 1) if n in ("conv1", "conv3") else layer)
                for n, layer in real(self)
            )

        monkeypatch.setattr(Bottleneck, "main_path", with_bias)
    answer = main_job._headline(_held()).split("\n")[0]
    sentence = answer.split("(derived for")[0]
    assert ("its bias plus" in sentence) is bias
    assert ("have no bias" in sentence) is not bias
    assert ("b_{0}" in answer) is bias  # the derived example agrees with the sentence
