"""What conv2d decides before it computes: the scheme, the dtype, the checks it needs and its memory.

These are the engine's speed promises (a float 1x1 conv is one matrix product on a view of the input,
and the smaller array is read once for NaN), pinned by watching what a call allocates and reads, and
its exactness promises at the int64 boundary, pinned with kernels that are not square.
"""

from __future__ import annotations

import tracemalloc
from typing import ClassVar

import numpy as np
import pytest

import verifier.numeric.conv as conv_module
from verifier import VerifierError
from verifier.numeric import _guards, activations, conv2d


def _scheme(x, w, stride=1, padding=0, dilation=1, groups=1):
    return _guards.conv_plan(x, w, None, (stride, padding, dilation, groups), conv_module._scheme).scheme.func


@pytest.mark.parametrize(
    "dtype, kernel, stride, padding, expected",
    [
        (np.float32, 1, 1, 0, conv_module._conv1x1),
        (np.float64, 1, 1, 0, conv_module._conv1x1),
        (np.float32, 1, 1, 1, conv_module._conv_shifted),  # padded: the zero border needs the padded image
        (np.float32, 1, 2, 0, conv_module._conv_im2col),  # strided: no shifted views
        (np.float32, 3, 1, 1, conv_module._conv_shifted),
        (np.float32, 3, 2, 1, conv_module._conv_im2col),
        (np.int64, 1, 1, 0, conv_module._conv_im2col),  # exact data: NumPy's own loops, never BLAS
        (object, 3, 1, 1, conv_module._conv_im2col),
    ],
)
def test_each_conv_runs_the_scheme_its_shape_and_dtype_call_for(dtype, kernel, stride, padding, expected):
    x = np.ones((1, 4, 6, 6), dtype)
    w = np.ones((2, 4, kernel, kernel), dtype)
    assert _scheme(x, w, stride, padding) is expected


def test_a_float_1x1_conv_allocates_its_output_and_no_copy_of_the_input():
    x = np.ones((1, 64, 64, 64), np.float32)  # 1 MiB
    w = np.ones((8, 64, 1, 1), np.float32)  # 2 KiB
    conv2d(x, w)  # the plan is made once, outside the measurement
    tracemalloc.start()
    try:
        out = conv2d(x, w)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.nbytes <= peak < out.nbytes + 64 * 1024  # 128 KiB of output, far below another MiB


def test_the_input_is_read_for_nan_only_when_the_output_cannot_vouch_for_it(monkeypatch):
    read = []
    original = conv_module.finite_norm
    monkeypatch.setattr(conv_module, "finite_norm", lambda name, arr: read.append(name) or original(name, arr))
    cases = [
        ((1, 16, 8, 8), (4, 16, 1, 1), 1, ["weight"]),  # 16 -> 4 maps: the output is smaller and reads it all
        ((1, 4, 8, 8), (16, 4, 1, 1), 1, ["weight", "input"]),  # 4 -> 16: the input is the smaller array
        ((1, 16, 8, 8), (4, 16, 1, 1), 2, ["weight", "input"]),  # strided: pixels no output reads
    ]
    for xshape, wshape, stride, expected in cases:
        read.clear()
        conv2d(np.ones(xshape), np.ones(wshape), stride=stride)
        assert read == expected


def test_a_repeated_call_reuses_its_plan_and_a_changed_one_does_not(monkeypatch):
    _guards._PLANS.clear()
    made = []
    original = _guards.conv_spec
    monkeypatch.setattr(_guards, "conv_spec", lambda *a: made.append(a) or original(*a))
    x, w = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3))
    first = conv2d(x, w, padding=1)
    assert np.array_equal(conv2d(x, w, padding=1), first) and len(made) == 1
    assert np.array_equal(conv2d(x, w, padding=(1, 1)), first) and len(made) == 2  # a new signature: checked
    conv2d(x.astype(np.float32), w.astype(np.float32), padding=1)
    conv2d(x[:, :, :4], w, padding=1)
    assert len(made) == 4


def test_the_memory_of_plans_stays_small():
    _guards._PLANS.clear()
    w = np.ones((1, 1, 1, 1))
    for size in range(1, 300):
        conv2d(np.ones((1, 1, 1, size)), w)
        assert 0 < len(_guards._PLANS) <= 256


def test_an_option_that_cannot_be_remembered_is_checked_every_time():
    x, w = np.ones((1, 2, 4, 4)), np.ones((2, 2, 1, 1))
    for _ in range(2):
        with pytest.raises(VerifierError, match=r"stride must be a positive int or a pair of them, got array"):
            conv2d(x, w, stride=np.array([1, 1]))
        with pytest.raises(VerifierError, match=r"padding must be an int >= 0 or a pair of them, got \{0\}"):
            conv2d(x, w, padding={0})


