"""Proofs about the rank modulo a prime and the Jacobian, against SymPy's exact rank and derivatives.

The matrices here are chosen for the paths of the elimination: pivots that are not on top (permutations, zero
leading entries), empty matrices, entries past the int64 fast path, and maps that miss some variables.
"""

from __future__ import annotations

import re
from itertools import permutations
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerifierError
from verifier import symbolic as sym
from verifier.symbolic import jacobian, rank_lower_bound
from verifier.symbolic.linalg import PRIME


def _permutation(order: tuple[int, ...]) -> list[list[int]]:
    return [[1 if j == i else 0 for j in range(len(order))] for i in order]


@pytest.mark.parametrize("order", list(permutations(range(4))))
def test_every_permutation_matrix_has_full_rank(order: tuple[int, ...]) -> None:
    assert rank_lower_bound(_permutation(order)) == 4
    assert rank_lower_bound(np.array(_permutation(order), dtype=object)) == 4


@pytest.mark.parametrize("seed", range(40))
def test_sparse_matrices_have_sympys_rank(seed: int) -> None:
    # entries in {-1, 0, 1}, mostly 0, so most pivots sit below the diagonal; every minor of a matrix this small
    # is below the prime in size, so the rank modulo the prime is the rational rank
    rng = np.random.default_rng(seed)
    rows, cols = (int(n) for n in rng.integers(1, 7, 2))
    matrix = rng.choice([-1, 0, 0, 0, 1], size=(rows, cols))
    expected = sp.Matrix(matrix.tolist()).rank()
    assert rank_lower_bound(matrix) == expected
    assert rank_lower_bound(matrix.astype(object)) == expected
    assert rank_lower_bound(sp.Matrix(matrix.tolist())) == expected


@pytest.mark.parametrize(
    ("rows", "rank"),
    [
        ([[0, 0, 1], [0, 1, 0], [1, 0, 0]], 3),
        ([[0, 1], [0, 2], [1, 0]], 2),
        ([[0, 0], [0, 3], [5, 0]], 2),
        ([[0, 0, 0], [0, 0, 2], [0, 0, 4], [0, 3, 1]], 2),
        ([[0, 2, 4], [0, 1, 2], [1, 0, 0]], 2),
    ],
)
def test_pivots_below_the_top_row_are_found(rows: list[list[int]], rank: int) -> None:
    assert sp.Matrix(rows).rank() == rank
    assert rank_lower_bound(rows) == rank


@pytest.mark.parametrize(
    "matrix",
    [sp.zeros(0, 3), sp.zeros(3, 0), np.zeros((0, 3), dtype=np.int64), np.zeros((3, 0), dtype=np.int64)],
    ids=["sympy-0x3", "sympy-3x0", "numpy-0x3", "numpy-3x0"],
)
def test_a_matrix_without_rows_or_columns_has_rank_zero(matrix: object) -> None:
    assert rank_lower_bound(matrix) == 0


def test_unsigned_entries_beyond_int64_keep_their_residues() -> None:
    # rows (b + p, b) and (1, 1): independent over the rationals, proportional modulo p, so the bound is 1;
    # b + p needs the 64th bit, so reading it as a signed int64 would shift its residue and give 2
    b = 2**63 - 5
    matrix = np.array([[b + PRIME, b], [1, 1]], dtype=np.uint64)
    assert rank_lower_bound(matrix) == 1
    assert rank_lower_bound(matrix.astype(object)) == 1
    assert rank_lower_bound([[b + 1 + PRIME, b], [1, 1]]) == 2


def test_the_most_negative_int64_is_read_exactly() -> None:
    low = -(2**63)  # its absolute value does not fit in int64
    matrix = np.array([[low, low % PRIME], [1, 1]], dtype=np.int64)
    assert rank_lower_bound(matrix) == 1  # low and its residue are the same modulo p
    assert rank_lower_bound(matrix.astype(object)) == 1


@pytest.mark.parametrize(("value", "shown"), [(0.5, "0.5"), (sp.Rational(1, 3), "1/3"), (2.25, "2.25")])
def test_a_non_integer_entry_is_named_in_the_error(value: object, shown: str) -> None:
    with pytest.raises(
        VerifierError, match=re.escape(f"rows must be a 2-D matrix of integers: {shown} is not an integer")
    ):
        rank_lower_bound([[1, value], [0, 1]])


def test_a_jacobian_has_zeros_for_the_variables_a_map_does_not_use() -> None:
    x, y, z, a = sp.symbols("x y z a")
    maps = [a * x + 3, 2 * y - z, sp.Integer(7), x]
    variables = [x, y, z]
    expected = sp.Matrix([[a, 0, 0], [0, 2, -1], [0, 0, 0], [1, 0, 0]])
    assert jacobian(maps, variables) == expected == sp.Matrix(maps).jacobian(variables)
    assert all(isinstance(entry, sp.Expr) for entry in jacobian(maps, variables))


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
FAST = settings(max_examples=25, deadline=None)


def test_rank_input_must_be_a_2d_integer_matrix() -> None:
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers: invalid literal")):
        sym.rank_lower_bound([["a"]])
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers, got 3 dimensions")):
        sym.rank_lower_bound([[[1]]])
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers, got 1 dimensions")):
        sym.rank_lower_bound([])


@FAST
@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 5),
    rank=st.integers(0, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_rank_modulo_a_prime_equals_sympys_rational_rank_on_small_matrices(
    rows: int, cols: int, rank: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    k = min(rank, rows, cols)
    matrix = rng.integers(-9, 10, (rows, k)) @ rng.integers(-9, 10, (k, cols)) if k else np.zeros((rows, cols), int)
    assert sym.rank_lower_bound(matrix) == sp.Matrix(matrix.tolist()).rank()
    assert sym.rank_lower_bound(matrix.tolist()) == sym.rank_lower_bound(matrix.astype(object))


@pytest.mark.parametrize("rows", [[[0.5]], [[1, 2], [3.25, 4]], [["2"]], [[sp.Rational(1, 2)]]])
def test_rank_refuses_non_integers_instead_of_truncating_them(rows: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers: ")):
        sym.rank_lower_bound(rows)


def test_rank_accepts_integers_in_any_clothing() -> None:
    assert sym.rank_lower_bound([[2.0, 4.0], [1.0, 2.0]]) == 1
    assert sym.rank_lower_bound(sp.Matrix([[1, 0], [0, 1]])) == 2
    assert sym.rank_lower_bound([[sp.Integer(3), 0], [0, 10**30]]) == 2


def test_a_ragged_matrix_is_refused_with_the_projects_error() -> None:
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers: ")):
        sym.rank_lower_bound([[1, 2], [3]])
