"""Theorem 9: the bottleneck 4m -> m -> m -> 4m has fewer conv weights than a basic block at m maps.

Paths compared: the definition's index ranges (counted for a symbolic middle width m, and at m = 64 per conv),
the spec's closed forms (``conv_weight_count`` of each block) and the derivation engine's weight tensors.
"""

from __future__ import annotations

from .. import symbolic as sym
from ..report import fmt
from ..spec import BasicBlock, Bottleneck, Conv2d
from ..symbolic import proofs
from . import _shared as S
from ._core import Findings, Theorem
from .parameter_count import by_definition


def _by_definition(block: Bottleneck | BasicBlock) -> int:
    return sum(by_definition(conv)[0] for _, conv in block.convs())


def _engine(block: Bottleneck | BasicBlock) -> int:
    return sum(sym.count_free_symbols(sym.weight_tensor(conv)) for _, conv in block.convs())


def check(found: Findings, layer: Conv2d | None) -> None:
    proof = proofs.block_budget()
    found.proof.extend(proof.lines)
    per_m2 = proof.figures
    b, bb, tw, pr = (
        per_m2[k] for k in ("bottleneck_per_m2", "basic_per_m2", "two_3x3_wide_per_m2", "projection_per_m2")
    )
    found.step(
        "proved",
        f"{b}m^2 < {bb}m^2 < {tw}m^2 conv weights; a projection adds {pr}m^2",
        proof.holds,
        proof.detail,
    )
    bottleneck = S.BLOCK
    m = bottleneck.planes
    basic = BasicBlock(bottleneck.width, bottleneck.width)
    projected = Bottleneck(bottleneck.in_channels, bottleneck.planes, projection=True)
    counts: dict[str, dict[str, int]] = {}
    for label, block, key in (
        ("bottleneck", bottleneck, "bottleneck_per_m2"),
        ("basic block", basic, "basic_per_m2"),
    ):
        counts[label] = {"derived": _engine(block), "closed_form": block.conv_weight_count}
        S.agree(
            found,
            "checked",
            f"the {label}'s conv weights at m = {m}",
            {
                "definition": _by_definition(block),
                "proof at m": per_m2[key] * m * m,
                "spec": block.conv_weight_count,
                "engine's tensors": counts[label]["derived"],
            },
            "weights",
        )
    counts["bottleneck + projection"] = {"derived": _engine(projected), "closed_form": projected.conv_weight_count}
    S.agree(
        found,
        "checked",
        f"the bottleneck with a projection shortcut at m = {m}",
        {
            "definition": _by_definition(projected),
            "proof at m": (per_m2["bottleneck_per_m2"] + per_m2["projection_per_m2"]) * m * m,
            "spec": projected.conv_weight_count,
            "engine's tensors": counts["bottleneck + projection"]["derived"],
        },
        "weights",
    )
    # Two 3x3 convs at 4m maps would be 1.2 million symbols: counted by the definition and the spec only.
    wide = Conv2d(bottleneck.in_channels, bottleneck.in_channels, 3, padding=1, bias=False)
    two_wide = 2 * by_definition(wide)[0]
    counts["two 3x3 at 256"] = {"derived": two_wide, "closed_form": 2 * wide.weight_count}
    S.agree(
        found,
        "checked",
        f"two 3x3 convs at 4m = {4 * m}",
        {"definition": two_wide, "proof at m": per_m2["two_3x3_wide_per_m2"] * m * m, "spec": 2 * wide.weight_count},
        "weights",
    )
    b, bb, pr, tw = (counts[k]["derived"] for k in counts)  # at m = 64
    found.step(
        "checked",
        "bottleneck < basic block < two wide 3x3, projection between 1x and 2x",
        b < bb < tw and 1 < pr / b < 2,
        f"found {fmt(b)}, {fmt(bb)}, {fmt(tw)}; with projection {fmt(pr)} ({pr / b:.2f}x)"
        + ("" if b < bb < tw and 1 < pr / b < 2 else "; expected increasing figures and a ratio between 1 and 2"),
    )
    found.figures.update({k: v for k, v in counts.items()})
    found.figures["projection_ratio"] = round(pr / b, 4)
    found.figures["per_m2"] = {k: int(v) for k, v in per_m2.items()}


THEOREM = Theorem(
    "bottleneck-budget",
    9,
    "The bottleneck's weight budget",
    "The bottleneck 4m->m->m->4m has fewer conv weights than a basic block of two 3x3 convs at m maps, "
    "far fewer than two 3x3 convs at 4m maps; a projection shortcut roughly doubles it.",
    r"4m\to m\to m\to 4m:\ 17m^2 \;<\; 2\times 3{\times}3\ \text{at}\ m:\ 18m^2 \;\ll\; "
    r"2\times 3{\times}3\ \text{at}\ 4m:\ 288m^2",
    ("the definition's index ranges", "the spec's closed forms", "the derivation engine's tensors"),
    False,
    check,
)
