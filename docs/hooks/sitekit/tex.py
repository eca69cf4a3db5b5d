"""LaTeX for the pages: display blocks with ``$$`` on lines of their own, inline math, numbers."""

from __future__ import annotations

from collections.abc import Iterable


def display(*lines: str) -> str:
    """A display-math block: one formula, or several lines stacked with ``\\\\`` (aligned at ``&`` when
    the lines have one, centred otherwise)."""
    env = "aligned" if all("&" in line for line in lines) else "gathered"
    body = lines[0] if len(lines) == 1 else f"\\begin{{{env}}}\n" + " \\\\\n".join(lines) + f"\n\\end{{{env}}}"
    if "\n\n" in body:
        raise ValueError("a display formula may not contain a blank line (Markdown would split it)")
    return f"\n$$\n{body}\n$$\n"


def inline(latex: str) -> str:
    """Inline math for Markdown text."""
    if "$" in latex or "\n" in latex:
        raise ValueError(f"inline math may hold no $ and no newline: {latex!r}")
    return f"${latex}$"


def num(value: int) -> str:
    """An integer with thin-space thousands separators, for use inside math."""
    return f"{value:,}".replace(",", "{,}")


def aligned(rows: Iterable[tuple[str, str]]) -> str:
    """``lhs &= rhs`` rows as one display block."""
    return display(*(f"{lhs} &= {rhs}" for lhs, rhs in rows))


def notation(latex: str) -> str:
    """The engine's symbol names in the site's notation: a 1×1 conv's weight ``w_{o,i,0,0}`` is written
    ``w_{o,i}`` and an input value ``x_{i,h,w}`` is written ``x_i(h,w)`` (map i at pixel (h, w))."""
    import re

    latex = re.sub(r"w_\{(\d+),(\d+),0,0\}", r"w_{\1,\2}", latex)
    return re.sub(r"x_\{(\d+),(\d+),(\d+)\}", r"x_{\1}(\2,\3)", latex)
