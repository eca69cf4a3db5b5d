"""Theorem 8: BatchNorm in inference form folds into the conv before it.

Paths compared: BatchNorm applied to the definition's map against the definition with folded weights (SymPy, for
any kernel, stride, padding, dilation and groups), and at a named layer with exact rationals: BatchNorm
(``verifier.numeric.batch_norm``) of the derivation engine's maps against the engine's maps of the folded conv,
folded both by :func:`fold` (the statement) and by the library's ``verifier.numeric.fold_batch_norm``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import symbolic as sym
from ..numeric import functional
from ..spec import BatchNorm2d, Conv2d
from ..symbolic import proofs
from . import _shared as S
from ._core import Findings, Theorem


def fold(w: Any, b: Any, gamma: Any, beta: Any, mu: Any, sigma: Any) -> tuple[Any, Any]:
    """The statement: BN(w x + b) = w' x + b' with w' = gamma/sigma w and b' = beta + gamma (b - mu)/sigma."""
    return gamma / sigma * w, beta + gamma * (b - mu) / sigma


def check(found: Findings, layer: Conv2d | None) -> None:
    proof = proofs.batchnorm_fold(fold)
    found.proof.extend(proof.lines)
    found.step(
        "proved",
        "BN(y_o) = the conv with w' = gamma/sigma w, b' = beta + gamma (b - mu)/sigma",
        proof.holds,
        proof.detail,
    )
    conv = S.with_bias(layer if layer is not None else S.thread_convs()[0])
    position, size = S.where(conv)
    bn = BatchNorm2d(conv.out_channels)
    eps = Fraction(bn.eps)  # the float's exact value
    gen = S.rng()
    c = conv.out_channels
    w = gen.integers(-9, 10, size=conv.weight_shape, dtype=np.int64)
    b = gen.integers(-9, 10, size=c, dtype=np.int64)
    x = gen.integers(-9, 10, size=(conv.in_channels, *size), dtype=np.int64)
    gamma = [Fraction(int(p), int(q)) for p, q in zip(gen.integers(1, 20, c), gen.integers(1, 9, c), strict=True)]
    beta = [Fraction(int(p), 7) for p in gen.integers(-20, 20, c)]
    mu = [Fraction(int(p), 3) for p in gen.integers(-20, 20, c)]
    sigma = [Fraction(int(p), int(q)) for p, q in zip(gen.integers(1, 30, c), gen.integers(1, 9, c), strict=True)]
    var = [s * s - eps for s in sigma]  # running variances with var + eps a perfect square: sigma is rational
    y = sym.output_maps(conv, position, size, weight=w, bias=b, input=x)
    y_arr = np.array([Fraction(int(v)) for v in y], dtype=object).reshape(1, c, 1, 1)
    after_bn = functional.batch_norm(y_arr, mu, var, gamma, beta, eps).ravel().tolist()
    folds = {
        "the statement's fold": [
            fold(w[o].astype(object), int(b[o]), gamma[o], beta[o], mu[o], sigma[o]) for o in range(c)
        ],
    }
    lib_w, lib_b = functional.fold_batch_norm(w.astype(object), b.astype(object), mu, var, gamma, beta, eps)
    folds["verifier.numeric.fold_batch_norm"] = [(lib_w[o], lib_b[o]) for o in range(c)]
    for label, pairs in folds.items():
        w_new = np.array([pw for pw, _ in pairs], dtype=object)  # Fractions: the engine sums them exactly
        b_new = [pb for _, pb in pairs]
        folded = sym.output_maps(conv, position, size, weight=w_new, bias=b_new, input=x)
        differ = sum(sp.Rational(a.numerator, a.denominator) != f for a, f in zip(after_bn, folded, strict=True))
        found.equal(
            "checked",
            f"BatchNorm after {conv!r} equals the conv folded by {label} (exact rationals)",
            "maps that differ",
            0,
            differ,
        )
    found.figures.update({"maps": c, "exact": all(s.holds for s in found.steps[1:])})


THEOREM = Theorem(
    "batchnorm-fold",
    8,
    "BatchNorm folds into the conv",
    "BatchNorm in inference form folds into the conv before it: W' = gamma/sigma W, b' = beta + gamma (b - mu)/sigma "
    "(beta - gamma mu/sigma for a conv without bias), with sigma = sqrt(var + eps).",
    r"W' = \frac{\gamma}{\sigma} W,\qquad b' = \beta + \frac{\gamma (b - \mu)}{\sigma},\qquad "
    r"\sigma = \sqrt{\operatorname{var} + \epsilon}",
    (
        "the definition (BatchNorm of its map against its folded map)",
        "the derivation engine's maps",
        "verifier.numeric's batch_norm and fold_batch_norm",
    ),
    True,
    check,
)
