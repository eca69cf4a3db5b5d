"""Per-layer count tables of blocks, straight from :meth:`verifier.spec.Bottleneck.rows`."""

from __future__ import annotations

from typing import Any

from verifier.spec import BatchNorm2d, Conv2d

from . import tables


def _what(layer: Any) -> str:
    if isinstance(layer, Conv2d):
        kh, kw = layer.kernel_pair
        extra = f", stride {layer.stride_pair[0]}" if layer.stride_pair != (1, 1) else ""
        return f"{kh}×{kw} conv {layer.in_channels}\u00a0→\u00a0{layer.out_channels}{extra}"
    if isinstance(layer, BatchNorm2d):
        return f"BatchNorm, {layer.num_features} maps"
    return {"ReLU": "ReLU", "Add": "add the shortcut"}.get(type(layer).__name__, type(layer).__name__)


def block_table(block: Any, input_shape: tuple[int, ...]) -> str:
    """Every layer of ``block`` on one image of ``input_shape``: output maps × height × width, parameters,
    multiply-adds, and the totals."""
    if input_shape[0] != 1:
        raise ValueError(f"the tables show one image; got a batch of {input_shape[0]}")
    rows = block.rows(input_shape)
    body: list[list[Any]] = [
        [f"`{row.name}`", _what(row.layer), tables.shape(row.output_shape[1:]), row.params, row.macs] for row in rows
    ]
    body.append(["**total**", "", "", sum(r.params for r in rows), sum(r.macs for r in rows)])
    assert body[-1][3] == block.param_count and body[-1][4] == block.macs(input_shape)
    params = "parameters (conv weights, BatchNorm scale and shift)"
    return tables.markdown(["layer", "what it is", "output (C × H × W)", params, "MACs"], body)
