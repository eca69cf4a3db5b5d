"""The theorems that settle the thread, one module per theorem: its statement, its checks and its proof.

A :class:`Theorem` states one fact about convolutions. :meth:`Theorem.check` returns a :class:`Verdict`
whose :class:`Step` s say what was shown and how: ``proved`` (derived for all sizes from the one definition
of a convolution), ``checked`` (computed exactly at named sizes) or ``cited`` (a named lemma applied to a
computed instance). Given a layer, a theorem about layers is checked at that layer.

>>> t = get_theorem("parameter-count")
>>> t
Theorem(3, 'parameter-count': Parameter count)
>>> v = t.check()
>>> v.status
'holds'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import VerifierError, VerifierTypeError
from ..progress import Progress
from ..spec import Conv2d
from ..symbolic import proofs
from . import _legacy as L
from ._core import Findings, NotApplicable, Step, Theorem, Verdict, validate_layer

__all__ = [
    "THEOREMS",
    "NotApplicable",
    "Step",
    "Theorem",
    "Verdict",
    "check_all",
    "get_theorem",
    "validate_layer",
]


def _adapt(
    check: Callable[[], tuple[bool, str, dict[str, Any]]], proof: Callable[[], proofs.Proof]
) -> Callable[[Findings, Conv2d | None], None]:
    def run(found: Findings, layer: Conv2d | None) -> None:
        if layer is not None:
            raise NotApplicable(f"not yet checked at a given layer ({layer!r})")
        ok, evidence, figures = check()
        found.figures.update(figures)
        found.step("checked", "at the thread's full width", ok, evidence.rstrip("."))
        p = proof()
        found.figures.update(p.figures)
        found.proof.extend(p.lines)
        verb = "held" if p.holds else "failed"
        found.step("proved", "for symbolic sizes", p.holds, f"the symbolic identity {verb}")

    return run


THEOREMS: tuple[Theorem, ...] = (
    Theorem(
        "all-inputs",
        1,
        "Every output map reads every input map",
        "Each output map of a 1x1 conv is b_o + sum_i w_{o,i} x_i(p) over all C_in input maps at the same pixel p "
        "(the derivative by each input is its own weight); with groups g, over the C_in/g maps of its group.",
        r"y_o(p) = b_o + \sum_{i=0}^{C_{in}-1} w_{o,i}\, x_i(p),\qquad \frac{\partial y_o}{\partial x_i} = w_{o,i}",
        ("the definition", "the derivation engine"),
        True,
        _adapt(L._check_all_inputs, proofs.all_inputs),
    ),
    Theorem(
        "maps-equal-filters",
        2,
        "Output maps = filters",
        "A conv with C_out filters outputs C_out maps, not C_in*C_out: the C_in*C_out products exist only before "
        "the sum. A depthwise conv with multiplier r outputs C_in*r maps with as many weights as the ordinary "
        "conv with r filters.",
        r"\#\{y_o\} = C_{out},\qquad \#w_{\text{depthwise},\,r} = C_{in}\, r\, k_h k_w = \#w_{C_{in}\to r}",
        ("the definition", "the spec", "the derivation engine"),
        True,
        _adapt(L._check_maps_equal_filters, proofs.maps_equal_filters),
    ),
    Theorem(
        "parameter-count",
        3,
        "Parameter count",
        "A conv has k_h*k_w*(C_in/g)*C_out weights, plus C_out biases when it has a bias.",
        r"P = k_h k_w \frac{C_{in}}{g} C_{out} + C_{out}",
        ("the spec's closed form", "the definition's index ranges", "the derivation engine"),
        True,
        _adapt(L._check_parameter_count, proofs.parameter_count),
    ),
    Theorem(
        "mac-count",
        4,
        "Multiply-add count",
        "A conv costs H_out*W_out*k_h*k_w*(C_in/g)*C_out multiply-adds per sample, counting products with "
        "padded zeros as frameworks do.",
        r"\text{MACs} = H_{out} W_{out} k_h k_w \frac{C_{in}}{g} C_{out}",
        ("the spec's closed form", "the definition's index ranges", "the derivation engine"),
        True,
        _adapt(L._check_mac_count, proofs.mac_count),
    ),
    Theorem(
        "conv1x1-is-matmul",
        5,
        "A 1x1 conv is a matrix product",
        "A 1x1 conv is the matrix product W (C_out x C_in) . X (C_in x HW): one fully connected layer applied at "
        "every pixel.",
        r"Y = W X,\quad W \in \mathbb{R}^{C_{out}\times C_{in}},\ X \in \mathbb{R}^{C_{in}\times HW}",
        ("the definition", "the derivation engine", "NumPy's matrix product"),
        True,
        _adapt(L._check_conv1x1_is_matmul, proofs.conv1x1_is_matmul),
    ),
    Theorem(
        "expansion-rank",
        6,
        "Expanding 64 -> 256 maps is redundant",
        "The 256 maps of a 64->256 1x1 conv lie, at each pixel, in a subspace of dimension at most 64; this holds "
        "for the linear map only (BatchNorm's shift makes it affine; the residual add and ReLU leave it).",
        r"\dim \{W x : x \in \mathbb{R}^{64}\} = \operatorname{rank} W \le 64 < 256",
        ("the derivation engine", "exact integer ranks"),
        True,
        _adapt(L._check_expansion_rank, proofs.expansion_rank),
    ),
    Theorem(
        "linear-collapse",
        7,
        "Two 1x1 convs collapse into one",
        "Two 1x1 convs with nothing between them are one 1x1 conv with weight W2.W1, of rank at most the middle "
        "width m (64): the bottleneck needs its nonlinearity.",
        r"W_2 (W_1 x) = (W_2 W_1)\, x,\qquad \operatorname{rank}(W_2 W_1) \le m",
        ("the derivation engine", "NumPy's matrix product"),
        True,
        _adapt(L._check_linear_collapse, proofs.linear_collapse),
    ),
    Theorem(
        "batchnorm-fold",
        8,
        "BatchNorm folds into the conv",
        "BatchNorm in inference form folds into the conv before it: W' = gamma/sigma W, b' = beta - gamma mu/sigma, "
        "with sigma = sqrt(var + eps).",
        r"W' = \frac{\gamma}{\sigma} W,\qquad b' = \beta - \frac{\gamma \mu}{\sigma},\qquad "
        r"\sigma = \sqrt{\operatorname{var} + \epsilon}",
        ("the derivation engine", "exact rationals"),
        True,
        _adapt(L._check_batchnorm_fold, proofs.batchnorm_fold),
    ),
    Theorem(
        "bottleneck-budget",
        9,
        "The bottleneck's weight budget",
        "The bottleneck 4m->m->m->4m has fewer conv weights than a basic block of two 3x3 convs at m maps, "
        "far fewer than two 3x3 convs at 4m maps; a projection shortcut roughly doubles it.",
        r"4m\to m\to m\to 4m:\ 17m^2 \;<\; 2\times 3{\times}3\ \text{at}\ m:\ 18m^2 \;\ll\; "
        r"2\times 3{\times}3\ \text{at}\ 4m:\ 288m^2",
        ("the spec's closed forms", "the derivation engine"),
        False,
        _adapt(L._check_bottleneck_budget, proofs.block_budget),
    ),
)

_BY_ID = {t.id: t for t in THEOREMS}


def get_theorem(id: str) -> Theorem:
    """The theorem with this id.

    >>> get_theorem("mac-count").number
    4

    Raises:
        VerifierError: for an unknown id; the message lists the valid ones.
    """
    if not isinstance(id, str) or id not in _BY_ID:
        raise VerifierError(f"unknown theorem id {id!r}; valid ids: {', '.join(_BY_ID)}")
    return _BY_ID[id]


def check_all(progress: Progress | None = None, layer: Conv2d | None = None) -> list[tuple[Theorem, Verdict]]:
    """Check every theorem in order (at ``layer`` when given), reporting each to ``progress``; verdicts are cached.

    >>> [t.id for t, v in check_all()][:3]
    ['all-inputs', 'maps-equal-filters', 'parameter-count']
    """
    if progress is not None and not isinstance(progress, Progress):
        raise VerifierTypeError(f"progress must be a verifier.progress.Progress or None, got {progress!r}")
    if layer is not None:
        validate_layer(layer)
    out = []
    for theorem in THEOREMS:
        if progress is not None:
            progress.step(f"theorem {theorem.number}/{len(THEOREMS)}: {theorem.title}")
        out.append((theorem, theorem.check() if layer is None else theorem.check(layer)))
    return out
