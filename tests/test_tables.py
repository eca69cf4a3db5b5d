"""Proofs about the count tables: grouping by name keeps every row's figures and names each group's type."""

from __future__ import annotations

from typing import Any

import pytest

from verifier import VerifierError, VerifierTypeError
from verifier.models import (
    resnet,
)
from verifier.tables import group_rows


def _groups(rows: Any, depth: int, kinds: Any = None) -> list[tuple[str, str]]:
    return [(g["name"], g["type"]) for g in group_rows(rows, depth, kinds)]


def test_groups_are_typed_as_their_leaf_the_given_kind_or_sequential() -> None:
    net = resnet("resnet18")
    rows = net.rows((1, 3, 32, 32))
    stem = [("conv1", "Conv2d"), ("bn1", "BatchNorm2d"), ("relu", "ReLU"), ("maxpool", "MaxPool2d")]
    head = [("avgpool", "AdaptiveAvgPool2d"), ("flatten", "Flatten"), ("fc", "Linear")]
    stages = [(f"layer{s}", "Sequential") for s in (1, 2, 3, 4)]
    assert _groups(rows, 1) == _groups(rows, 1, net.module_kinds()) == stem + stages + head
    blocks = [(f"layer{s}.{i}", "BasicBlock") for s in (1, 2, 3, 4) for i in (0, 1)]
    assert _groups(rows, 2, net.module_kinds()) == stem + blocks + head
    # without kinds, a block is just a sequence of layers
    assert _groups(rows, 2) == stem + [(name, "Sequential") for name, _ in blocks] + head
    assert _groups(rows, 2, {"layer1.0": "Custom"})[4:6] == [("layer1.0", "Custom"), ("layer1.1", "Sequential")]


def test_a_group_spans_from_its_first_rows_input_to_its_last_rows_output() -> None:
    groups = {g["name"]: g for g in group_rows(resnet("resnet18").rows((2, 3, 64, 64)), 1)}
    assert groups["layer2"]["input_shape"] == [2, 64, 16, 16]
    assert groups["layer2"]["output_shape"] == [2, 128, 8, 8]
    # layer1: two blocks of two 3x3 64 -> 64 convs and two BatchNorms of 64 maps
    assert groups["layer1"]["params"] == 2 * (2 * 9 * 64 * 64 + 2 * 2 * 64)
    assert groups["layer1"]["macs"] == 2 * 16 * 16 * 4 * 9 * 64 * 64


@pytest.mark.parametrize(("depth", "error"), [(0, VerifierError), (1.5, VerifierTypeError), (True, VerifierTypeError)])
def test_a_bad_depth_is_refused_by_name(depth: Any, error: type) -> None:
    with pytest.raises(error, match=r"^depth must be a positive int, got "):
        group_rows(resnet("resnet18").rows(), depth)