@pytest.mark.parametrize("small", [np.int8, np.int16, np.uint8])
def test_small_integer_dtypes_compute_in_int64(small):
    x = np.full((1, 2, 3, 3), 100, small)
    w = np.full((1, 2, 1, 1), 100, small)
    out = conv2d(x, w)
    assert out.dtype == np.int64 and (out == 2 * 100 * 100).all()  # 20000 leaves every small dtype
    assert _guards.common_dtype(input=x, weight=w) == np.int64


def test_int64_safety_counts_the_kernels_height_and_width():
    """A 1x4 or 4x1 kernel over one map sums 4 products: 4 * 2**60 fits int64, 4 * 2**61 does not."""
    for kernel in ((1, 4), (4, 1)):
        w = np.full((1, 1, *kernel), 2**30, np.int64)
        out = conv2d(np.full((1, 1, 4, 4), 2**30, np.int64), w)
        assert out.dtype == np.int64 and {int(v) for v in out.ravel()} == {2**62}
        with pytest.raises(VerifierError, match="could overflow int64"):
            conv2d(np.full((1, 1, 4, 4), 2**31, np.int64), w)


def test_the_every_input_rule_for_a_1x1_kernel_ignores_dilation():
    """A 1x1 kernel reads each pixel once whatever its dilation, even a dilation wider than the image."""
    for dilation in (1, 4, 9):
        spec = _guards.conv_spec((1, 1, 3, 3), (1, 1, 1, 1), None, 1, 0, dilation, 1)
        assert _guards._reads_every_input(spec, 3, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_constant_rows_are_read_only_and_of_their_dtype(dtype):
    code = np.dtype(dtype).str
    for row, value in ((_guards.constant_row(7, code, 1), 1), (activations._zeros(7, code), 0)):
        assert row.dtype == dtype and row.shape == (7,) and (row == value).all() and not row.flags.writeable


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sums_take_every_layout_blas_can_read_without_a_copy(dtype):
    arr = np.arange(2 * 3 * 4 * 5, dtype=dtype).reshape(2, 3, 4, 5)
    assert np.array_equal(_guards._row_sums(arr), arr.reshape(6, 20).sum(axis=1))
    assert np.array_equal(_guards._row_sums(arr[0, 0]), arr[0, 0].sum(axis=1))
    strided_rows = arr.reshape(6, 20)[::2, 3:17]  # rows apart, columns adjacent: BLAS's leading dimension
    assert np.array_equal(_guards._row_sums(strided_rows), strided_rows.sum(axis=1))
    assert np.array_equal(_guards._row_sums(arr[0]), arr[0].reshape(3, 20).sum(axis=1))
    assert _guards._row_sums(arr.reshape(6, 20)[:, ::2]) is None  # columns apart
    assert _guards._row_sums(arr[:, :, :, ::2]) is None  # not contiguous
    assert _guards._row_sums(arr.ravel()) is None  # one axis


def test_a_bias_of_another_dtype_is_refused_after_a_good_call_with_the_same_shapes():
    x, w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 1, 1))
    conv2d(x, w, np.ones(3))
    with pytest.raises(VerifierError, match="dtypes differ"):
        conv2d(x, w, np.ones(3, np.float32))


class _Watched(np.ndarray):
    """An array that records calls of its min and max (the exact look that the one-pass check avoids)."""

    looked: ClassVar[list[str]] = []

    def min(self, *args, **kwargs):
        self.looked.append("min")
        return super().min(*args, **kwargs)

    def max(self, *args, **kwargs):
        self.looked.append("max")
        return super().max(*args, **kwargs)


def test_all_finite_reads_a_finite_array_once_and_looks_closer_only_when_the_sums_cannot_decide():
    _Watched.looked = []
    finite = np.arange(24.0).reshape(2, 3, 4).view(_Watched)
    assert _guards.all_finite(finite) and _Watched.looked == []
    top = np.finfo(np.float64).max
    overflowing = np.array([[0.75 * top], [0.75 * top]]).view(_Watched)  # rows finite, their total is not
    assert _guards.all_finite(overflowing) and _Watched.looked == ["min", "max"]


def test_relu_into_writes_a_strided_destination():
    src = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    dst = np.zeros((2, 7))[:, :3]  # rows 7 apart: no reshape into one row is a view, it would write into a copy
    activations.relu_into(src, dst)
    assert np.array_equal(dst, np.maximum(src, 0))
    out = np.zeros((3, 2))  # the other way round: a strided source
    activations.relu_into(src.T, out)
    assert np.array_equal(out, np.maximum(src.T, 0))
