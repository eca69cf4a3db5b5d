"""Theorem 1: every output map of a 1x1 conv reads every input map (of its group), at its own pixel.

Paths compared: the definition (differentiated for symbolic sizes; its index expressions at named layers) and
the derivation engine's maps, read term by term.
"""

from __future__ import annotations

from ..spec import Conv2d
from ..symbolic import proofs
from . import _shared as S
from ._core import Findings, Theorem

STATEMENT = (
    "Each output map of a 1x1 conv is b_o + sum_i w_{o,i} x_i(p) over all C_in input maps at the same pixel p "
    "(the derivative by each input is its own weight); with groups g, over the C_in/g maps of its group."
)


def _layers() -> list[Conv2d]:
    reduce_, expand = S.thread_convs()
    grouped = Conv2d(reduce_.in_channels, reduce_.out_channels, 1, groups=4, bias=False)
    return [S.with_bias(reduce_), S.with_bias(expand), grouped]


def _reads_its_group(found: Findings, conv: Conv2d) -> dict[str, int]:
    """A ``checked`` step: the input maps each engine map reads are exactly its group's (by C_in, C_out, g)."""
    in_per_group, out_per_group = conv.in_per_group, conv.out_per_group
    wrong = []
    read_counts = set()
    for o, (_, coeffs) in enumerate(S.engine_coefficients(conv)):
        read = sorted({S.channel(x) for x in coeffs})
        group = o // out_per_group
        read_counts.add(len(read))
        if read != list(range(group * in_per_group, (group + 1) * in_per_group)):
            wrong.append((o, read))
    statement = f"each map of {conv!r} reads exactly the {in_per_group} input maps of its group"
    if wrong:
        o, read = wrong[0]
        group = o // out_per_group
        detail = (
            f"{len(wrong)} of {conv.out_channels} maps read other maps; map {o}: expected maps "
            f"{group * in_per_group}..{(group + 1) * in_per_group - 1}, found {len(read)} maps"
            + (f" {read[0]}..{read[-1]}" if read else "")
        )
        found.step("checked", statement, False, detail)
    else:
        found.step("checked", statement, True, f"all {conv.out_channels} maps read their group's {in_per_group} maps")
    return {"maps": len(S.engine_maps(conv)), "inputs_per_map": read_counts.pop() if len(read_counts) == 1 else -1}


def check(found: Findings, layer: Conv2d | None) -> None:
    proof = proofs.all_inputs()
    found.proof.extend(proof.lines)
    found.step(
        "proved", "y_o(p) = b_o + sum_i w_{o,i} x_i(p) over o's group, d y_o/d x_i = w_{o,i}", proof.holds, proof.detail
    )
    read = 0
    for conv in [layer] if layer is not None else _layers():
        S.engine_answers_to_definition(found, conv)
        figures = _reads_its_group(found, conv)
        read += sum(len(c) for _, c in S.engine_coefficients(conv))
        key = S.name(conv) if conv.groups == 1 or layer is not None else f"groups={conv.groups}"
        found.figures[key] = (
            figures if conv.groups == 1 or layer is not None else {"inputs_per_map": figures["inputs_per_map"]}
        )
    found.figures["coefficients_read"] = read


THEOREM = Theorem(
    "all-inputs",
    1,
    "Every output map reads every input map",
    STATEMENT,
    r"y_o(p) = b_o + \sum_{i=0}^{C_{in}-1} w_{o,i}\, x_i(p),\qquad \frac{\partial y_o}{\partial x_i} = w_{o,i}",
    ("the definition (differentiated, and its index expressions)", "the derivation engine's maps"),
    True,
    check,
)
