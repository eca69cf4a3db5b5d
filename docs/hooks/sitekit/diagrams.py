"""Drawings of blocks, made from their specs: every width and label comes from :mod:`verifier.spec`."""

from __future__ import annotations

import itertools
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from verifier.spec import Bottleneck, Conv2d

from .figures import PALETTE


def _conv_label(conv: Conv2d) -> str:
    kh, kw = conv.kernel_pair
    return f"{kh}×{kw} conv, {conv.in_channels} → {conv.out_channels}"


_SHORT = {"BatchNorm2d": "BN", "ReLU": "ReLU"}


def conv_labels(block: Bottleneck, height: int, width: int) -> dict[str, str]:
    """Each conv's label in the drawing: its kernel and widths, then the layers that follow it on the main path
    (read from ``block.rows``) up to the next conv or the shortcut's addition."""
    rows = block.rows((1, block.in_channels, height, width))
    labels: dict[str, str] = {}
    current = None
    for row in rows:
        if isinstance(row.layer, Conv2d):
            current = row.name
            labels[current] = _conv_label(row.layer)
        elif current is not None and type(row.layer).__name__ in _SHORT:
            labels[current] += ", " + _SHORT[type(row.layer).__name__]
        else:
            current = None  # the addition: what follows it is drawn below the main path
    return labels


def bottleneck(block: Bottleneck, height: int, width: int) -> Any:
    """The bottleneck as four activation tensors whose drawn widths are proportional to their map counts."""
    rows = block.rows((1, block.in_channels, height, width))
    convs = {row.name: row for row in rows if isinstance(row.layer, Conv2d)}
    tensors = [rows[0].input_shape] + [convs[name].output_shape for name in ("conv1", "conv2", "conv3")]
    widest = max(shape[1] for shape in tensors)
    labels = conv_labels(block, height, width)

    fig, ax = plt.subplots(figsize=(8.6, 6.0))
    ax.set_xlim(-5.2, 6.4)
    ax.set_ylim(0.3, 9.5)
    ax.axis("off")
    ys = [9.0, 6.6, 4.2, 1.8]
    half = 3.2
    for y, shape in zip(ys, tensors, strict=True):
        maps = shape[1]
        w = 2 * half * maps / widest
        color = PALETTE["wide"] if maps == widest else PALETTE["narrow"]
        ax.add_patch(
            FancyBboxPatch(
                (-w / 2, y - 0.32),
                w,
                0.64,
                boxstyle="round,pad=0.02,rounding_size=0.12",
                fc=color,
                ec="none",
                alpha=0.92,
            )
        )
        ax.text(0, y, f"{maps} maps", ha="center", va="center", color="white", fontsize=13, fontweight="bold")
        ax.text(-half - 0.35, y, f"{shape[2]}×{shape[3]}", ha="right", va="center", color=PALETTE["muted"], fontsize=10)
    for (y0, y1), name in zip(itertools.pairwise(ys), ("conv1", "conv2", "conv3"), strict=True):
        row = convs[name]
        conv = row.layer
        assert isinstance(conv, Conv2d)
        ax.add_patch(
            FancyArrowPatch(
                (0, y0 - 0.38), (0, y1 + 0.38), arrowstyle="-|>", mutation_scale=16, color=PALETTE["ink"], lw=1.4
            )
        )
        ax.text(0.25, (y0 + y1) / 2 + 0.22, labels[name], ha="left", va="center", fontsize=11.5)
        ax.text(
            0.25,
            (y0 + y1) / 2 - 0.32,
            f"{conv.weight_count:,} weights · {row.macs:,} MACs",
            ha="left",
            va="center",
            fontsize=9.5,
            color=PALETTE["muted"],
        )
    # the identity shortcut joins the main path at the addition below the last tensor; ReLU follows
    x_sc = half + 1.6
    y_add = ys[-1] - 1.05
    ax.plot([half + 0.1, x_sc, x_sc, 0.3], [ys[0], ys[0], y_add, y_add], color=PALETTE["accent"], lw=1.6)
    ax.text(x_sc + 0.15, (ys[0] + ys[-1]) / 2, "identity\nshortcut", color=PALETTE["accent"], fontsize=10, va="center")
    ax.add_patch(
        FancyArrowPatch(
            (0, ys[-1] - 0.36), (0, y_add + 0.3), arrowstyle="-|>", mutation_scale=12, color=PALETTE["ink"], lw=1.2
        )
    )
    ax.add_patch(Circle((0, y_add), 0.28, fc="white", ec=PALETTE["accent"], lw=1.6, zorder=3))
    ax.text(0, y_add - 0.02, "+", ha="center", va="center", fontsize=15, color=PALETTE["accent"], zorder=4)
    ax.text(-0.45, y_add, "add, then ReLU", ha="right", va="center", fontsize=10)
    return fig
