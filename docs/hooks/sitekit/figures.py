"""Figures as inline SVG, byte-for-byte reproducible: a fixed hash salt, no date, text drawn as paths."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

PALETTE = {
    "ink": "#263238",
    "muted": "#78909c",
    "wide": "#3f51b5",  # 256-map tensors (Material indigo)
    "narrow": "#ff7043",  # 64-map tensors (Material deep orange)
    "accent": "#009688",
    "grid": "#eceff1",
}


def configure() -> None:
    """Settings every figure shares; called once when the build starts."""
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "verifier-docs",
            "svg.fonttype": "path",  # no font files to fetch: glyphs are outlines
            "font.family": "DejaVu Sans",
            "font.size": 11,
            "axes.edgecolor": PALETTE["muted"],
            "axes.labelcolor": PALETTE["ink"],
            "axes.titlesize": 12,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "xtick.color": PALETTE["ink"],
            "ytick.color": PALETTE["ink"],
            "text.color": PALETTE["ink"],
            "figure.dpi": 100,
            "path.simplify": False,
        }
    )


def svg(fig: Any, caption: str, *, alt: str | None = None) -> str:
    """The figure as a ``<figure>`` holding inline SVG and a caption (Markdown-free HTML); closes ``fig``."""
    configure()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None}, transparent=False)
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    label = html.escape(alt or caption, quote=True)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return f'<figure class="vf-figure">\n{text.strip()}\n<figcaption>{caption}</figcaption>\n</figure>\n'
