"""verifier prove: the theorems on the command line, their JSON contract and exit statuses."""

from __future__ import annotations

import json

from verifier import theorems
from verifier.cli import main
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
