"""Proofs about `verifier count`: its JSON contract, rows that add up exactly, and exit status 2 for bad usage."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from verifier.cli import main
from verifier.models import MODEL_NAMES, resnet


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    status, out, err = run([*argv, "--json"], capsys)
    assert status == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.mark.parametrize("variant", ["v1", "v1.5"])
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_json_layer_rows_add_up_to_the_totals_exactly(
    model: str, variant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(["count", model, "--variant", variant], capsys)
    assert {"model", "input_shape", "params", "macs", "layers"} <= set(data)
    assert data["model"] == model and data["input_shape"] == [1, 3, 224, 224]
    assert sum(row["params"] for row in data["layers"]) == data["params"] == resnet(model).param_count
    assert sum(row["macs"] for row in data["layers"]) == data["macs"] == resnet(model, variant).macs()
    assert data["flops"] == 2 * data["macs"]
    assert all({"name", "params", "macs"} <= set(row) for row in data["layers"])
    assert all(data["checks"].values())


@pytest.mark.parametrize("depth", ["1", "2", "3"])
def test_rows_at_every_depth_still_add_up(depth: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["count", "resnet101", "--depth", depth, "--batch", "3", "--input", "192x160"], capsys)
    net = resnet("resnet101")
    assert data["input_shape"] == [3, 3, 192, 160]
    assert sum(row["macs"] for row in data["layers"]) == data["macs"] == net.macs((3, 3, 192, 160))
    assert sum(row["params"] for row in data["layers"]) == data["params"] == net.param_count
    names = [row["name"] for row in data["layers"]]
    assert len(names) == len(set(names)) and all(name.count(".") < int(depth) for name in names)


def test_a_single_conv_counts_its_weights_and_products(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["count", "conv", "--in", "256", "--out", "64", "--kernel", "1", "--input", "56x56"], capsys)
    assert data["params"] == 256 * 64 and data["macs"] == 256 * 64 * 56 * 56
    assert data["layers"] == [
        {
            "name": "conv",
            "type": "Conv2d",
            "input_shape": [1, 256, 56, 56],
            "output_shape": [1, 64, 56, 56],
            "params": 256 * 64,
            "macs": 256 * 64 * 56 * 56,
            "share_of_macs": 1.0,
        }
    ]
    grouped = run_json(
        ["count", "conv", "--in", "64", "--out", "64", "--kernel", "3", "--padding", "1", "--groups", "32",
         "--stride", "2", "--bias"],
        capsys,
    )  # fmt: skip
    assert grouped["params"] == 3 * 3 * 2 * 64 + 64
    assert grouped["macs"] == 28 * 28 * 64 * 3 * 3 * 2
    assert grouped["beyond_macs"]["bias"] == 64 * 28 * 28


def test_blocks_take_their_width_stride_and_variant(capsys: pytest.CaptureFixture[str]) -> None:
    thread = run_json(["count", "bottleneck"], capsys)
    assert thread["input_shape"] == [1, 256, 56, 56] and thread["output_shape"] == [1, 256, 56, 56]
    assert thread["macs"] == (256 * 64 + 9 * 64 * 64 + 64 * 256) * 56 * 56
    v1 = run_json(["count", "bottleneck", "--stride", "2", "--in", "256", "--planes", "128", "--variant", "v1"], capsys)
    v15 = run_json(["count", "bottleneck", "--stride", "2", "--in", "256", "--planes", "128"], capsys)
    assert v15["macs"] - v1["macs"] == 3 * 256 * 128 * 28 * 28  # v1.5's first 1x1 runs on 4x the pixels
    basic = run_json(["count", "basic"], capsys)
    assert basic["macs"] == 2 * 9 * 64 * 64 * 56 * 56


def test_network_json_explains_keras_the_variant_gap_and_the_counters(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["count", "resnet50", "--variant", "v1"], capsys)
    keras = data["keras"]
    assert keras["total"] == keras["published"] == data["params"] + keras["conv_biases"] + keras["moving_statistics"]
    gap = data["variant_gap"]
    assert gap["v1"] == data["macs"] and gap["gap"] == sum(b["macs"] for b in gap["blocks"])
    figures = {row["convention"]: row for row in data["conventions"]}
    assert figures["multiply-adds"]["total"] == data["macs"]
    assert figures["FLOPs (2 x MACs)"]["total"] == data["flops"]
    assert data["beyond_macs"]["residual_add"] == data["side_counts"]["residual_adds"] > 0


def test_text_report_shows_a_layer_table_and_the_totals(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["count", "resnet18"], capsys)
    assert status == 0
    assert "layer1.0.conv1" in out and "FLOPs = 2 x MACs" in out and "all checks hold" in out
    assert f"{resnet('resnet18').param_count:,}" in out


def test_execute_counts_the_engine_and_matches(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["count", "resnet34", "--input", "40x48", "--execute"], capsys)
    execute = data["execute"]
    assert execute["macs_performed"] == execute["macs_closed_form"] == data["macs"]
    assert execute["matches"] and data["checks"]["engine performed exactly the closed-form MACs"]
    assert execute["output_shape"] == [1, 1000]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["count"], r"MODEL is required: one of resnet18, .*, conv$"),
        (["count", "resnet51"], r"MODEL must be one of resnet18, resnet34, .*bottleneck, basic, conv, got 'resnet51'"),
        (["count", "resnet50", "--input", "22ax3"], r"--input must be HxW .* got '22ax3'"),
        (["count", "resnet50", "--input", "0x5"], r"--input must be HxW .* got '0x5'"),
        (["count", "resnet50", "--variant", "v2"], r"--variant must be v1 or v1.5, got 'v2'"),
        (["count", "resnet50", "--batch", "0"], r"--batch must be a positive int, got 0"),
        (["count", "resnet50", "--depth", "0"], r"--depth must be a positive int, got 0"),
        (["count", "resnet50", "--kernel", "3"], r"--kernel does not apply to resnet50"),
        (["count", "resnet50", "--in", "3"], r"--in does not apply to resnet50"),
        (["count", "bottleneck", "--groups", "2"], r"--groups applies only to MODEL=conv, not bottleneck"),
        (["count", "conv", "--in", "3"], r"MODEL=conv needs --in and --out"),
        (["count", "conv", "--in", "6", "--out", "4", "--groups", "4"], r"groups must divide in_channels"),
        (["count", "conv", "--in", "3", "--out", "4", "--kernel", "9", "--input", "4x4"], r"smaller than the"),
        (["count", "conv", "--in", "3", "--out", "4", "--planes", "2"], r"--planes applies only to the blocks"),
    ],
)
def test_bad_usage_exits_2_with_a_message_naming_the_argument(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    assert err.startswith("verifier count: error: ")
    assert "Traceback" not in err
    assert re.search(message, err.strip()), err


def test_a_non_integer_option_is_refused_by_the_parser_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["count", "conv", "--in", "three", "--out", "4"])
    assert exc.value.code == 2
    assert "--in: invalid int value: 'three'" in capsys.readouterr().err


def test_an_engine_doing_other_work_than_the_closed_form_fails_the_report_with_status_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import verifier.execute as execute
    from verifier.numeric import conv2d

    def strideless(x: Any, w: Any, b: Any = None, stride: Any = 1, **kw: Any) -> Any:
        return conv2d(x, w, b, 1, **kw)

    monkeypatch.setattr(execute.numeric, "conv2d", strideless)
    status, out, _ = run(["count", "resnet18", "--input", "32x32", "--execute", "--json"], capsys)
    data = json.loads(out)
    assert status == 1
    assert data["checks"]["engine performed exactly the closed-form MACs"] is False
    assert data["execute"]["macs_performed"] > data["execute"]["macs_closed_form"] == data["macs"]
