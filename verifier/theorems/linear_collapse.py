"""Theorem 7: two 1x1 convs with nothing between them are one 1x1 conv with weight W2.W1, of rank <= m.

Paths compared: the definition composed with itself (differentiated for symbolic sizes), the derivation engine
(the second conv derived on the first's derived maps, against one conv with W2.W1), NumPy's conv2d (twice,
against once with W2.W1) and exact integer ranks; the rank bound is a cited lemma applied to the computed
factors W2 (C_out x m) and W1 (m x C_in).
"""

from __future__ import annotations

import numpy as np

from .. import numeric
from .. import symbolic as sym
from ..spec import Conv2d
from ..symbolic import proofs
from . import _shared as S
from ._core import Findings, NotApplicable, Theorem
from .conv1x1_is_matmul import dense
from .expansion_rank import LEMMA


def _pair(layer: Conv2d | None) -> tuple[Conv2d, Conv2d]:
    """The two convs: the thread's 256->64 then 64->256; or the layer, then a 1x1 conv back to its C_in."""
    if layer is None:
        return S.thread_convs()
    if layer.kernel_pair != (1, 1) or layer.padding_amounts != ((0, 0), (0, 0)) or layer.stride_pair != (1, 1):
        raise NotApplicable(f"{layer!r} is not a 1x1 conv with stride 1 and no padding")
    return Conv2d(layer.in_channels, layer.out_channels, 1, groups=layer.groups, bias=False), Conv2d(
        layer.out_channels, layer.in_channels, 1, bias=False
    )


def check(found: Findings, layer: Conv2d | None) -> None:
    first, second = _pair(layer)
    proof = proofs.linear_collapse()
    found.proof.extend(proof.lines)
    found.step("proved", "y = W_2 (W_1 x + b_1) + b_2 is one 1x1 conv with weight W_2 W_1", proof.holds, proof.detail)
    gen = S.rng()
    m = first.out_channels
    w1 = gen.integers(-9, 10, size=first.weight_shape, dtype=np.int64)
    w2 = gen.integers(-9, 10, size=second.weight_shape, dtype=np.int64)
    x = gen.integers(-9, 10, size=(first.in_channels, 1, 1), dtype=np.int64)
    merged = dense(second, w2) @ dense(first, w1)
    one = Conv2d(first.in_channels, second.out_channels, 1, bias=False)
    hidden = sym.output_maps(first, (0, 0), (1, 1), weight=w1, input=x)
    composed = sym.output_maps(
        second, (0, 0), (1, 1), weight=w2, input=np.array(hidden, dtype=object).reshape(-1, 1, 1)
    )
    direct = sym.output_maps(one, (0, 0), (1, 1), weight=merged.reshape(one.weight_shape), input=x)
    differ = sum(a != b for a, b in zip(composed, direct, strict=True)) if len(composed) == len(direct) else -1
    found.equal(
        "checked",
        f"the engine's {len(composed)} composed maps equal one conv with W2.W1 (random integers)",
        "maps that differ",
        0,
        differ,
    )
    xs = gen.integers(-9, 10, size=(1, first.in_channels, 2, 2), dtype=np.int64)
    twice = numeric.conv2d(numeric.conv2d(xs, w1, groups=first.groups), w2)
    once = numeric.conv2d(xs, merged.reshape(one.weight_shape))
    found.equal(
        "checked",
        "NumPy's conv2d twice equals conv2d once with W2.W1 (random integers)",
        "entries that differ",
        0,
        int(np.sum(twice != once)) if twice.shape == once.shape else -1,
    )
    found.step(
        "cited",
        f"rank(W2.W1) <= {m}",
        merged.shape == (second.out_channels, first.in_channels),
        f"{LEMMA}, applied to W2 ({second.out_channels}x{m}) . W1 ({m}x{first.in_channels}) of shape "
        f"{merged.shape[0]}x{merged.shape[1]} (expected {second.out_channels}x{first.in_channels}): rank <= {m}, "
        f"not {min(second.out_channels, first.in_channels)}",
    )
    rank = sym.rank_lower_bound(merged)
    found.equal(
        "checked",
        f"rank(W2.W1) is exactly {min(m, first.in_channels)} for random integers",
        "rank (mod p lower bound, capped by the lemma)",
        min(m, first.in_channels),
        rank,
    )
    found.figures.update({"maps": len(composed), "rank": rank, "exact": differ == 0})


THEOREM = Theorem(
    "linear-collapse",
    7,
    "Two 1x1 convs collapse into one",
    "Two 1x1 convs with nothing between them are one 1x1 conv with weight W2.W1, of rank at most the middle "
    "width m (64): the bottleneck needs its nonlinearity.",
    r"W_2 (W_1 x) = (W_2 W_1)\, x,\qquad \operatorname{rank}(W_2 W_1) \le m",
    (
        "the definition (composed and differentiated)",
        "the derivation engine's maps",
        "NumPy's conv2d",
        "exact integer ranks",
    ),
    True,
    check,
)
