"""The singular values of the bottleneck's 64 -> 256 expansion, before and after the nonlinearity."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from verifier.numeric import bottleneck_input, bottleneck_params, conv2d, relu
from verifier.spec import Bottleneck

from .figures import PALETTE


def expansion_spectra(seed: int = 0, size: int = 56) -> dict[str, Any]:
    """Run the block's first two layers on a seeded float64 input, expand with conv3, and return the
    singular values of the 256 × (H·W) matrix of expanded maps before and after a ReLU, with numeric ranks."""
    block = Bottleneck()
    params = bottleneck_params(block, seed=seed, dtype="float64")
    x = bottleneck_input(block, input_size=size, seed=seed + 1, dtype="float64")
    h = relu(params.bn1.apply(conv2d(x, params.conv1)))
    h = relu(params.bn2.apply(conv2d(h, params.conv2, padding=1)))
    z = conv2d(h, params.conv3)  # the 1x1 expansion, nothing after it yet
    maps = z.shape[1]
    linear = z[0].reshape(maps, -1)
    after = relu(z)[0].reshape(maps, -1)
    out = {"maps": maps, "middle": h.shape[1], "pixels": linear.shape[1]}
    for name, m in (("linear", linear), ("relu", after)):
        s = np.linalg.svd(m.T, compute_uv=False)  # same values; the tall orientation is the faster one
        out[name] = s
        tol = s[0] * max(m.shape) * np.finfo(m.dtype).eps  # NumPy's matrix_rank threshold
        out[f"{name}_rank"] = int(np.sum(s > tol))
    return out


def spectra_figure(data: dict[str, Any]) -> Any:
    """Normalised singular values on a log scale, the middle width marked."""
    fig, ax = plt.subplots(figsize=(8.6, 4.2))
    k = np.arange(1, data["maps"] + 1)
    for name, color, label in (
        ("linear", PALETTE["wide"], f"out of the 1×1 conv (rank {data['linear_rank']})"),
        ("relu", PALETTE["narrow"], f"after ReLU (rank {data['relu_rank']})"),
    ):
        s = data[name]
        ax.semilogy(k, np.maximum(s / s[0], 1e-18), marker="o", ms=2.6, lw=1.2, color=color, label=label)
    ax.axvline(data["middle"], color=PALETTE["muted"], ls="--", lw=1)
    ax.text(data["middle"] + 3, 1e-3, f"{data['middle']} = maps in the middle", color=PALETTE["muted"], fontsize=10)
    ax.set_xlim(0, data["maps"] + 1)
    ax.set_ylim(1e-18, 3)
    ax.set_xlabel(f"singular value index (of {data['maps']})")
    ax.set_ylabel(r"$\sigma_k \,/\, \sigma_1$")
    ax.grid(True, which="major", color=PALETTE["grid"], lw=0.8)
    ax.legend(loc="center right", frameon=False)
    return fig
