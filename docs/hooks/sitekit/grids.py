"""Feature maps as HTML grids of numbers, and the drawing of one 1×1 filter over a stack of maps.

The numbers come from :mod:`sitekit.worked`; these functions only lay them out (text a reader can select, and
a test can read).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from .worked import Example, number


def grid(values: Any, name: str, *, mark: tuple[int, int] | None = None, kind: str = "in") -> str:
    """One map as a grid of its numbers, titled ``name`` (HTML allowed), with pixel ``mark`` outlined."""
    rows = [list(r) for r in values]
    cells = []
    for h, row in enumerate(rows):
        for w, v in enumerate(row):
            cls = "vf-cell vf-mark" if mark == (h, w) else "vf-cell"
            cells.append(f'<span class="{cls}">{number(int(v))}</span>')
    return (
        f'<div class="vf-map vf-{kind}"><div class="vf-map-name">{name}</div>'
        f'<div class="vf-grid" style="--cols: {len(rows[0])}">{"".join(cells)}</div></div>'
    )


def maps(values: Sequence[Any], letter: str, *, mark: tuple[int, int] | None = None, kind: str = "in") -> str:
    """A row of maps named ``letter``_0, ``letter``_1, ..."""
    inner = "".join(grid(v, f"{letter}<sub>{k}</sub>", mark=mark, kind=kind) for k, v in enumerate(values))
    return f'<div class="vf-maps">{inner}</div>'


def weight_table(ex: Example) -> str:
    """The weights as a table: one row per filter (output map), one column per input map."""
    c_out, c_in = ex.w.shape
    head = "".join(f"<th>input map {i}</th>" for i in range(c_in))
    body = "".join(
        f"<tr><th>filter {o} → output map {o}</th>"
        + "".join(f"<td>{number(int(ex.w[o, i]))}</td>" for i in range(c_in))
        + "</tr>"
        for o in range(c_out)
    )
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"


def filter_over_stack(ex: Example, o: int, pixel: tuple[int, int]) -> str:
    """One 1×1×C_in filter over the stack of input maps: at ``pixel`` it takes one number from every input map,
    multiplies each by its own weight, and adds the products into one number of output map ``o``."""
    h, w = pixel
    c_in = ex.conv.in_channels
    label = html.escape(f"filter {o} (1×1×{c_in})")
    cells = [
        '<span class="vf-stack-head">input maps, pixel outlined</span>'
        f'<span class="vf-stack-head vf-filter-head">{label}</span>'
        '<span class="vf-stack-head">products</span>'
    ]
    for i, wt, xv in ex.terms(o, h, w):
        cells.append(
            grid(ex.x[i], f"x<sub>{i}</sub>", mark=pixel)
            + f'<span class="vf-filter-cell" title="weight w_{{{o},{i}}}">× {number(wt)}</span>'
            + f'<span class="vf-product">{number(wt)} × {number(xv, paren=True)} = {number(wt * xv)}</span>'
        )
    total = number(int(ex.y[o, h, w]))
    return (
        '<figure class="vf-figure vf-stack-figure"><div class="vf-stack">'
        f'<div class="vf-stack-grid">{"".join(cells)}</div>'
        f'<div class="vf-stack-sum"><span class="vf-arrow">add the {c_in} products ↓</span>'
        f'<span class="vf-product">{ex.arithmetic(o, h, w)}</span>'
        + grid(ex.y[o], f"output map y<sub>{o}</sub>", mark=pixel, kind="out")
        + "</div></div>"
        f"<figcaption>Filter {o} at pixel ({h}, {w}): the outlined number of every input map times its weight, "
        f"then all {c_in} products added, gives the outlined number {total} of output map {o}. The filter is "
        f"1×1 in space (one pixel) and {c_in} deep (one weight per input map): the column of weights in the "
        "middle.</figcaption></figure>"
    )
