"""Theorem 6: the C_out maps of a C_in -> C_out 1x1 conv (C_out > C_in) lie in a subspace of dimension <= C_in.

The thread's case: 64 -> 256. Paths compared: the definition (differentiated for symbolic sizes: the map is
affine, y = W x + b), the derivation engine's maps (their Jacobian is the definition's W), the NumPy conv engine
(its outputs factor as W times the inputs), and exact integer ranks. The bound itself is a cited lemma applied
to that computed factorisation. It holds for the linear map only: BatchNorm's shift, the residual add and ReLU
are checked too.
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

LEMMA = (
    "rank(AB) <= min(rank A, rank B), and the rank of a matrix is at most its number of columns "
    "(Horn & Johnson, Matrix Analysis, 2nd ed., 2013, section 0.4)"
)


def check(found: Findings, layer: Conv2d | None) -> None:
    if layer is not None:
        if layer.kernel_pair != (1, 1):
            raise NotApplicable(f"{layer!r} is not a 1x1 conv: its maps at a pixel also read other pixels")
        if layer.out_channels <= layer.in_channels:
            raise NotApplicable(
                f"{layer!r} does not expand: C_out = {layer.out_channels} <= C_in = {layer.in_channels}"
            )
    proof = proofs.expansion_linear()
    found.proof.extend(proof.lines)
    found.step(
        "proved", "a 1x1 conv is affine at each pixel: y = W x + b, W[o, i] = d y_o/d x_i", proof.holds, proof.detail
    )
    conv = layer if layer is not None else S.with_bias(S.thread_convs()[1])
    narrow, wide = conv.in_channels, conv.out_channels
    jac = S.jacobian_is_w(found, conv)
    gen = S.rng()
    samples = wide + narrow  # more samples than the widest rank, so a rank cap is a property, not a shortage
    wt = gen.integers(-9, 10, size=(wide, narrow // conv.groups, 1, 1), dtype=np.int64)
    w = dense(conv, wt)
    hidden = S.int_matrix(narrow, samples, gen)  # H: the C_in input maps at `samples` pixels
    y = numeric.conv2d(hidden.reshape(1, narrow, 1, samples), wt, groups=conv.groups)[0].reshape(wide, samples)
    factor_ok = y.shape == (wide, samples) and bool(np.array_equal(y, w @ hidden))
    found.step(
        "cited",
        f"the {wide} maps at {samples} pixels have rank <= {narrow}",
        factor_ok and narrow < wide,
        f"{LEMMA}, applied to Y ({wide}x{samples}, NumPy's conv2d, random integers) = W ({wide}x{narrow}) . "
        f"H ({narrow}x{samples}): rank Y <= {narrow} < {wide}"
        if factor_ok
        else f"Y = W . H does not hold: expected NumPy's conv2d to equal W . H, found "
        f"{int(np.sum(y != w @ hidden)) if y.shape == (wide, samples) else y.shape} entries differing",
    )
    jacobian_rank = sym.rank_lower_bound(w)  # the Jacobian W with random integer weights
    found.equal(
        "checked",
        f"the Jacobian W ({wide}x{narrow}) has full rank {narrow} at random integer weights",
        "rank (mod p lower bound)",
        narrow,
        jacobian_rank,
    )
    outputs_rank = sym.rank_lower_bound(y)
    found.equal(
        "checked",
        f"the {wide} maps at {samples} pixels span exactly {narrow} dimensions",
        "rank (mod p lower bound, capped by the lemma)",
        narrow,
        outputs_rank,
    )
    scale = gen.integers(1, 10, size=(wide, 1))
    shift = gen.integers(-9, 10, size=(wide, 1))
    bn = scale * y + shift
    bn_span, bn_affine = sym.rank_lower_bound(bn), sym.rank_lower_bound(bn[:, 1:] - bn[:, :1])
    found.equal(
        "checked",
        "after BatchNorm (per-map scale and shift) the maps span one more dimension linearly",
        "linear span",
        narrow + 1,
        bn_span,
    )
    found.equal(
        "checked",
        f"after BatchNorm they lie in an affine subspace of dimension {narrow}",
        "affine dimension",
        narrow,
        bn_affine,
    )
    # Residual add: the block's C_out-dim input z comes back; the path reduces it to C_in maps first.
    w1 = S.int_matrix(narrow, wide, gen)
    zs = S.int_matrix(wide, samples, gen)
    path_rank = sym.rank_lower_bound(w @ (w1 @ zs))
    residual_rank = sym.rank_lower_bound(w @ (w1 @ zs) + zs)
    relu_rank = sym.rank_lower_bound(np.maximum(y, 0))
    found.step(
        "checked",
        "the residual add leaves the subspace",
        residual_rank > narrow,
        f"rank {path_rank} on the conv path, {residual_rank} after adding the block's input"
        + ("" if residual_rank > narrow else f" (expected more than {narrow})"),
    )
    found.step(
        "checked",
        "ReLU leaves the subspace",
        relu_rank > narrow,
        f"rank {relu_rank} after ReLU" + ("" if relu_rank > narrow else f" (expected more than {narrow})"),
    )
    found.figures.update(
        {
            "jacobian_shape": list(jac.shape),
            "jacobian_rank": jacobian_rank,
            "outputs_rank": outputs_rank,
            "samples": samples,
            "after_batchnorm_linear_span": bn_span,
            "after_batchnorm_affine_dim": bn_affine,
            "conv_path_rank": path_rank,
            "after_residual_add_rank": residual_rank,
            "after_relu_rank": relu_rank,
        }
    )


THEOREM = Theorem(
    "expansion-rank",
    6,
    "Expanding 64 -> 256 maps is redundant",
    "The 256 maps of a 64->256 1x1 conv lie, at each pixel, in a subspace of dimension at most 64; this holds "
    "for the linear map only (BatchNorm's shift makes it affine; the residual add and ReLU leave it).",
    r"\dim \{W x : x \in \mathbb{R}^{64}\} = \operatorname{rank} W \le 64 < 256",
    ("the definition (differentiated)", "the derivation engine's Jacobian", "NumPy's conv2d", "exact integer ranks"),
    True,
    check,
)
