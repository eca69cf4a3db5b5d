"""Theorem 5: a 1x1 conv is the matrix product W (C_out x C_in) . X (C_in x HW), one fully connected layer per pixel.

Paths compared: the definition (for symbolic sizes, read as a matrix product by SymPy's MatrixSymbol; at named
layers, its index expressions placing each weight in W), the derivation engine's maps (symbols and integers),
NumPy's matrix product, and the NumPy conv engine (``verifier.numeric.conv2d``).
"""

from __future__ import annotations

import numpy as np

from .. import numeric
from ..spec import Conv2d
from ..symbolic import definition as D
from ..symbolic import proofs
from ..symbolic.derive import Operands
from . import _shared as S
from ._core import Findings, NotApplicable, Theorem


def dense(conv: Conv2d, weights: np.ndarray) -> np.ndarray:
    """The C_out x C_in matrix W of a 1x1 conv's OIHW weights: each weight placed by the definition (0 off-group)."""
    out = np.zeros((conv.out_channels, conv.in_channels), dtype=weights.dtype)
    index, inside = D.table(conv, (0, 0), (1, 1))
    o, t = np.nonzero(inside)
    rows = index[o, t]
    out[rows[:, 0], rows[:, 4]] = weights[rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]]
    return out


def _numbers(found: Findings, conv: Conv2d) -> None:
    """With random integers, the engine's maps at every pixel and NumPy's conv2d equal W . X exactly."""
    sh, sw = conv.stride_pair
    size = (2 * sh, 2 * sw)
    gen = S.rng()
    wt = gen.integers(-9, 10, size=conv.weight_shape, dtype=np.int64)
    x = gen.integers(-9, 10, size=(conv.in_channels, *size), dtype=np.int64)
    ho, wo = D.output_size(conv, size)
    matrix = dense(conv, wt) @ x[:, ::sh, ::sw][:, :ho, :wo].reshape(conv.in_channels, -1)
    if conv.bias:
        bias = gen.integers(-9, 10, size=conv.out_channels, dtype=np.int64)
        matrix = matrix + bias[:, None]
    else:
        bias = None
    operands = Operands(conv, size, wt, bias, x)
    engine = np.array(
        [[int(operands.build(o, (r, c))) for o in range(conv.out_channels)] for r in range(ho) for c in range(wo)],
        dtype=np.int64,
    ).T
    found.equal(
        "checked",
        f"the engine's maps of {conv!r} at all {ho * wo} pixels equal W . X (random integers)",
        "entries that differ",
        0,
        int(np.sum(engine != matrix)) if engine.shape == matrix.shape else -1,
    )
    out = numeric.conv2d(x[None], wt, bias, stride=conv.stride, groups=conv.groups)[0].reshape(conv.out_channels, -1)
    found.equal(
        "checked",
        f"NumPy's conv2d of {conv!r} equals W . X (random integers)",
        "entries that differ",
        0,
        int(np.sum(out != matrix)) if out.shape == matrix.shape else -1,
    )
    found.figures.update({"W": [conv.out_channels, conv.in_channels], "pixels": ho * wo, "exact": True})


def check(found: Findings, layer: Conv2d | None) -> None:
    if layer is not None and (layer.kernel_pair != (1, 1) or layer.padding_amounts != ((0, 0), (0, 0))):
        raise NotApplicable(
            f"{layer!r} is not a matrix product of its input maps: "
            + ("its kernel is " + "x".join(map(str, layer.kernel_pair)) if layer.kernel_pair != (1, 1) else "it pads")
        )
    proof = proofs.conv1x1_is_matmul()
    found.proof.extend(proof.lines)
    found.step("proved", "y_o(p) = (W X)_(o,p) for a 1x1 conv", proof.holds, proof.detail)
    conv = layer if layer is not None else S.with_bias(S.thread_convs()[0])
    S.jacobian_is_w(found, conv)
    _numbers(found, conv)
    found.figures["exact"] = all(s.holds for s in found.steps)


THEOREM = Theorem(
    "conv1x1-is-matmul",
    5,
    "A 1x1 conv is a matrix product",
    "A 1x1 conv is the matrix product W (C_out x C_in) . X (C_in x HW): one fully connected layer applied at "
    "every pixel.",
    r"Y = W X,\quad W \in \mathbb{R}^{C_{out}\times C_{in}},\ X \in \mathbb{R}^{C_{in}\times HW}",
    (
        "the definition (as MatrixSymbol entries; its index expressions)",
        "the derivation engine's maps",
        "NumPy's matrix product",
        "NumPy's conv2d",
    ),
    True,
    check,
)
