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
