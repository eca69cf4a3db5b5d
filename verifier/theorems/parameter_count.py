"""Theorem 3: a conv has k_h*k_w*(C_in/g)*C_out weights, plus C_out biases when it has a bias.

Paths compared: the definition's index ranges (counted for symbolic sizes, and at named layers from the layer's
arguments alone), the spec's closed form (``Conv2d.param_count``), and the derivation engine (the symbols of its
weight and bias tensors, and of the maps it derives).
"""

from __future__ import annotations

import dataclasses

from .. import symbolic as sym
from ..report import fmt
from ..spec import Conv2d
from ..symbolic import definition as D
from ..symbolic import proofs
from . import _shared as S
from ._core import Findings, Theorem


def _named_convs() -> dict[str, Conv2d]:
    convs = dict(S.BLOCK.convs())
    middle = convs["conv2"]
    return {
        **convs,
        "conv1 with bias": dataclasses.replace(convs["conv1"], bias=True),
        "grouped 3x3": Conv2d(middle.in_channels, middle.out_channels, 3, padding=1, groups=8),
    }


def by_definition(conv: Conv2d) -> tuple[int, int]:
    """(weights, biases) counted over the definition's index ranges at the layer's arguments."""
    at = D.sizes(conv)
    weights = int(D.count(D.OUTPUTS[:2], D.TERMS, at=at))
    return weights, int(D.count(D.OUTPUTS[:2], at=at)) if conv.bias else 0


def _count(found: Findings, label: str, conv: Conv2d) -> None:
    weights, biases = by_definition(conv)
    engine = sym.count_free_symbols([sym.weight_tensor(conv), sym.bias_vector(conv)])
    what = f"{fmt(weights)} weights + {fmt(biases)} biases" if biases else f"{fmt(weights)} weights, no bias"
    S.agree(
        found,
        "checked",
        f"{label} {conv!r}: {what}",
        {"definition": weights + biases, "spec": conv.param_count, "engine's tensors": engine},
        "parameters",
    )
    found.figures[label] = {"derived": engine, "closed_form": conv.param_count, "definition": weights + biases}


def check(found: Findings, layer: Conv2d | None) -> None:
    proof = proofs.parameter_count()
    found.proof.extend(proof.lines)
    found.step("proved", "k_h*k_w*(C_in/g)*C_out weights and C_out biases", proof.holds, proof.detail)
    if layer is not None:
        _count(found, "layer", layer)
        return
    for label, conv in _named_convs().items():
        _count(found, label, conv)
    # The 1x1 maps themselves use every weight and bias: count the symbols the derived maps contain.
    conv = S.with_bias(S.thread_convs()[0])
    used = len(sym.free_symbols(list(S.engine_maps(conv))) - S.inputs(conv))
    S.agree(
        found,
        "checked",
        f"the derived maps of {conv!r} use every parameter",
        {"definition": sum(by_definition(conv)), "engine's maps": used},
        "weight and bias symbols",
    )
    found.figures["symbols in the derived 256->64 maps"] = used


THEOREM = Theorem(
    "parameter-count",
    3,
    "Parameter count",
    f"A conv has {D.WEIGHTS_TEXT} weights, plus C_out biases when it has a bias.",
    "P = " + D.WEIGHTS_LATEX + " + C_{out}",
    ("the definition's index ranges", "the spec's closed form", "the derivation engine's tensors and maps"),
    True,
    check,
)
