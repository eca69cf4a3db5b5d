"""Figures of weight matrices: how one row of a 1×1 convolution's weights makes one output map."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from verifier.spec import Conv2d

from .figures import PALETTE


def one_row_one_map(conv: Conv2d, row: int, size: int = 56, seed: int = 7) -> tuple[Any, dict[str, Any]]:
    """Seeded weights of ``conv`` (a 1×1 conv) as a C_out × C_in image, row ``row`` outlined, that row's
    weights, and the output map: every map at once as the matrix product W · X (pixels as columns), checked
    against map ``row`` summed input map by input map.

    Returns the figure and the figures it shows (the largest difference between the two output maps).
    """
    if conv.kernel_pair != (1, 1) or conv.groups != 1:
        raise ValueError(f"a 1×1 conv without groups is drawn here, got {conv!r}")
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 1.0 / np.sqrt(conv.in_channels), conv.weight_shape)
    x = rng.normal(size=(1, conv.in_channels, size, size))
    matrix = weights[:, :, 0, 0]
    y = (matrix @ x[0].reshape(conv.in_channels, -1)).reshape(1, conv.out_channels, size, size)
    by_hand = sum(matrix[row, i] * x[0, i] for i in range(conv.in_channels))
    gap = float(np.max(np.abs(y[0, row] - by_hand)))

    fig = plt.figure(figsize=(10.4, 4.6))
    grid = fig.add_gridspec(2, 2, width_ratios=(2.6, 1.0), height_ratios=(2.2, 1.0), wspace=0.18, hspace=0.55)
    ax_w = fig.add_subplot(grid[0, 0])
    limit = float(np.max(np.abs(matrix)))
    ax_w.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    ax_w.add_patch(
        Rectangle((-0.5, row - 0.5), conv.in_channels, 1, fill=False, ec=PALETTE["narrow"], lw=2.2, clip_on=False)
    )
    ax_w.set_title(f"W: {conv.out_channels} × {conv.in_channels} weights (one row per output map)", loc="left")
    ax_w.set_xlabel(f"input map i (0 … {conv.in_channels - 1})")
    ax_w.set_ylabel(f"output map o (0 … {conv.out_channels - 1})")

    ax_r = fig.add_subplot(grid[1, 0])
    ax_r.bar(np.arange(conv.in_channels), matrix[row], width=1.0, color=PALETTE["narrow"])
    ax_r.axhline(0, color=PALETTE["muted"], lw=0.8)
    ax_r.set_xlim(-0.5, conv.in_channels - 0.5)
    ax_r.set_title(f"row o = {row}: the {conv.in_channels} weights of output map {row}", loc="left")
    ax_r.set_xlabel("input map i")

    ax_y = fig.add_subplot(grid[:, 1])
    ax_y.imshow(y[0, row], cmap="viridis", interpolation="nearest")
    ax_y.set_title(f"output map {row} ({size}×{size})", loc="left")
    ax_y.set_xticks([])
    ax_y.set_yticks([])
    ax_y.set_xlabel(
        f"row {row} of W · X = Σ_i W[{row}, i] · input map i\n(largest gap between the two: {gap:.1e})", fontsize=10
    )
    return fig, {"gap": gap, "pixels": size * size}
