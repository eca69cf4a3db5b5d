"""`verifier prove` and `verifier derive` keep their JSON contracts, exit statuses and error messages."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from verifier import theorems
from verifier.cli import main
from verifier.spec import Conv2d
from verifier.symbolic import output_map
from verifier.theorems import Verdict


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_prove_json_has_the_contract_keys_for_every_theorem(capsys):
    code, out, _ = run(capsys, "prove", "--json")
    data = json.loads(out)
    assert code == 0 and data["all_hold"] is True
    assert [t["id"] for t in data["theorems"]] == [t.id for t in theorems.THEOREMS]
    for entry in data["theorems"]:
        assert {"id", "statement", "holds", "evidence"} <= set(entry)
        assert entry["holds"] is True and entry["evidence"]


def test_prove_text_lists_each_theorem_with_its_evidence(capsys):
    code, out, _ = run(capsys, "prove", "--theorem", "parameter-count", "--proofs")
    assert code == 0
    assert "parameter-count" in out and "Evidence" in out and "all checks hold" in out
    assert r"\sum" in out  # the proof's LaTeX steps


def test_prove_exits_1_when_a_theorem_fails(capsys, monkeypatch):
    real = theorems.check_all()
    failing = [(t, Verdict(False, "forced failure", {}, (), 0.0)) if t.number == 6 else (t, v) for t, v in real]
    monkeypatch.setattr("verifier.commands.prove.check_all", lambda progress=None: failing)
    code, out, _ = run(capsys, "prove", "--json")
    data = json.loads(out)
    assert code == 1 and data["all_hold"] is False
    assert [t["holds"] for t in data["theorems"]].count(False) == 1


def test_prove_with_an_unknown_theorem_exits_2_naming_the_valid_ids(capsys):
    code, _, err = run(capsys, "prove", "--theorem", "nope")
    assert code == 2
    assert "unknown theorem id 'nope'" in err and "all-inputs" in err


def test_derive_prints_map_0_of_the_thread_conv_abbreviated(capsys):
    code, out, _ = run(capsys, "derive", "--in", "256", "--out", "64", "--map", "0")
    assert code == 0
    assert "y_{0}(0,0) = w_{0,0,0,0}*x_{0,0,0} + " in out
    assert "w_{0,255,0,0}*x_{255,0,0}" in out and "..." in out
    assert "256 products" in out


def test_derive_json_expression_is_the_derived_map(capsys):
    args = ["derive", "--in", "4", "--out", "3", "--kernel", "3", "--padding", "1", "--bias", "--input", "3x3"]
    code, out, _ = run(capsys, *args, "--map", "2", "--position", "0,0", "--json")
    data = json.loads(out)
    assert code == 0
    expected = output_map(Conv2d(4, 3, 3, padding=1), 2, (0, 0), (3, 3))
    # The plain-text expression, read back with every name as a symbol, is the derived SymPy map.
    names = {str(s): s for s in expected.free_symbols}
    terms = [t.split("*") for t in data["expression"].split(" + ")]
    rebuilt = sp.Add(*[sp.Mul(*[names[f] for f in factors]) for factors in terms])
    assert rebuilt == expected
    assert data["products"] == data["multiplications"] == 4 * 4  # 4 taps of 9 in the corner, 4 input maps
    assert data["bias"] == "b_{2}" and data["position"] == [0, 0] and data["input_size"] == [3, 3]


def test_derive_full_and_latex_print_every_product(capsys):
    code, out, _ = run(capsys, "derive", "--in", "8", "--out", "2", "--full", "--latex", "--map", "1")
    assert code == 0
    assert "..." not in out and r"\dots" not in out
    assert "w_{1,7,0,0} x_{7,0,0}" in out.replace("\n", " ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--in", "0"], "--in must be a positive int, got 0"),
        (["--out", "-3"], "--out must be a positive int, got -3"),
        (["--groups", "3"], "--groups must divide --in"),
        (["--map", "64"], "--map must be an output map index 0..63 of Conv2d(256, 64, kernel_size=(1, 1), stride"),
        (["--position", "1,1"], "--position (1, 1) is outside the 1x1 output"),
        (["--position", "a"], "--position must be row,col"),
        (["--input", "5x"], "--input must be HxW"),
        (["--kernel", "3", "--input", "2x2"], "--input height 2"),
        (["--kernel", "x"], "--kernel must be an int or a pair a,b, got 'x'"),
        (["--padding", "full"], "--padding must be an int or a pair a,b or 'same' or 'valid', got 'full'"),
        (["--stride", "0"], "--stride must be a positive int or a pair of them, got 0"),
    ],
)
def test_derive_bad_options_exit_2_naming_the_option(capsys, args, message):
    code, out, err = run(capsys, "derive", *args)
    assert code == 2 and out == ""
    assert message in err
