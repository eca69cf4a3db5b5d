"""Networks refuse bad names and arguments by name, and their totals are the sums of independent parts."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import BasicBlock, Bottleneck, VerifierError, VerifierTypeError
from verifier.models import MODEL_NAMES, ResNet, resnet, variant_gap

FAST = settings(max_examples=25, deadline=None)
NAMES = ", ".join(MODEL_NAMES)


@FAST
@given(name=st.one_of(st.text(max_size=12), st.integers(), st.none()).filter(lambda n: n not in MODEL_NAMES))
def test_unknown_model_names_are_refused_listing_the_family(name: Any) -> None:
    message = f"model must be one of {NAMES}, got {name!r}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        resnet(name)
    with pytest.raises(VerifierError, match=re.escape(message)):
        variant_gap(name)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": 5}, VerifierTypeError, "name must be a str, got 5"),
        ({"block": "dense"}, VerifierError, "block must be 'basic' or 'bottleneck', got 'dense'"),
        ({"layers": (3, 4, 6)}, VerifierError, "layers must be 4 positive ints (blocks per stage), got (3, 4, 6)"),
        ({"layers": "3463"}, VerifierError, "layers must be 4 positive ints (blocks per stage), got '3463'"),
        ({"layers": (3, 4, 0, 3)}, VerifierError, "layers[2] must be a positive int, got 0"),
        ({"layers": (3, 4.0, 6, 3)}, VerifierTypeError, "layers[1] must be a positive int, got 4.0 (float)"),
        ({"groups": 0}, VerifierError, "groups must be a positive int, got 0"),
        ({"width_per_group": -1}, VerifierError, "width_per_group must be a positive int, got -1"),
        ({"num_classes": True}, VerifierTypeError, "num_classes must be a positive int, got True (bool)"),
        ({"variant": "v2"}, VerifierError, "variant must be 'v1' or 'v1.5', got 'v2'"),
        ({"shortcut": "A"}, VerifierError, "shortcut must be 'B' or 'C', got 'A'"),
        (
            {"block": "basic", "groups": 2},
            VerifierError,
            "basic blocks take groups=1 and width_per_group=64, got groups=2, width_per_group=64",
        ),
    ],
)
def test_bad_network_arguments_are_named(kwargs: dict[str, Any], error: type, message: str) -> None:
    args: dict[str, Any] = {"name": "x", "block": "bottleneck", "layers": (3, 4, 6, 3)} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        ResNet(**args)


@pytest.mark.parametrize("shape", [(224, 224), (1, 3, 224), (1, 3, 0, 224), "224x224"])
def test_bad_input_shapes_are_refused(shape: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("input_shape")):
        resnet("resnet18").macs(shape)


def test_a_wrong_channel_count_names_the_stem() -> None:
    message = "input has 4 channels but the conv expects 3 (input_shape=(1, 4, 224, 224))"
    with pytest.raises(VerifierError, match=re.escape(message)):
        resnet("resnet50").rows((1, 4, 224, 224))


def _blocks_by_hand(kind: str, layers: tuple[int, ...], groups: int, width: int, variant: str) -> list[Any]:
    """The residual blocks of a ResNet written out from the paper's table: stage widths 64..512, stride 2 after 1."""
    out: list[Any] = []
    channels = 64
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
        for i in range(count):
            stride = 2 if stage and not i else 1
            if kind == "bottleneck":
                out.append(Bottleneck(channels, planes, stride, groups, width, variant))  # type: ignore[arg-type]
                channels = planes * 4
            else:
                out.append(BasicBlock(channels, planes, stride))
                channels = planes
    return out


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("variant", ["v1", "v1.5"])
def test_network_totals_are_stem_plus_blocks_plus_head(name: str, variant: str) -> None:
    net = resnet(name, variant)  # type: ignore[arg-type]
    blocks = _blocks_by_hand(net.block, net.layers, net.groups, net.width_per_group, variant)
    assert [b for _, b in net.blocks()] == blocks
    features = 2048 if net.block == "bottleneck" else 512
    stem = 7 * 7 * 3 * 64 + 2 * 64
    head = features * 1000 + 1000
    assert net.param_count == stem + sum(b.param_count for b in blocks) + head
    shape = (2, 3, 160, 192)
    assert net.output_shape(shape) == (2, 1000)
    stem_macs = 2 * 80 * 96 * 7 * 7 * 3 * 64  # the 7x7/2 conv; the max-pool halves again to 40 x 48
    size = (40, 48)
    block_macs = 0
    for block in blocks:
        block_macs += block.macs((2, block.in_channels, *size))
        size = block.output_shape((block.in_channels, *size))[1:]
    assert net.macs(shape) == stem_macs + block_macs + 2 * features * 1000
    stages = net.stage_macs(shape)
    assert list(stages) == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert sum(stages.values()) == net.macs(shape) and stages["stem"] == stem_macs
    assert sum(row.params for row in net.rows(shape)) == net.param_count


def test_v1_and_v1_5_differ_only_where_a_stride_moves() -> None:
    for name in MODEL_NAMES:
        gap = variant_gap(name)
        v1, v15 = resnet(name, "v1"), resnet(name, "v1.5")
        assert (gap.v1, gap.v1_5) == (v1.macs(), v15.macs())
        assert v1.param_count == v15.param_count
        if v1.block == "basic":
            assert gap.v1 == gap.v1_5
        else:
            assert gap.v1 < gap.v1_5


def test_shortcut_c_projects_in_every_block() -> None:
    b, c = resnet("resnet50"), resnet("resnet50", shortcut="C")
    assert all(block.has_projection for _, block in c.blocks())
    extra = sum(
        cb.in_channels * cb.out_channels + 2 * cb.out_channels
        for (_, bb), (_, cb) in zip(b.blocks(), c.blocks(), strict=True)
        if not bb.has_projection
    )
    assert c.param_count - b.param_count == extra
    assert repr(c).endswith("shortcut='C')")


def test_a_counted_run_too_large_for_memory_is_refused_with_the_estimate() -> None:
    from verifier.execute import run_counted

    shape = (100_000, 3, 224, 224)  # the input alone is 60 GB of float32
    with pytest.raises(VerifierError, match=r"on input \(100000, 3, 224, 224\) needs about .* nothing was allocated"):
        run_counted(resnet("resnet50"), shape)


@pytest.mark.parametrize("name", [["resnet50"], ("resnet50",), {"resnet50"}, None, 50, b"resnet50"])
def test_a_model_name_that_is_no_string_is_refused_by_name(name: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"model must be one of {', '.join(MODEL_NAMES)}, got {name!r}")):
        resnet(name)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("variant", np.array(["v1", "v1.5"]), "variant must be 'v1' or 'v1.5'"),
        ("shortcut", np.array(["B", "C"]), "shortcut must be 'B' or 'C'"),
        ("block", np.array(["basic", "bottleneck"]), "block must be 'basic' or 'bottleneck'"),
        ("variant", ["v1"], "variant must be 'v1' or 'v1.5'"),
    ],
)
def test_resnet_fields_that_are_no_strings_are_refused_by_name(field: str, value: Any, message: str) -> None:
    arguments: dict[str, Any] = {"name": "x", "block": "bottleneck", "layers": (1, 1, 1, 1), field: value}
    with pytest.raises(VerifierError, match=re.escape(message)):
        ResNet(**arguments)
