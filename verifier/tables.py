"""The tables a count is shown in: layers grouped by name, their parameters, MACs and totals.

This module sits below both users of those tables: :meth:`ResNet.summary <verifier.models.ResNet.summary>`
and ``verifier count`` (:mod:`verifier.commands.count`) build their reports from :func:`layer_report`, so
the library never imports the CLI.

>>> from verifier.spec import Bottleneck
>>> rows = Bottleneck().rows((1, 256, 56, 56))
>>> [(g["name"], g["params"]) for g in group_rows(rows, 1)][:3]
[('conv1', 16384), ('bn1', 128), ('relu1', 0)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import _validate as check
from .conventions import BEYOND_MACS, beyond_macs
from .errors import VerifierError
from .layers import SIDE_COUNTS, side_counts
from .report import Report, Table
from .spec import BatchNorm2d, LayerRow

__all__ = ["group_rows", "layer_report", "shape_text", "sum_side_counts"]


def group_rows(rows: Sequence[LayerRow], depth: int, kinds: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Merge rows whose names share their first ``depth`` dotted parts (``layer1.0`` at depth 2), keeping order.

    Each group's params and MACs are the sums of its rows, so any depth adds up to the same totals. ``kinds``
    names the type of a group (``{"layer1.0": "Bottleneck"}``); groups it does not name are "Sequential".
    """
    depth = check.int_at_least("depth", depth, 1)
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = ".".join(row.name.split(".")[:depth])
        group = groups.get(key)
        if group is None:
            kind = type(row.layer).__name__ if key == row.name else (kinds or {}).get(key, "Sequential")
            group = groups[key] = {
                "name": key,
                "type": kind,
                "input_shape": list(row.input_shape),
                "output_shape": list(row.output_shape),
                "params": 0,
                "macs": 0,
            }
        group["params"] += row.params
        group["macs"] += row.macs
        group["output_shape"] = list(row.output_shape)
    return list(groups.values())


def sum_side_counts(rows: Iterable[LayerRow]) -> dict[str, int]:
    """Add up :func:`verifier.layers.side_counts` over rows; every quantity is present (zero when absent)."""
    totals = dict.fromkeys(SIDE_COUNTS, 0)
    for row in rows:
        for kind, count in side_counts(row.layer, row.input_shape, row.output_shape).items():
            totals[kind] += count
    return totals


def shape_text(shape: Iterable[int]) -> str:
    """``1x64x56x56``: a shape as the tables print it."""
    return "x".join(str(s) for s in shape)


def layer_report(
    rows: Sequence[LayerRow],
    input_shape: tuple[int, ...],
    *,
    label: str,
    variant: str | None,
    param_count: int,
    depth: int | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Report:
    """The per-layer table, the totals and what lies beyond the MACs, for a model's ``rows``.

    Rows are grouped to ``depth`` dotted name parts (every layer by default).

    ``param_count`` is the model's own count: the report's check "layer params add up" compares the rows
    with it. ``data`` holds what ``verifier count --json`` prints under the same keys.
    """
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise VerifierError(f"--depth must be a positive int, got {depth!r}")
    leaves = max(row.name.count(".") + 1 for row in rows)
    groups = group_rows(rows, depth or leaves, kinds)
    params = sum(r.params for r in rows)
    macs = sum(r.macs for r in rows)
    buffers = sum(r.layer.buffer_count for r in rows if isinstance(r.layer, BatchNorm2d))
    side = sum_side_counts(rows)
    extra = beyond_macs(side)
    checks: dict[str, bool] = {
        "layer params add up": sum(g["params"] for g in groups) == params == param_count,
        "layer MACs add up": sum(g["macs"] for g in groups) == macs,
    }
    data: dict[str, Any] = {
        "model": label,
        "variant": variant,
        "input_shape": list(input_shape),
        "output_shape": list(rows[-1].output_shape),
        "params": params,
        "buffers": buffers,
        "macs": macs,
        "flops": 2 * macs,
        "beyond_macs": extra,
        "side_counts": side,
        "layers": [{**g, "share_of_macs": g["macs"] / macs if macs else 0.0} for g in groups],
        "checks": checks,
    }
    title = f"verifier count {label}{f' ({variant})' if variant else ''}: input {shape_text(input_shape)}"
    report = Report(title, ok=all(checks.values()), data=data)
    report.add(
        "A multiply-add (MAC) counts once, as in the ResNet paper and torchvision; FLOPs = 2 x MACs. The MAC column "
        "counts the products of the convs and the classifier only; what BatchNorm, ReLU, pooling, the residual "
        "additions and biases would add is listed separately below."
    )
    report.add(
        Table(
            ["layer", "type", "output", "params", "MACs"],
            [[g["name"], g["type"], shape_text(g["output_shape"]), g["params"], g["macs"]] for g in groups],
        )
    )
    totals = [
        ["parameters (learned)", params],
        ["BatchNorm running statistics (buffers)", buffers],
        ["multiply-adds (MACs)", macs],
        ["FLOPs = 2 x MACs", 2 * macs],
    ]
    report.add(Table(["total", "count"], totals))
    report.add(
        Table(
            ["not in the MAC count", "operations", "what is counted"],
            [[key, extra[key], text] for key, _, text in BEYOND_MACS],
        )
    )
    return report
