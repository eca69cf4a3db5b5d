"""``C_in,C_out,k[,groups]``: one parser for ``verifier prove --layer`` and ``pytest --verifier-layer``."""

from __future__ import annotations

import json

import pytest

from verifier import cli
from verifier._layer_option import parse_layer
from verifier.errors import VerifierError
from verifier.spec import Conv2d
from verifier.theorems import THEOREMS, check_all, check_at_layer, get_theorem


@pytest.mark.parametrize(
    ("value", "layer"),
    [
        ("512,128,1", Conv2d(512, 128, 1)),
        ("256,256,3,32", Conv2d(256, 256, 3, groups=32)),
        (" 64, 256, 1 ", Conv2d(64, 256, 1)),
        ("64,64,3,1", Conv2d(64, 64, 3)),
    ],
)
def test_the_value_names_torchs_first_conv_arguments(value: str, layer: Conv2d) -> None:
    assert parse_layer(value) == layer


@pytest.mark.parametrize(
    "value",
    [
        "512,128",
        "512,128,1,2,3",
        "",
        "512;128;1",
        "a,b,c",
        "512,128,0",
        "-512,128,1",
        "+512,128,1",
        "1.0,2,1",
        "1e3,2,1",
        "0x10,2,1",
        "1_000,2,1",
        "\uff15\uff11\uff12,128,1",
        "5 12,128,1",
        "9" * 40 + ",1,1",
    ],
)
def test_anything_but_three_or_four_positive_plain_integers_is_refused_naming_the_value(value: str) -> None:
    with pytest.raises(VerifierError, match=r"^--layer must be C_in,C_out,k or C_in,C_out,k,groups") as err:
        parse_layer(value)
    assert repr(value) in str(err.value)


def test_groups_that_do_not_divide_the_channels_are_refused_naming_the_value() -> None:
    with pytest.raises(VerifierError, match=r"--opt '256,256,3,7' is not a valid layer: groups must divide"):
        parse_layer("256,256,3,7", "--opt")


def test_a_theorem_not_about_one_layer_is_skipped_at_a_layer_and_checked_without() -> None:
    budget = get_theorem("bottleneck-budget")
    assert not budget.depends_on_layer
    assert check_at_layer(budget, Conv2d(512, 128, 1)).status == "skipped"
    assert check_at_layer(budget, None) is budget.check()


def test_the_library_cli_and_plugin_agree_on_which_theorems_a_layer_skips(capsys: pytest.CaptureFixture[str]) -> None:
    layer = Conv2d(512, 128, 1)
    library = {t.id: v.status for t, v in check_all(layer=layer)}
    status, out, _ = _prove(capsys, "--layer", "512,128,1", "--json")
    cli_statuses = {t["id"]: t["status"] for t in json.loads(out)["theorems"]}
    assert status == 0 and library == cli_statuses
    # every theorem whose statement is not about one layer (read off the theorem, not off its verdict) is skipped
    assert all(library[t.id] == "skipped" for t in THEOREMS if not t.depends_on_layer)
    assert any(not t.depends_on_layer for t in THEOREMS)


def _prove(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(["prove", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_prove_layer_reports_every_theorem_at_the_layer(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _prove(capsys, "--layer", "256,256,3,32", "--json")
    data = json.loads(out)
    assert data["layer"] == repr(Conv2d(256, 256, 3, groups=32))
    statuses = {t["id"]: t["status"] for t in data["theorems"]}
    assert list(statuses) == [t.id for t in THEOREMS]
    assert statuses["conv1x1-is-matmul"] == "skipped"  # a 3x3 conv is not a matrix product: not a failure
    assert statuses["bottleneck-budget"] == "skipped"
    assert set(statuses.values()) <= {"holds", "skipped"}
    assert status == 0 and data["all_hold"] is True, err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "512,128",
            "verifier prove: error: --layer must be C_in,C_out,k or C_in,C_out,k,groups (positive integers), "
            "got '512,128'",
        ),
        (
            "4096,4096,3",
            "verifier prove: error: layer Conv2d(4096, 4096, kernel_size=(3, 3), stride=(1, 1)) is too "
            f"large to check exactly: deriving its 4,096 maps at one pixel takes {4096 * 4096 * 3 * 3:,} products",
        ),
    ],
)
def test_prove_refuses_a_bad_or_too_large_layer_with_usage_status(
    capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    status, out, err = _prove(capsys, "--layer", value)
    assert (status, out) == (2, "")
    assert err.startswith(message), err
