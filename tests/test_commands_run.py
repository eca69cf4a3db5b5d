"""Proofs about `verifier run`: its JSON contract, its figures against the spec, its exit statuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from verifier import Bottleneck
from verifier.cli import main
from verifier.commands.run import run_bottleneck, run_report
from verifier.crosscheck import CrossCheck

KEYS = {"input_shape", "output_shape", "dtype", "seconds", "macs", "gmacs_per_s", "peak_bytes", "crosscheck"}


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["run", "--json", *argv])
    return status, json.loads(capsys.readouterr().out)


def test_json_has_exactly_the_contract_keys_and_figures_from_the_spec(capsys: pytest.CaptureFixture[str]) -> None:
    status, data = _run_json(capsys, "--input", "6x6", "--batch", "2", "--dtype", "float64", "--repeats", "2")
    assert status == 0
    assert set(data) == KEYS
    assert set(data["crosscheck"]) == {"points", "max_abs_error", "exact"}
    assert data["input_shape"] == [2, 256, 6, 6]
    assert data["output_shape"] == list(Bottleneck().output_shape((2, 256, 6, 6)))
    assert data["dtype"] == "float64"
    # the three convs' multiply-adds, counted here by hand: 256*64 + 64*64*9 + 64*256 per pixel
    assert data["macs"] == 2 * 6 * 6 * (256 * 64 + 64 * 64 * 9 + 64 * 256)
    assert data["gmacs_per_s"] == pytest.approx(data["macs"] / data["seconds"] / 1e9)
    assert data["crosscheck"]["exact"] is True
    assert data["crosscheck"]["points"] == 9
    # the output alone is as large as the input here, so the peak beyond the input is at least that
    assert data["peak_bytes"] >= 2 * 256 * 6 * 6 * 8


def test_text_report_says_how_many_pixels_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--input", "5", "--repeats", "1"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # undo the report's line wrapping
    assert "Cross-checked 9 output pixels x 256 maps (2,304 values)" in text
    assert "every padding pattern" in text
    assert "all checks hold" in text


def test_a_failed_cross_check_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def one_mismatch(*args: Any, **kwargs: Any) -> CrossCheck:
        return CrossCheck(((0, 0),), 256, False, 1, 0.0, 1.0, 2.0**-12, "float32", 0.1)

    monkeypatch.setattr("verifier.commands.run.crosscheck_bottleneck", one_mismatch)
    status, data = _run_json(capsys, "--input", "4x4", "--repeats", "1")
    assert status == 1
    assert data["crosscheck"] == {"points": 1, "max_abs_error": 0.0, "exact": False}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--batch", "0"], "batch must be a positive int, got 0"),
        (["--input", "-3"], "--input must be HxW with positive integers (e.g. 224x224) or one size, got '-3'"),
        (["--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
        (["--batch", "many"], "argument --batch: invalid int value: 'many'"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        status = main(["run", *argv])
        raise SystemExit(status)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_batch_that_would_not_fit_is_refused_with_the_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--batch", "100000000"]) == 2
    err = capsys.readouterr().err
    assert "a bottleneck run on input (100000000, 256, 56, 56) needs about" in err
    assert "TiB" in err
    assert "nothing was allocated" in err


def test_the_function_returns_a_result_that_renders_the_same_data() -> None:
    result = run_bottleneck(batch=1, dtype="float32", input_size=4, repeats=1, crosscheck=False)
    assert result.crosscheck is None
    assert not result.ok  # nothing was cross-checked, so nothing is claimed
    report = run_report(result)
    assert report.data == result.as_dict()
    assert "No cross-check was run." in report.text()
    assert repr(result).startswith("RunResult((1, 256, 4, 4) float32:")


@pytest.mark.slow
@pytest.mark.parametrize(("batch", "dtype"), [(1, "float32"), (2, "float64")])
def test_full_size_run_holds(batch: int, dtype: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, data = _run_json(capsys, "--batch", str(batch), "--dtype", dtype, "--repeats", "3")
    assert status == 0
    assert data["input_shape"] == [batch, 256, 56, 56]
    assert data["macs"] == Bottleneck().macs((batch, 256, 56, 56))
    assert data["crosscheck"] == {"points": 9, "max_abs_error": data["crosscheck"]["max_abs_error"], "exact": True}
    assert data["peak_bytes"] <= 3 * batch * 256 * 56 * 56 * (4 if dtype == "float32" else 8)
