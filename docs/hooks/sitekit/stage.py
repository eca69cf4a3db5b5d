"""The size every page draws the thread's block at: its place in ResNet-50, read from :mod:`verifier.models`."""

from __future__ import annotations

import functools

from verifier.models import resnet


@functools.cache
def first_stage_size() -> int:
    """Height (= width) of the maps the first bottleneck of ResNet-50 works on, for a 224×224 image: 56."""
    rows = {row.name: row for row in resnet("resnet50").rows()}
    _, _, height, width = rows["layer1.0.conv1"].output_shape
    assert height == width, (height, width)
    return int(height)
