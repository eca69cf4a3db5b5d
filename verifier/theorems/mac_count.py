"""Theorem 4: a conv costs H_out*W_out*k_h*k_w*(C_in/g)*C_out multiply-adds per sample.

Paths compared: the definition's output and sum ranges (counted for symbolic sizes, and at named layers and
input sizes from the layer's arguments alone), the spec's closed form (``Conv2d.macs`` and
``Conv2d.output_size``), and the derivation engine's products (with the padding's zeros written into the input,
so that it counts them as frameworks do).
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

SIZE = (56, 56)  # the block's input in ResNet-50's conv2_x stage


def _size(conv: Conv2d) -> tuple[int, int]:
    """56x56, or the dilated kernel's extent when that is larger."""
    extent = S.where(conv)[1]
    return max(SIZE[0], extent[0]), max(SIZE[1], extent[1])


def _count(found: Findings, label: str, conv: Conv2d, size: tuple[int, int]) -> tuple[int, int]:
    at = D.sizes(conv, size)
    S.agree(
        found,
        "checked",
        f"{label} {conv!r} on {size[0]}x{size[1]}: output size",
        {"definition": D.output_size(conv, size), "spec": conv.output_size(*size)},
        "H_out, W_out",
    )
    by_definition = int(D.count(D.OUTPUTS, D.TERMS, at=at))
    closed = conv.macs((conv.in_channels, *size))
    (top, bottom), (left, right) = conv.padding_amounts
    padded = dataclasses.replace(conv, padding=0)  # the same conv on an input padded with explicit zeros
    with_zeros = sym.derived_macs(padded, (size[0] + top + bottom, size[1] + left + right))
    S.agree(
        found,
        "checked",
        f"{label} {conv!r} on {size[0]}x{size[1]}: multiply-adds",
        {"definition": by_definition, "spec": closed, "engine (padding zeros in the input)": with_zeros},
        "MACs",
    )
    derived = sym.derived_macs(conv, size)
    unpadded = top + bottom + left + right == 0
    holds = derived == by_definition if unpadded else derived < by_definition
    found.step(
        "checked",
        f"{label}: the engine's maps leave out only products with padded zeros",
        holds,
        f"{fmt(derived)} products derived against {fmt(by_definition)} in the definition's ranges"
        + ("" if unpadded else f" (padding {conv.padding_amounts})")
        + ("" if holds else f"; expected {'equal counts' if unpadded else 'fewer derived'} figures"),
    )
    found.figures[label] = {
        "derived": derived,
        "closed_form": closed,
        "definition": by_definition,
        "derived_counting_padded_zeros": with_zeros,
    }
    return derived, closed


def check(found: Findings, layer: Conv2d | None) -> None:
    proof = proofs.mac_count()
    found.proof.extend(proof.lines)
    found.step("proved", "H_out*W_out*k_h*k_w*(C_in/g)*C_out multiply-adds", proof.holds, proof.detail)
    if layer is not None:
        _count(found, "layer", layer, _size(layer))
        return
    derived = closed = 0
    for label, conv in S.BLOCK.convs():
        d, c = _count(found, label, conv, SIZE)
        derived, closed = derived + d, closed + c
    S.agree(
        found,
        "checked",
        "the bottleneck's multiply-adds are its convs'",
        {"sum over the convs": closed, "spec's block": S.BLOCK.macs((S.BLOCK.in_channels, *SIZE))},
        "MACs",
    )
    found.figures["block"] = {"derived": derived, "closed_form": closed}


THEOREM = Theorem(
    "mac-count",
    4,
    "Multiply-add count",
    f"A conv costs {D.MACS_TEXT} multiply-adds per sample, counting products with padded zeros as frameworks do.",
    r"\text{MACs} = " + D.MACS_LATEX,
    ("the definition's index ranges", "the spec's closed form", "the derivation engine's products"),
    True,
    check,
)
