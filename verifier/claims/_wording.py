"""Sentences built from what a check found: counts first, conclusions only where the counts support them."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["counted", "how_many"]


def how_many(values: Iterable[int], total: int, noun: str) -> str:
    """'all 256 input maps', or what was found instead ('between 3 and 256 of the 256 input maps').

    >>> how_many([256, 256], 256, "input maps"), how_many([3, 256], 256, "input maps")
    ('all 256 input maps', 'between 3 and 256 of the 256 input maps')
    """
    found = sorted(set(values))
    if found == [total]:
        return f"all {total:,} {noun}"
    if len(found) == 1:
        return f"{found[0]:,} of the {total:,} {noun}"
    return f"between {found[0]:,} and {found[-1]:,} of the {total:,} {noun}"


def counted(values: Iterable[int], noun: str) -> str:
    """'exactly 1 weight' when every case gave one value, else the values seen.

    >>> counted([1, 1], "weight"), counted([1, 2], "weight")
    ('exactly 1 weight', '1, 2 weights (differing between cases)')
    """
    found = sorted(set(values))
    if len(found) == 1:
        (n,) = found
        return f"exactly {n:,} {noun}{'' if n == 1 else 's'}"
    return f"{', '.join(map(str, found))} {noun}s (differing between cases)"
