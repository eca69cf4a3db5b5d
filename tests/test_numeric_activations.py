"""Proofs about relu (verifier/numeric/activations.py): max(0, x) on every dtype, rank and layout, in place or not."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from _arrays import pretend_available
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerifierError, VerifierTypeError
from verifier.numeric import activations, reference, relu


def test_relu_equals_the_loops_and_works_in_place() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    expected = np.array(reference.relu(x.tolist()), dtype=np.float32)
    np.testing.assert_array_equal(relu(x), expected)
    same = relu(x, inplace=True)
    assert same is x
    np.testing.assert_array_equal(x, expected)
    strided = rng.standard_normal((4, 6))[:, ::2]
    np.testing.assert_array_equal(relu(strided), np.maximum(strided, 0))


FAST = settings(max_examples=30, deadline=None)


@pytest.mark.parametrize("inplace", [1, 0, None, "yes"])
def test_relu_inplace_must_be_a_bool(inplace: Any) -> None:
    with pytest.raises(VerifierTypeError, match=re.escape(f"inplace must be True or False, got {inplace!r}")):
        relu(np.ones(2), inplace=inplace)


@pytest.mark.parametrize("dtype", [np.complex128, np.str_, np.float16, np.bool_], ids=str)
def test_relu_refuses_unsupported_dtypes(dtype: Any) -> None:
    x = np.ones(2).astype(dtype)
    with pytest.raises(VerifierTypeError, match=re.escape(f"input has dtype {x.dtype}; allowed")):
        relu(x)


@FAST
@given(values=st.lists(st.integers(-5, 5), min_size=1, max_size=8), inplace=st.booleans())
def test_relu_is_max_with_zero_on_every_dtype(values: list[int], inplace: bool) -> None:
    expected = [max(v, 0) for v in values]
    for dtype in (np.int64, np.float32, np.float64, object):
        x = np.array(values, dtype=dtype)
        out = relu(x, inplace=inplace)
        assert out.tolist() == expected and out.dtype == x.dtype
        assert (out is x) == inplace


@pytest.mark.parametrize("shape", [(5,), (2, 3), (1, 2, 3), (3, 2, 5), (2, 3, 4, 5)], ids=lambda s: f"{len(s)}-D")
@pytest.mark.parametrize("layout", ["contiguous", "strided", "transposed"])
def test_relu_of_every_rank_and_layout_is_max_with_zero(shape: tuple[int, ...], layout: str) -> None:
    rng = np.random.default_rng(len(shape))
    base = rng.standard_normal(tuple(2 * n for n in shape) if layout == "strided" else shape)
    x = base[tuple(slice(None, None, 2) for _ in shape)] if layout == "strided" else base
    x = x.T if layout == "transposed" else x
    expected = np.where(x > 0, x, 0.0)
    before = x.copy()
    out = relu(x)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(x, before)  # not in place unless asked
    assert out.shape == x.shape and out is not x
    y = x.copy()
    assert relu(y, inplace=True) is y
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, object])
@pytest.mark.parametrize("inplace", [False, True])
def test_relu_of_a_zero_dimensional_array(dtype: Any, inplace: bool) -> None:
    if inplace and np.dtype(dtype).kind != "f":
        return
    for value, expected in ((-1.5, 0), (2.5, 2.5)):
        x = np.array(value if np.dtype(dtype).kind == "f" else int(value), dtype=dtype)
        out = relu(x, inplace=inplace)
        assert out.shape == () and out == (expected if np.dtype(dtype).kind == "f" else int(expected))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 3), (1, 2, 0, 4), (3, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, object])
def test_relu_of_an_empty_array_is_an_empty_array_of_its_shape(shape: tuple[int, ...], dtype: Any) -> None:
    for inplace in (False, True):
        out = relu(np.zeros(shape, dtype), inplace=inplace)
        assert out.shape == shape and out.dtype == np.dtype(dtype) and out.size == 0


@pytest.mark.parametrize("dtype", [np.float32, np.int64, object])
def test_relu_inplace_refuses_what_it_cannot_overwrite_and_overwrites_the_rest(dtype: Any) -> None:
    x = np.array([-1, 2, -3], dtype)
    x.flags.writeable = False
    with pytest.raises(VerifierError, match=re.escape("inplace=True needs a writeable NumPy array to overwrite")):
        relu(x, inplace=True)
    with pytest.raises(VerifierError, match="got a list"):
        relu([-1.0, 2.0], inplace=True)
    y = np.array([-1, 2, -3], dtype)
    assert relu(y, inplace=True) is y and y.tolist() == [0, 2, 0]
    assert relu(x).tolist() == [0, 2, 0]  # a new array from a read-only one


def test_relu_into_writes_a_strided_destination():
    src = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    dst = np.zeros((2, 7))[:, :3]  # rows 7 apart: no reshape into one row is a view, it would write into a copy
    activations.relu_into(src, dst)
    assert np.array_equal(dst, np.maximum(src, 0))
    out = np.zeros((3, 2))  # the other way round: a strided source
    activations.relu_into(src.T, out)
    assert np.array_equal(out, np.maximum(src.T, 0))


# -- what the mutation run found unguarded ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_keeps_nan_and_infinities_as_torch_does(dtype: Any) -> None:
    out = relu(np.array([np.nan, -np.inf, np.inf, -1.5, 2.5], dtype))
    assert np.isnan(out[0]) and out[1:].tolist() == [0.0, np.inf, 0.0, 2.5]  # torch.relu(nan) is nan, not 0


@pytest.mark.parametrize("dtype", [np.float32, np.int64, object])
def test_relu_of_an_empty_array_is_a_new_array_unless_in_place(dtype: Any) -> None:
    x = np.zeros((2, 0), dtype)
    assert relu(x) is not x and relu(x, inplace=True) is x


def test_relu_in_place_names_what_it_was_given_and_what_to_do_instead() -> None:
    x = np.array([-1.0, 2.0])
    x.flags.writeable = False
    with pytest.raises(VerifierError) as refused:
        relu(x, inplace=True)
    assert str(refused.value) == (
        "inplace=True needs a writeable NumPy array to overwrite, got a read-only float64 array of shape (2,); "
        "pass inplace=False for a new array"
    )

    class Tagged(np.ndarray):  # a writeable subclass: relu works on a plain-array view of it, so not in place
        pass

    with pytest.raises(VerifierError, match=re.escape("got a float64 array of shape (2,); pass inplace=False")):
        relu(np.array([-1.0, 2.0]).view(Tagged), inplace=True)  # writeable: the message does not say read-only


def test_relu_estimates_its_input_and_output_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.broadcast_to(np.float32(-1), (10_000_000,))  # 40 MB seen, 4 bytes stored
    pretend_available(monkeypatch, 110)  # 88 MB usable: input and output (80 MB) fit; three such arrays would not
    assert relu(x).shape == x.shape
    pretend_available(monkeypatch, 90)  # 72 MB usable
    with pytest.raises(VerifierError, match=re.escape("relu on input (10000000,) needs about")):
        relu(x)


def test_relu_in_place_on_floats_needs_no_new_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.full(20_000_000, -1.0, np.float32)  # 80 MB, overwritten where it lies
    pretend_available(monkeypatch, 90)  # 72 MB usable: a second copy would not fit
    assert relu(x, inplace=True) is x and not x.any()


def test_relu_counts_an_object_entry_as_a_pointer_and_a_python_number(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.broadcast_to(np.array(-1, dtype=object), (600_000,))  # 2 x 600,000 entries of 64 bytes: 77 MB
    pretend_available(monkeypatch, 80)  # 67 MB usable; at 8 bytes an entry (the pointer alone) it would seem to fit
    with pytest.raises(VerifierError, match=re.escape("relu on input (600000,) needs about")):
        relu(x)
