"""Proofs that the fast symbol tensors are SymPy's: same symbols, same array, same answers to any index.

The tensors skip SymPy's constructors for speed (symbols that share one assumptions record, arrays stored
without re-sympifying, integer indexing straight into the flat list). Each shortcut is compared here with
the object SymPy itself builds, so a shortcut that drifts from it fails.
"""

from __future__ import annotations

import re
from itertools import product
from typing import Any

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import Conv2d, VerifierError, VerifierTypeError
from verifier import symbolic as sym
from verifier.symbolic.tensors import symbol_grid


def _sympy_array(name: str, shape: tuple[int, ...]) -> sp.ImmutableDenseNDimArray:
    flat = [sp.Symbol(f"{name}_{{{','.join(map(str, idx))}}}") for idx in product(*map(range, shape))]
    return sp.ImmutableDenseNDimArray(flat, shape)


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 1, 3), (1, 2, 2, 2)])
def test_a_symbol_grid_is_sympys_array_in_every_respect(shape: tuple[int, ...]) -> None:
    ours, theirs = symbol_grid("q", shape), _sympy_array("q", shape)
    assert ours == theirs and ours.args == theirs.args and ours.shape == theirs.shape
    assert ours.func(*ours.args) == ours  # SymPy's rebuilding invariant
    assert len(ours) == len(theirs) and ours.rank() == theirs.rank()
    assert list(ours) == list(theirs) and ours.tolist() == theirs.tolist()
    assert ours.subs(sp.Symbol(f"q_{{{','.join('0' * len(shape))}}}"), 7) == theirs.subs(theirs[(0,) * len(shape)], 7)


@pytest.mark.parametrize(
    "index",
    [
        (0, 0),
        (1, 2),
        (-1, -1),
        (1, -3),
        (sp.Integer(1), 1),
        (0, sp.Integer(2)),
        (slice(None), 1),
        (1, slice(0, 2)),
        (0,),
        0,
        1,
        -1,
    ],
)
def test_any_index_gives_what_sympy_gives(index: Any) -> None:
    ours, theirs = symbol_grid("q", (2, 3)), _sympy_array("q", (2, 3))
    assert ours[index] == theirs[index]


@pytest.mark.parametrize("index", [(0, 3), (2, 0), (2, 3), (1, -4)])
def test_an_index_past_the_end_is_refused_as_sympy_refuses_it(index: tuple[int, int]) -> None:
    ours, theirs = symbol_grid("q", (2, 3)), _sympy_array("q", (2, 3))
    with pytest.raises(ValueError) as sympys:
        theirs[index]
    with pytest.raises(ValueError, match=re.escape(str(sympys.value))):
        ours[index]


@pytest.mark.parametrize("shape", [(), (1,) * 7, (2, 0), "22"])
def test_symbol_grids_take_one_to_six_positive_sizes(shape: Any) -> None:
    with pytest.raises(VerifierError, match=r"^shape"):
        symbol_grid("q", shape)


def test_a_six_dimensional_grid_is_allowed() -> None:
    assert symbol_grid("q", (1, 2, 1, 1, 1, 2)).shape == (1, 2, 1, 1, 1, 2)


def test_a_grid_of_at_most_64_entries_shows_as_sympy_shows_it() -> None:
    for shape in [(3,), (2, 2), (64,), (4, 16)]:
        assert repr(symbol_grid("g", shape)) == repr(_sympy_array("g", shape))


def test_a_larger_grid_shows_its_shape_count_and_end_entries() -> None:
    assert repr(symbol_grid("g", (65,))) == "SymbolArray(shape=(65,), 65 entries: g_{0}, g_{1}, g_{2}, ..., g_{64})"
    assert repr(symbol_grid("v", (5, 13))) == (
        "SymbolArray(shape=(5, 13), 65 entries: v_{0,0}, v_{0,1}, v_{0,2}, ..., v_{4,12})"
    )


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
FAST = settings(max_examples=25, deadline=None)


CONV = Conv2d(2, 3, 1)


@pytest.mark.parametrize("name", ["1x", "x y", "__import__('os')", "x+1", "", "x_1", "w'"])
def test_symbol_names_are_plain_identifiers_only(name: str) -> None:
    message = f"name must be a letter followed by letters or digits, or a LaTeX command like '\\gamma', got {name!r}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        sym.weight_tensor(CONV, name=name)
    with pytest.raises(VerifierError, match=re.escape(message)):
        sym.input_tensor(1, 1, 1, name=name)


@pytest.mark.parametrize("name", [3, None, b"w", ["w"]])
def test_symbol_names_must_be_strings(name: Any) -> None:
    with pytest.raises(VerifierTypeError, match=re.escape(f"name must be a str, got {name!r} ({type(name).__name__})")):
        sym.weight_tensor(CONV, name=name)


@FAST
@given(
    parameter=st.sampled_from(["channels", "height", "width"]),
    value=st.one_of(st.integers(max_value=0), st.floats(), st.booleans(), st.text(max_size=2), st.none()),
)
def test_input_tensor_sizes_must_be_positive_ints(parameter: str, value: Any) -> None:
    sizes: dict[str, Any] = {"channels": 1, "height": 1, "width": 1, parameter: value}
    with pytest.raises(VerifierError) as info:
        sym.input_tensor(**sizes)
    assert str(info.value).startswith(f"{parameter} must be a positive int, got {value!r}")


# -- names are matched whole ------------------------------------------------------------------------------------
@FAST
@given(
    name=st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,4}", fullmatch=True), st.sampled_from(["\\gamma", "\\beta"])),
    tail=st.sampled_from(["\n", " ", "\t", "\r\n", "\x00", "_"]),
)
def test_a_name_with_anything_after_it_is_refused(name: str, tail: str) -> None:
    assert sym.input_tensor(1, 1, 1, name=name)[0, 0, 0] == sp.Symbol(f"{name}_{{0,0,0}}")
    with pytest.raises(VerifierError, match=re.escape(f"got {name + tail!r}")):
        sym.input_tensor(1, 1, 1, name=name + tail)
