"""Proofs about `verifier count`: its JSON contract, rows that add up exactly, and exit status 2 for bad usage."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
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
        (
            ["count", "conv", "--in", "6", "--out", "4", "--groups", "4"],
            r"--groups must divide --in: --in 6 is not",
        ),
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
    assert "--in/--in-channels: invalid int value: 'three'" in capsys.readouterr().err


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


# -- the count checks itself ------------------------------------------------------------------------


@pytest.fixture
def fresh_rows() -> Any:
    """Networks cache their rows: recompute them under a sabotage, and forget the sabotaged ones after."""
    from verifier.models import _network_rows

    _network_rows.cache_clear()
    yield
    _network_rows.cache_clear()


def _off_by_one(monkeypatch: pytest.MonkeyPatch, attribute: str) -> None:
    """Make the closed form ``Conv2d.<attribute>`` report one more than it should."""
    from verifier.spec import Conv2d

    real = getattr(Conv2d, attribute)
    if isinstance(real, property):
        monkeypatch.setattr(Conv2d, attribute, property(lambda self: real.fget(self) + 1))
    else:
        monkeypatch.setattr(Conv2d, attribute, lambda self, *a: real(self, *a) + 1)


def test_a_conv_whose_closed_form_parameter_count_is_off_by_one_fails_naming_both_figures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = len(np.zeros((64, 256, 1, 1)).ravel())  # the OIHW tensor's entries, counted by NumPy
    _off_by_one(monkeypatch, "param_count")
    status, out, _ = run(["count", "conv", "--in", "256", "--out", "64"], capsys)
    assert status == 1
    assert f"{weights + 1:,}" in out and f"{weights:,}" in out and "DIFFERENT" in out
    assert out.rstrip().endswith("SOME CHECKS FAIL")
    status, out, _ = run(["count", "conv", "--in", "256", "--out", "64", "--json"], capsys)
    data = json.loads(out)
    assert status == 1
    assert data["recount"]["params"] == {"closed_form": weights + 1, "recounted": weights}
    assert data["checks"]["parameters recounted from each layer's definition"] is False


@pytest.mark.parametrize("model", ["bottleneck", "basic", "resnet18"])
def test_closed_form_macs_off_by_one_fail_blocks_and_networks(
    model: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fresh_rows: None
) -> None:
    _off_by_one(monkeypatch, "macs")
    status, out, _ = run(["count", model, "--json"], capsys)
    data = json.loads(out)
    assert status == 1
    differing = data["recount"]["differing_layers"]
    assert differing and all(d["quantity"] == "macs" and d["closed_form"] == d["recounted"] + 1 for d in differing)
    convs = [r for r in data["layers"] if r["type"] == "Conv2d"] if model != "resnet18" else differing
    assert len(differing) == len(convs)


def test_a_spec_that_ignores_groups_is_caught_by_the_recount(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from verifier.spec import Conv2d

    monkeypatch.setattr(Conv2d, "in_per_group", property(lambda self: self.in_channels))
    status, out, _ = run(
        ["count", "conv", "--in", "64", "--out", "64", "--kernel", "3", "--groups", "8", "--json"], capsys
    )
    data = json.loads(out)
    assert status == 1
    # the definition sums each output map over the 8 input maps of its group, 3x3 taps each
    per_output = sum(1 for i in range(64) if i // 8 == 0) * 3 * 3
    assert data["recount"]["params"]["recounted"] == 64 * per_output
    assert data["recount"]["params"]["closed_form"] == 64 * 64 * 3 * 3


def test_a_wrong_output_size_rule_is_caught_naming_both_sizes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from verifier.spec import Conv2d

    real = Conv2d.output_size
    monkeypatch.setattr(Conv2d, "output_size", lambda self, h, w: tuple(n + 1 for n in real(self, h, w)))
    argv = ["count", "conv", "--in", "8", "--out", "8", "--kernel", "3", "--stride", "2", "--padding", "1"]
    status, out, _ = run([*argv, "--input", "9x9", "--json"], capsys)
    assert status == 1
    # window starts 0, 2, ..., 8 of the 11 padded rows: the last tap of each (start + 2) stays inside
    fits = len([start for start in range(0, 9 + 2, 2) if start + 2 < 9 + 2])
    sizes = [d for d in json.loads(out)["recount"]["differing_layers"] if d["quantity"] == "output size"]
    assert sizes == [
        {"name": "conv", "quantity": "output size", "closed_form": [fits + 1] * 2, "recounted": [fits] * 2}
    ]


@pytest.mark.parametrize(
    ("conv_args", "input_hw"),
    [
        ({"in_channels": 6, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 2}, (9, 7)),
        ({"in_channels": 4, "out_channels": 8, "kernel_size": (2, 3), "dilation": 2, "padding": "same"}, (5, 6)),
        ({"in_channels": 3, "out_channels": 5, "kernel_size": 4, "stride": (3, 1), "bias": True}, (11, 4)),
    ],
)
def test_the_recount_equals_a_plain_loop_over_every_product_of_the_definition(
    conv_args: dict[str, Any], input_hw: tuple[int, int]
) -> None:
    """Oracle: a convolution run as loops over the padded input, counting each product it forms."""
    from verifier._count_check import conv_macs, conv_params
    from verifier.numeric import conv2d
    from verifier.spec import Conv2d

    conv = Conv2d(**conv_args)
    x = np.ones((1, conv.in_channels, *input_hw))
    weight = np.ones(conv.weight_shape)
    bias = np.zeros(conv.out_channels) if conv.bias else None
    out = conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
    products = int(out.sum())  # all-ones input and weights: each output value counts its products (padding included)
    kh, kw = conv.kernel_pair
    padded_taps = out.size * (conv.in_channels // conv.groups) * kh * kw
    assert conv_macs(conv, x.shape) == padded_taps >= products
    assert conv_params(conv) == weight.size + (conv.out_channels if conv.bias else 0)


def test_ptflops_rows_stay_per_image_at_batch_2_while_the_macs_double(capsys: pytest.CaptureFixture[str]) -> None:
    one = {r["convention"]: r["total"] for r in run_json(["count", "resnet18"], capsys)["conventions"]}
    two = {r["convention"]: r["total"] for r in run_json(["count", "resnet18", "--batch", "2"], capsys)["conventions"]}
    assert two["multiply-adds"] == 2 * one["multiply-adds"]
    assert two["ptflops"] == one["ptflops"] and two["ptflops default"] == one["ptflops default"]
    status, out, _ = run(["count", "resnet18", "--batch", "2"], capsys)
    assert status == 0 and "count_functional=False" in out and "per image" in out


def test_count_conv_takes_the_same_conv_options_as_derive(capsys: pytest.CaptureFixture[str]) -> None:
    """Pairs, "same" and --dilation, parsed by the one conv-option parser, against Conv2d built by hand."""
    from verifier.spec import Conv2d

    argv = ["--in-channels", "4", "--out-channels", "6", "--kernel", "3,1", "--padding", "same", "--dilation", "2"]
    data = run_json(["count", "conv", *argv, "--groups", "2", "--input", "9x7"], capsys)
    conv = Conv2d(4, 6, (3, 1), padding="same", dilation=2, groups=2, bias=False)
    # by hand: 'same' keeps 9x7; each output reads (4/2) maps x 3x1 taps; 6 maps
    assert data["output_shape"] == [1, 6, 9, 7] and data["params"] == 6 * 2 * 3 * 1
    assert data["macs"] == 9 * 7 * 6 * (2 * 3 * 1) == conv.macs((1, 4, 9, 7))
    derived = run_json(["derive", *argv, "--groups", "2", "--input", "9x7", "--map", "5"], capsys)
    assert derived["conv"] == repr(conv)


def test_derive_and_count_read_input_sizes_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    one_int = run_json(["derive", "--kernel", "3", "--input", "5"], capsys)
    pair = run_json(["derive", "--kernel", "3", "--input", "5x5"], capsys)
    assert one_int["input_size"] == pair["input_size"] == [5, 5]
    counted = run_json(["count", "conv", "--in", "256", "--out", "64", "--kernel", "3", "--input", "5"], capsys)
    assert counted["input_shape"] == [1, 256, 5, 5]
