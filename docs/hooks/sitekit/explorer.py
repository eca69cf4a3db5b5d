"""The data of the interactive 1×1 convolution: every number and label it shows, computed here at build time.

``docs/javascripts/explorer.js`` only lays this data out and reacts to clicks and keys: it computes nothing and
holds no number or label of its own. The small layers come from :mod:`sitekit.worked` (engine and derivation
checked equal); the 256 -> 64 figures come from :mod:`verifier.spec`.
"""

from __future__ import annotations

import html
import json
from typing import Any

from verifier.spec import Bottleneck

from . import worked
from .worked import Example, number

_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉‚")


def _sub(text: str) -> str:
    """Subscript digits: the notation's w_{o,i} and x_i in plain text (w₀‚₁, x₁)."""
    return text.translate(_SUB)


def _grid(values: Any) -> list[list[str]]:
    return [[number(int(v)) for v in row] for row in values]


def _case(kind: str, ex: Example) -> dict[str, Any]:
    c_out, c_in = ex.w.shape
    height, width = ex.size
    products = ex.products()
    r = c_out
    sums = [[[ex.arithmetic(o, h, w) for w in range(width)] for h in range(height)] for o in range(c_out)]
    return {
        "id": f"{c_in}to{c_out}",
        "button": f"{c_in} maps → {c_out} ({kind})",
        "inputs": [{"label": f"input map {i}, x{_sub(str(i))}", "values": _grid(ex.x[i])} for i in range(c_in)],
        "filters": [
            {
                "label": f"filter {o}",
                "weights": [number(int(ex.w[o, i])) for i in range(c_in)],
                "titles": [f"w{_sub(f'{o},{i}')}: weight of filter {o} on input map {i}" for i in range(c_in)],
            }
            for o in range(c_out)
        ],
        "outputs": [{"label": f"output map {o}", "values": _grid(ex.y[o])} for o in range(c_out)],
        "pixels": [[f"pixel ({h}, {w})" for w in range(width)] for h in range(height)],
        "sums": sums,
        "sumLead": [
            [
                [f"output map {o} at pixel ({h}, {w}) reads all {c_in} input maps there:" for w in range(width)]
                for h in range(height)
            ]
            for o in range(c_out)
        ],
        "products": [
            [{"label": f"w{_sub(f'{o},{i}')} · x{_sub(str(i))}", "values": _grid(products[o, i])} for i in range(c_in)]
            for o in range(c_out)
        ],
        "productRows": [f"filter {o}" for o in range(c_out)],
        "productArrow": f"add these {c_in} →",
        "askerNote": (
            f"The asker's picture: {c_in} × {c_out} = {c_in * c_out} product maps, each weight times its whole "
            f"input map. They are the output of a different layer, a depthwise convolution (each input map read "
            f"on its own) with multiplier r = {r}, which has {c_in} × {r} = {c_in * r} maps. The 1×1 "
            f"convolution adds each filter's {c_in} products into one map: {c_out} maps."
        ),
        "layerNote": (
            f"The layer: {c_out} filters, each a column of {c_in} weights, one per input map. Each filter makes "
            f"one output map; select an output map to see the filter and the input maps it reads."
        ),
    }


def _aggregate() -> dict[str, Any]:
    conv = dict(Bottleneck().convs())["conv1"]
    c_in, c_out = conv.in_channels, conv.out_channels
    return {
        "id": "full",
        "button": f"{c_in} → {c_out} (the thread's layer)",
        "rows": [
            ["input maps", f"{c_in:,}"],
            ["filters (one per output map)", f"{c_out:,}"],
            ["weights in one filter (one per input map)", f"{conv.weight_shape[1]:,}"],
            ["weights in the layer", f"{c_out:,} × {c_in:,} = {conv.weight_count:,}"],
            ["products at each pixel", f"{c_in:,} × {c_out:,} = {c_in * c_out:,}"],
            [f"maps of the asker's picture (depthwise, r = {c_out})", f"{c_in * c_out:,}"],
            ["output maps: each filter's products added", f"{c_out:,}"],
        ],
        "note": (
            f"Too many to draw: the same layer at the thread's size, in counts. Each of the {c_out} output maps "
            f"adds {c_in} products at every pixel."
        ),
    }


def data() -> dict[str, Any]:
    """Everything the explorer shows."""
    cases = [_case("squeeze", worked.four_to_two()), _case("expand", worked.two_to_four())]
    return {
        "labels": {
            "size": "Layer",
            "view": "Show the asker's picture",
            "inputs": "input maps",
            "filters": "filters (one weight per input map)",
            "outputs": "output maps: select one",
            "keys": "Keys: Tab to a button, Enter or Space to press it; arrow keys move the pixel.",
        },
        "initial": {"case": cases[0]["id"], "output": 0, "pixel": [0, 0]},
        "cases": cases,
        "aggregate": _aggregate(),
    }


def html_block() -> str:
    """The explorer's root element with its data embedded; the script turns it into the interactive figure."""
    payload = json.dumps(data(), ensure_ascii=False).replace("</", "<\\/")
    fallback = html.escape("The interactive convolution needs JavaScript; the worked example shows the same sums.")
    return (
        '<div class="vf-explorer" data-explorer>'
        f'<script type="application/json" class="vf-explorer-data">{payload}</script>'
        f'<p class="vf-explorer-fallback">{fallback}</p></div>'
    )
