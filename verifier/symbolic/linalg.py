"""Exact linear algebra for the rank theorems: Jacobians of derived maps and ranks of integer matrices.

Ranks of integer matrices are computed modulo a large prime. A minor that is non-zero modulo p is non-zero
over the rationals, so the rank modulo p is a proven *lower* bound of the rational rank; the theorems pair
it with an upper bound from the shape (a matrix with 64 columns has rank at most 64), which makes it exact.

>>> rank_lower_bound([[1, 2], [2, 4]])
1
>>> rank_lower_bound([[1, 0, 1], [0, 1, 1]])
2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..errors import VerifierError
from .counting import linear_coefficients

__all__ = ["PRIME", "jacobian", "rank_lower_bound"]

PRIME = 2_147_483_647  # 2**31 - 1: products of two residues fit in int64


def _as_int(value: Any) -> int:
    """``value`` as an int if it is one (2, 2.0, Integer(2)); 0.5 or '2' is an error, never truncated."""
    number = int(value)
    if number != value:
        raise ValueError(f"{value!r} is not an integer")
    return number


def rank_lower_bound(rows: Any, prime: int = PRIME) -> int:
    """The rank modulo ``prime`` of an integer matrix: a lower bound of its rank over the rationals.

    >>> rank_lower_bound([[2, 4], [1, 2], [0, 1]])
    2

    Args:
        rows: a 2-D integer matrix (nested lists, NumPy integer or object array, SymPy Integers).
        prime: a prime below 2**31.
    """
    try:
        if isinstance(rows, sp.MatrixBase):  # the list of a matrix without rows is [], so keep its shape apart
            arr = np.array(rows.tolist(), dtype=object).reshape(rows.shape)
        else:
            arr = np.asarray(rows)
    except ValueError as exc:  # ragged rows
        raise VerifierError(f"rows must be a 2-D matrix of integers: {exc}") from None
    if arr.ndim != 2:
        raise VerifierError(f"rows must be a 2-D matrix of integers, got {arr.ndim} dimensions")
    if arr.dtype.kind in "iu" and arr.size and np.abs(arr).max() < 2**62:
        m = np.mod(arr.astype(np.int64), prime)
    else:
        try:
            residues = [[_as_int(v) % prime for v in row] for row in arr.tolist()]
        except (TypeError, ValueError) as exc:
            raise VerifierError(f"rows must be a 2-D matrix of integers: {exc}") from None
        m = np.array(residues, dtype=np.int64).reshape(arr.shape)  # a matrix without rows stays (0, columns)
    rank = 0
    n_rows, n_cols = m.shape
    for col in range(n_cols):
        if rank == n_rows:
            break
        nonzero = np.nonzero(m[rank:, col])[0]
        if nonzero.size == 0:
            continue
        piv = rank + int(nonzero[0])
        if piv != rank:
            m[[rank, piv]] = m[[piv, rank]]
        inv = pow(int(m[rank, col]), prime - 2, prime)
        m[rank, col:] = (m[rank, col:] * inv) % prime
        rows_below = rank + 1 + np.nonzero(m[rank + 1 :, col])[0]  # only rows with a non-zero to clear
        if rows_below.size:
            below = m[rows_below, col][:, None]
            m[rows_below, col:] = (m[rows_below, col:] - (below * m[rank, col:][None, :]) % prime) % prime
        rank += 1
    return rank


def jacobian(maps: Sequence[sp.Expr], variables: Sequence[sp.Symbol]) -> sp.Matrix:
    """The matrix of derivatives d map_r / d variable_c of maps that are linear in ``variables``.

    Coefficients are read off the sums (see :func:`~verifier.symbolic.linear_coefficients`).

    >>> x, y, a = sp.symbols("x y a")
    >>> jacobian([a*x + 1, 2*y], [x, y])
    Matrix([
    [a, 0],
    [0, 2]])
    """
    rows = []
    for expr in maps:
        _, coeffs = linear_coefficients(expr, variables)
        rows.append([coeffs.get(v, sp.Integer(0)) for v in variables])
    return sp.Matrix(rows)
