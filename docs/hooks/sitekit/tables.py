"""Markdown tables from the package's own structures, numbers right-aligned with thousands separators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifier.report import Table


def markdown(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table rendered by :class:`verifier.report.Table` (the CLI's tables use the same code)."""
    return "\n" + Table(list(columns), [list(r) for r in rows]).markdown() + "\n"


def shape(value: Sequence[int]) -> str:
    """(1, 256, 56, 56) written as 1 × 256 × 56 × 56, with no-break spaces so a table never splits it."""
    return "\u00a0×\u00a0".join(str(v) for v in value)
