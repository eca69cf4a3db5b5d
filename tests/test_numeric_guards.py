"""Proofs about conv2d's guards (verifier/numeric/_guards.py): what is refused, and the checks behind it.

Bad input is generated (wrong ranks, channel and bias mismatches, NaN and infinities anywhere, unsupported or
mixed dtypes, sums that would leave int64, sizes that would not fit in memory) and must be refused with the
project's error, naming the argument and the value. The bounds that let conv2d skip a look at its data
(Higham's gamma, the square-sum bound, the every-input rule) are checked against exact arithmetic, and the
plans it remembers must never answer for different arguments.
"""

from __future__ import annotations

import itertools
import math
import re
import tracemalloc
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import pytest
from _arrays import as_object as _as_object
from _arrays import peak_bytes_of_refusal as _peak_bytes
from _arrays import pretend_available
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import verifier.numeric.conv as conv_module
from verifier import VerifierError, VerifierTypeError
from verifier.memory import available_bytes
from verifier.numeric import _guards, activations, batch_norm, conv2d, relu
from verifier.numeric._guards import _reads_every_input, conv_spec


def test_mixed_float_dtypes_are_refused_naming_both() -> None:
    with pytest.raises(VerifierTypeError, match="input is float32, weight is float64"):
        conv2d(np.ones((1, 1, 2, 2), np.float32), np.ones((1, 1, 1, 1), np.float64))


def test_floats_and_exact_numbers_do_not_mix() -> None:
    with pytest.raises(VerifierTypeError, match="input is float64 but weight is int64"):
        conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1), np.int64))


@pytest.mark.parametrize(
    "bad", [np.ones((1, 1, 2, 2), bool), np.ones((1, 1, 2, 2), np.float16), np.ones((1, 1, 2, 2), complex)]
)
def test_unsupported_dtypes_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(VerifierTypeError, match=f"input has dtype {bad.dtype}; allowed: float32, float64"):
        conv2d(bad, np.ones((1, 1, 1, 1)))


def test_object_arrays_must_hold_exact_numbers() -> None:
    x = np.array([[[[1, 0.5]]]], dtype=object)
    with pytest.raises(VerifierTypeError, match=r"input\[0, 0, 0, 1\] is 0.5 \(float\)"):
        conv2d(x, np.ones((1, 1, 1, 1), object))


def test_integer_overflow_is_refused_before_it_wraps() -> None:
    x = np.full((1, 4, 2, 2), 2**40)
    with pytest.raises(VerifierError, match="could overflow int64"):
        conv2d(x, np.full((1, 4, 1, 1), 2**30))
    exact = conv2d(_as_object(x), _as_object(np.full((1, 4, 1, 1), 2**30)))
    assert exact[0, 0, 0, 0] == 4 * 2**70


def test_channel_mismatch_names_both_sides() -> None:
    with pytest.raises(VerifierError, match=r"input has 3 channels but weight expects 64 \(groups=1\)"):
        conv2d(np.ones((1, 3, 8, 8)), np.ones((64, 64, 3, 3)))
    with pytest.raises(VerifierError, match=r"input has 6 channels but weight expects 4 \(groups=2\)"):
        conv2d(np.ones((1, 6, 8, 8)), np.ones((4, 2, 3, 3)), groups=2)


def test_bad_bias_length_groups_and_ranks_are_refused() -> None:
    with pytest.raises(
        VerifierError, match=r"bias must be 1-D with one entry per output channel \(4\), got shape \(3,\)"
    ):
        conv2d(np.ones((1, 2, 4, 4)), np.ones((4, 2, 1, 1)), np.ones(3))
    with pytest.raises(
        VerifierError, match="groups must divide out_channels: out_channels=5 is not divisible by groups=2"
    ):
        conv2d(np.ones((1, 4, 4, 4)), np.ones((5, 2, 1, 1)), groups=2)
    with pytest.raises(VerifierError, match=r"weight must be 4-D \(C_out, C_in/groups, kH, kW\), got 2-D"):
        conv2d(np.ones((1, 2, 4, 4)), np.ones((4, 2)))
    with pytest.raises(VerifierError, match=r"input must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\), got 2-D"):
        conv2d(np.ones((4, 4)), np.ones((1, 1, 1, 1)))
    with pytest.raises(VerifierTypeError, match=r"groups must be a positive int, got 1\.5"):
        conv2d(np.ones((1, 2, 4, 4)), np.ones((4, 2, 1, 1)), groups=1.5)  # type: ignore[arg-type]


def test_same_padding_with_stride_is_refused() -> None:
    with pytest.raises(VerifierError, match=r"padding='same' needs stride=1, got stride=\(2, 2\)"):
        conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=2, padding="same")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_reported_not_propagated(bad: float) -> None:
    x = np.ones((1, 2, 3, 3), np.float32)
    x[0, 1, 2, 0] = bad
    with pytest.raises(
        VerifierError, match=r"input has \d NaN and \d infinite entries \(first at index \[0, 1, 2, 0\]\)"
    ):
        conv2d(x, np.ones((1, 2, 1, 1), np.float32))
    w = np.ones((1, 2, 1, 1))
    w[0, 0, 0, 0] = bad
    with pytest.raises(VerifierError, match="weight has"):
        conv2d(np.ones((1, 2, 3, 3)), w)


def test_a_conv_whose_output_would_not_fit_is_refused_before_allocating() -> None:
    avail = available_bytes()
    if avail is None:
        pytest.skip("this system does not report available memory")
    # a broadcast view costs no memory; its output would need ~64 * 2**40 bytes
    huge = np.broadcast_to(np.float32(1), (2**20, 1, 2**12, 2**12))
    with pytest.raises(VerifierError, match=r"conv2d on input .* needs about [\d.]+ PiB|needs about [\d.]+ TiB"):
        conv2d(huge, np.ones((1, 1, 1, 1), np.float32))


def test_a_float_overflow_is_reported_not_returned() -> None:
    x = np.full((1, 4, 2, 2), 1e30, np.float32)
    with pytest.raises(VerifierError, match="conv2d overflowed float32: the result has non-finite entries"):
        conv2d(x, np.full((1, 4, 1, 1), 1e30, np.float32))


def _workspace(x: np.ndarray, w: np.ndarray, **kwargs: Any) -> tuple[str, int]:
    """The scheme conv2d runs for these arrays and the memory estimate it refuses on (its plan's)."""
    options = [
        kwargs.get(name, default) for name, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))
    ]
    plan = _guards.conv_plan(x, w, None, tuple(options), conv_module._scheme)
    return plan.scheme_name, plan.workspace


def _peak_of_a_warm_conv(x: np.ndarray, w: np.ndarray, **kwargs: Any) -> int:
    """tracemalloc's peak for one conv2d call, after a small conv of the same scheme has run once.

    The first run of a scheme in a process allocates a fixed amount once (imports, the thread pool); that
    memory is not the conv's, and is not in its estimate.
    """
    small = x[:1, :, : min(8, x.shape[2]), : min(8, x.shape[3])].copy()
    conv2d(small, w, **kwargs)
    return _measured_peak(lambda: conv2d(x, w, **kwargs))


#: The estimate's share that no measurement confirms, at most: 10%, or 30% for an exact 1x1 conv at stride 1, whose
#: gathered windows are the padded image itself (a view), while the estimate still counts them.
LOOSE, LOOSER = 1.1, 1.3


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "dtype", "scheme", "slack"),
    [
        ((2, 64, 24, 24), (16, 64, 1, 1), {}, "float32", "1x1", LOOSE),
        ((2, 64, 24, 48), (16, 64, 1, 1), {}, "float32-strided", "1x1", LOOSE),  # copied to be contiguous
        ((2, 16, 24, 24), (16, 16, 3, 3), {"padding": 1}, "float32", "shifted", LOOSE),
        ((1, 16, 24, 20), (32, 16, 3, 3), {"padding": "same", "dilation": 2}, "float32", "shifted", LOOSE),
        ((2, 16, 24, 24), (16, 8, 3, 3), {"padding": (1, 0), "groups": 2}, "float32", "shifted", LOOSE),
        ((1, 64, 64, 64), (8, 64, 3, 3), {"padding": 1}, "float32", "shifted", LOOSE),
        ((1, 8, 64, 64), (64, 8, 3, 3), {"padding": 1}, "float64", "shifted", LOOSE),  # the accumulators dominate
        ((1, 256, 16, 16), (1, 256, 3, 3), {"padding": 16}, "float32", "shifted", LOOSE),  # the padded maps
        ((2, 64, 24, 48), (4, 64, 3, 3), {"padding": 1}, "float32-strided", "shifted", LOOSE),  # read, not copied
        ((1, 16, 24, 24), (16, 16, 1, 1), {"padding": 1}, "float32", "shifted", LOOSE),
        ((2, 32, 28, 28), (32, 32, 3, 3), {"stride": 2, "padding": 1}, "float32", "im2col", LOOSE),
        ((2, 32, 28, 28), (32, 16, 3, 3), {"stride": 2, "groups": 2}, "float32", "im2col", LOOSE),
        ((1, 32, 20, 20), (32, 32, 1, 1), {"stride": (2, 1)}, "float32", "im2col", LOOSE),
        ((1, 8, 64, 64), (64, 8, 3, 3), {"stride": 2, "padding": 1}, "float32", "im2col", LOOSE),
        ((1, 256, 16, 16), (4, 256, 1, 1), {"stride": 2, "padding": 16}, "float32", "im2col", LOOSE),  # padded image
        ((4, 8, 64, 64), (8, 8, 5, 5), {"stride": 2}, "int64", "im2col", LOOSE),
        ((1, 8, 40, 40), (16, 4, 3, 3), {"padding": 1, "groups": 2}, "int64", "im2col", LOOSE),
        ((2, 8, 40, 40), (16, 8, 1, 1), {}, "int64", "im2col", LOOSER),
        ((2, 64, 24, 24), (16, 64, 1, 1), {}, "int32", "im2col", LOOSER),  # cast to int64 first: the copy is counted
    ],
)
def test_the_memory_estimate_is_the_allocation_of_the_scheme_that_runs(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    kwargs: dict[str, Any],
    dtype: str,
    scheme: str,
    slack: float,
) -> None:
    """Measured by tracemalloc, each scheme allocates no more than its estimate, and not much less.

    The estimate is what conv2d refuses on when memory is short: too small and a run could exhaust memory,
    too large and a conv that fits is refused. So it is checked from both sides, for each scheme, with
    cases in which each of its buffers is the largest. The fixed bookkeeping allowance is left out of the
    second comparison.
    """
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, x_shape).astype(dtype.removesuffix("-strided"))
    if dtype.endswith("-strided"):
        x = x[..., ::2]  # every other column: not contiguous
    w = rng.integers(-3, 4, w_shape).astype(x.dtype)
    name, estimate = _workspace(x, w, **kwargs)
    peak = _peak_of_a_warm_conv(x, w, **kwargs)
    output = conv2d(x, w, **kwargs).nbytes
    assert name == scheme
    assert output <= peak  # the measurement sees at least the result
    assert peak <= estimate, (peak, estimate)
    assert estimate - _guards._OVERHEAD_BYTES <= slack * peak, (peak, estimate)


def test_an_exact_conv_counts_object_entries_at_their_size_and_a_copied_input_by_default() -> None:
    """The same conv's estimate scales with the bytes an entry takes: 8 for int64, OBJECT_BYTES for a Python int."""
    spec = conv_spec((2, 8, 16, 16), (8, 8, 3, 3), None, 2, 1)
    shape = (2, 8, 16, 16)

    def arrays(dtype: str) -> int:
        return _guards.conv_workspace_bytes(spec, shape, np.dtype(dtype), "im2col") - _guards._OVERHEAD_BYTES

    assert arrays("object") * 8 == arrays("int64") * _guards.OBJECT_BYTES
    assert arrays("float64") == arrays("int64") == 2 * arrays("float32")
    # Unless told otherwise, the estimate assumes the input is copied: one more input's bytes.
    uncopied = _guards.conv_workspace_bytes(spec, shape, np.dtype("float32"), "im2col", input_copied=False)
    assert arrays("float32") + _guards._OVERHEAD_BYTES - uncopied == np.zeros(shape, np.float32).nbytes


def test_the_largest_scratch_is_assumed_when_the_scheme_is_not_named_and_a_wrong_name_is_refused() -> None:
    spec = conv_spec((1, 8, 16, 16), (8, 8, 3, 3), None, 1, 1)
    shape, float32 = (1, 8, 16, 16), np.dtype("float32")
    each = {name: _guards.conv_workspace_bytes(spec, shape, float32, name) for name in ("1x1", "shifted", "im2col")}
    assert _guards.conv_workspace_bytes(spec, shape, float32) == max(each.values())
    assert each["1x1"] < each["shifted"] < each["im2col"]  # views only; the padded maps and two sums; windows
    message = "scheme must be one of '1x1', 'shifted', 'im2col' or 'any', got 'fft'"
    with pytest.raises(VerifierError, match=re.escape(message)):
        _guards.conv_workspace_bytes(spec, shape, float32, "fft")


@pytest.mark.parametrize(("k", "stride", "groups"), [(3, 1, 1), (2, 1, 2), (3, 2, 1)])
def test_the_memory_estimate_bounds_what_an_exact_conv_of_python_integers_allocates(
    k: int, stride: int, groups: int
) -> None:
    """Object entries are counted at OBJECT_BYTES each, a bound: small Python ints are shared, so it is loose."""
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (2, 4, 9, 8)).astype(object)
    w = rng.integers(-3, 4, (6, 4 // groups, k, k)).astype(object)
    name, estimate = _workspace(x, w, stride=stride, padding=1, groups=groups)
    peak = _measured_peak(lambda: conv2d(x, w, stride=stride, padding=1, groups=groups))
    assert name == "im2col"
    assert 0 < peak <= estimate, (peak, estimate)
    assert estimate < 4 * peak + 512 * 1024, "the bound should stay near the truth"


FAST = settings(max_examples=30, deadline=None)


X = np.ones((1, 2, 4, 4))


W = np.ones((3, 2, 1, 1))


@FAST
@given(rank=st.sampled_from([0, 1, 2, 5, 6]))
def test_inputs_of_the_wrong_rank_are_refused_with_the_shape(rank: int) -> None:
    shape = (2,) * rank
    message = f"input must be 4-D (N, C, H, W) or 3-D (C, H, W), got {rank}-D shape {shape}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv2d(np.ones(shape), W)


@FAST
@given(rank=st.sampled_from([0, 1, 2, 3, 5]))
def test_weights_of_the_wrong_rank_are_refused_with_the_shape(rank: int) -> None:
    shape = (2,) * rank
    message = f"weight must be 4-D (C_out, C_in/groups, kH, kW), got {rank}-D shape {shape}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv2d(X, np.ones(shape))


@FAST
@given(channels=st.integers(1, 6), per_group=st.integers(1, 6), groups=st.integers(1, 3), batched=st.booleans())
def test_a_channel_mismatch_names_both_counts_and_the_groups(
    channels: int, per_group: int, groups: int, batched: bool
) -> None:
    x = np.ones((1, channels, 3, 3) if batched else (channels, 3, 3))
    w = np.ones((groups, per_group, 1, 1))
    if channels == per_group * groups:
        assert conv2d(x, w, groups=groups).shape[-3] == groups
        return
    message = (
        f"input has {channels} channels but weight expects {per_group * groups} (groups={groups}) "
        f"(input shape {x.shape}, weight shape {w.shape})"
    )
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv2d(x, w, groups=groups)


@FAST
@given(shape=st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple))
def test_a_bias_must_have_one_entry_per_output_map(shape: tuple[int, ...]) -> None:
    bias = np.zeros(shape)
    if shape == (3,):
        assert conv2d(X, W, bias).shape == (1, 3, 4, 4)
        return
    message = f"bias must be 1-D with one entry per output channel (3), got shape {shape}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv2d(X, W, bias)


@FAST
@given(
    which=st.sampled_from(["input", "weight", "bias"]),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
    data=st.data(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_nan_and_infinite_entries_are_refused_with_their_index(which: str, bad: float, data: Any, dtype: Any) -> None:
    arrays = {"input": X.astype(dtype), "weight": W.astype(dtype), "bias": np.zeros(3, dtype)}
    target = arrays[which].copy()
    index = tuple(data.draw(st.integers(0, n - 1)) for n in target.shape)
    target[index] = bad
    arrays[which] = target
    nan, inf = (1, 0) if np.isnan(bad) else (0, 1)
    message = f"{which} has {nan} NaN and {inf} infinite entries (first at index {list(index)})"
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv2d(arrays["input"], arrays["weight"], arrays["bias"])


UNSUPPORTED = [np.complex64, np.complex128, np.bool_, np.float16, np.str_, np.bytes_, "datetime64[s]", "timedelta64[s]"]


@pytest.mark.parametrize("dtype", UNSUPPORTED, ids=str)
@pytest.mark.parametrize("which", ["input", "weight", "bias"])
def test_unsupported_dtypes_are_type_errors_naming_the_dtype(dtype: Any, which: str) -> None:
    arrays: dict[str, Any] = {"input": X, "weight": W, "bias": np.zeros(3)}
    arrays[which] = arrays[which].astype(dtype)
    message = (
        f"{which} has dtype {arrays[which].dtype}; allowed: float32, float64, an integer dtype, or object arrays "
        "of exact numbers (int, Fraction)"
    )
    with pytest.raises(VerifierTypeError, match="^" + re.escape(message) + "$"):
        conv2d(arrays["input"], arrays["weight"], arrays["bias"])


@FAST
@given(item=st.one_of(st.floats(), st.text(max_size=2), st.none(), st.booleans(), st.complex_numbers()))
def test_an_inexact_entry_of_an_object_array_is_named_with_its_index(item: Any) -> None:
    x = np.ones((1, 1, 2, 2), dtype=object)
    x[0, 0, 1, 0] = item
    message = (
        f"input[0, 0, 1, 0] is {item!r} ({type(item).__name__}); object arrays must hold exact numbers (int, Fraction)"
    )
    with pytest.raises(VerifierTypeError, match="^" + re.escape(message) + "$"):
        conv2d(x, np.ones((1, 1, 1, 1), dtype=object))


def test_floats_and_exact_numbers_never_mix_and_float_widths_must_agree() -> None:
    with pytest.raises(VerifierTypeError, match=re.escape("input is float64 but weight is int64: pass floats")):
        conv2d(X, W.astype(np.int64))
    with pytest.raises(VerifierTypeError, match=re.escape("dtypes differ (input is float32, weight is float64)")):
        conv2d(X.astype(np.float32), W)
    with pytest.raises(
        VerifierTypeError, match=re.escape("weight is float32 but input is int8: pass floats everywhere")
    ):
        conv2d(X.astype(np.int8), W.astype(np.float32), np.zeros(3, dtype=object))


def test_ragged_nested_lists_are_type_errors() -> None:
    with pytest.raises(VerifierTypeError, match=r"^input must be an array of numbers, got list"):
        conv2d([[[1.0, 2.0], [3.0]]], W)


@FAST
@given(scale=st.integers(32, 62), terms=st.integers(1, 4))
def test_integer_sums_that_could_leave_int64_are_refused(scale: int, terms: int) -> None:
    x = np.full((1, terms, 2, 2), 2**scale, dtype=np.int64)
    w = np.full((1, terms, 1, 1), 2**scale, dtype=np.int64)
    bound = 2**scale * 2**scale * terms
    assert bound >= 2**63
    with pytest.raises(VerifierError, match=re.escape(f"integer conv2d could overflow int64 (sums up to {bound:.3e}")):
        conv2d(x, w)
    # The same numbers as Python ints are summed exactly.
    exact = conv2d(x.astype(object), w.astype(object))
    assert exact[0, 0, 0, 0] == bound and type(exact[0, 0, 0, 0]) is int


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"groups": 0}, "groups must be a positive int, got 0"),
        ({"groups": 1.0}, "groups must be a positive int, got 1.0 (float)"),
        ({"groups": True}, "groups must be a positive int, got True (bool)"),
        ({"stride": 0}, "stride must be a positive int or a pair of them, got 0"),
        ({"stride": (1, 2, 3)}, "stride must be a positive int or a pair of them, got (1, 2, 3)"),
        ({"dilation": -1}, "dilation must be a positive int or a pair of them, got -1"),
        ({"padding": -2}, "padding must be an int >= 0 or a pair of them, got -2"),
        ({"padding": "full"}, "padding must be a non-negative int, a pair of them, 'valid' or 'same', got 'full'"),
        ({"padding": "same", "stride": 2}, "padding='same' needs stride=1, got stride=(2, 2)"),
    ],
)
def test_bad_conv_arguments_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv2d(X, W, **kwargs)


def test_a_kernel_larger_than_the_padded_input_is_refused() -> None:
    message = "input height 4 (padded to 6) is smaller than the dilated kernel's extent 9"
    with pytest.raises(VerifierError, match=re.escape(message)):
        conv2d(X, np.ones((3, 2, 9, 1)), padding=1)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "padding"),
    [
        ((1, 1, 1000, 1000), (100_000, 1, 1, 1), 0),  # a 400 TB output from 4 MB of input
        ((1, 1, 2, 2), (1, 1, 1, 1), 10**6),  # padding alone makes the output huge
        ((1, 1, 4, 4), (1, 1, 3, 3), 10**5),  # the shifted-view scheme's scratch
    ],
)
def test_sizes_that_would_exhaust_memory_are_refused_before_allocating(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], padding: int
) -> None:
    with pytest.raises(VerifierError, match=r"needs about [\d.]+ [KMGT]iB but only .* nothing was allocated"):
        conv2d(np.ones(x_shape, np.float32), np.ones(w_shape, np.float32), padding=padding)


@pytest.mark.parametrize(
    ("product", "bias", "refused"), [(2**63 - 1, None, False), (2**63 - 2, 1, False), (2**63 - 2, 2, True)]
)
def test_integer_work_is_refused_exactly_when_a_sum_could_reach_two_to_the_63(
    product: int, bias: int | None, refused: bool
) -> None:
    x = np.array([[[[product]]]], dtype=np.int64)
    w = np.ones((1, 1, 1, 1), dtype=np.int64)
    b = None if bias is None else np.array([bias], dtype=np.int64)
    if not refused:
        assert conv2d(x, w, b)[0, 0, 0, 0] == product + (bias or 0)
        return
    message = (
        f"integer conv2d could overflow int64 (sums up to {2**63:.3e} possible); pass object arrays of "
        "Python ints for unbounded exact arithmetic"
    )
    with pytest.raises(VerifierError, match="^" + re.escape(message) + "$"):
        conv2d(x, w, b)


def _measured_peak(call: Any) -> int:
    """Bytes allocated at the peak of ``call()`` beyond what existed before (NumPy reports to tracemalloc)."""

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("kernel", "value", "refused"), [((2, 1), 2**62, True), ((1, 2), 2**62, True), ((2, 1), 2**62 - 1, False)]
)
def test_the_int64_bound_counts_every_tap_of_a_rectangular_kernel(
    kernel: tuple[int, int], value: int, refused: bool
) -> None:
    x = np.full((1, 1, 2, 2), value, dtype=np.int64)
    w = np.ones((1, 1, *kernel), dtype=np.int64)
    if refused:
        with pytest.raises(VerifierError, match="could overflow int64"):
            conv2d(x, w)
    else:
        assert (conv2d(x, w) == 2 * value).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_single_non_finite_entry_is_refused(bad: float) -> None:
    with pytest.raises(VerifierError, match=re.escape("bias has")):
        conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), np.array([bad]))
    with pytest.raises(VerifierError, match=re.escape("weight has")):
        conv2d(np.ones((1, 1, 2, 2)), np.full((1, 1, 1, 1), bad))


def test_opposite_infinities_and_finite_overflow_are_told_apart() -> None:
    x = np.ones((1, 1, 2, 2), np.float32)
    x[0, 0, 0, 0], x[0, 0, 1, 1] = np.inf, -np.inf
    message = (
        "input has 0 NaN and 2 infinite entries (first at index [0, 0, 0, 0]); the engine refuses non-finite "
        "data so that no check is ever passed on it"
    )
    with pytest.raises(VerifierError, match="^" + re.escape(message) + "$"):
        conv2d(x, np.ones((1, 1, 1, 1), np.float32))
    # Entries near float32's largest are finite even though their float32 sum would overflow.
    huge = np.full((1, 1, 2, 2), np.finfo(np.float32).max, np.float32)
    assert conv2d(huge, np.full((1, 1, 1, 1), 0.5, np.float32)).max() == np.finfo(np.float32).max / 2


def test_taps_that_overflow_to_opposite_infinities_raise_the_report_not_a_numpy_warning() -> None:
    # Tap 0 gives +inf and tap 1 gives -inf; their sum is NaN, an invalid operation NumPy would warn about
    # (and the suite turns warnings into errors). The user must see the overflow report only.
    x = np.full((1, 1, 1, 3), 1e308)
    with pytest.raises(VerifierError, match="^" + re.escape("conv2d overflowed float64: the result has non-finite")):
        conv2d(x, np.array([[[[10.0, -10.0]]]]))


def test_mixing_message_names_both_arguments_and_the_remedy() -> None:
    message = (
        "input is float64 but bias is int64: pass floats everywhere or exact numbers (integer or object arrays) "
        "everywhere"
    )
    with pytest.raises(VerifierTypeError, match="^" + re.escape(message) + "$"):
        conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), np.array([1]))


def test_the_spec_a_call_runs_has_torchs_defaults_and_its_bias() -> None:
    from verifier import Conv2d
    from verifier.numeric._guards import conv_spec

    assert conv_spec((1, 4, 8, 8), (2, 4, 3, 3), None) == Conv2d(4, 2, 3, bias=False)
    assert conv_spec((4, 8, 8), (2, 2, 3, 1), (2,), 2, 1, 1, 2) == Conv2d(4, 2, (3, 1), 2, 1, 1, 2, bias=True)


def test_a_refused_conv_names_the_input_it_was_given() -> None:
    with pytest.raises(VerifierError, match=r"^conv2d on input \(1, 1, 2, 2\) needs about [\d.]+ TiB but only"):
        conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), padding=10**6)


@pytest.mark.parametrize("kind", ["int64", "object"])
@pytest.mark.parametrize(("kernel", "stride", "padding"), [(3, 1, 1), (3, 2, 0), (1, 1, 0), (2, 1, "same")])
def test_the_memory_estimate_covers_exact_convs_too(kind: str, kernel: int, stride: int, padding: Any) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, (1, 4, 12, 12))
    w = rng.integers(-3, 4, (4, 4, kernel, kernel))
    if kind == "object":
        x, w = x.astype(object), w.astype(object)
    kwargs = {"stride": stride, "padding": padding}
    _, estimate = _workspace(x, w, **kwargs)
    peak = _measured_peak(lambda: conv2d(x, w, **kwargs))
    assert peak <= estimate, (peak, estimate)


@pytest.mark.parametrize(
    ("x", "w", "b"),
    [
        ([2e38, 2e38], [1.0, 1.0], None),  # two finite products whose sum leaves float32
        ([-2e38, -2e38], [1.0, 1.0], None),  # the same below: the largest magnitude is a negative entry
        ([1e38, 0.0], [3.0, 0.0], [1e38]),  # the bias is what tips it over
    ],
)
def test_a_float_conv_that_overflows_is_reported_not_returned(x: list[float], w: list[float], b: Any) -> None:
    xs = np.array(x, np.float32).reshape(1, 2, 1, 1)
    ws = np.array(w, np.float32).reshape(1, 2, 1, 1)
    bs = None if b is None else np.array(b, np.float32)
    message = "conv2d overflowed float32: the result has non-finite entries although every input is finite"
    with pytest.raises(VerifierError, match="^" + re.escape(message)):
        conv2d(xs, ws, bs)
    exact = conv2d(xs.astype(np.float64), ws.astype(np.float64), None if bs is None else bs.astype(np.float64))
    assert np.isfinite(exact).all()  # float64 holds the same sums


@pytest.mark.parametrize(
    ("x", "w", "b"),
    [
        ([2e38, 2e38], [[1.0, 1.0]] * 4, None),  # more outputs than inputs: the input is checked first
        ([-2e38, -2e38], [[1.0, 1.0]] * 4, None),
        ([1e38], [[3.0], [3.0]], [1e38, 1e38]),
    ],
)
def test_an_overflow_is_reported_when_the_input_is_checked_before_the_output(
    x: list[float], w: list[list[float]], b: Any
) -> None:
    xs = np.array(x, np.float32).reshape(1, len(x), 1, 1)
    ws = np.array(w, np.float32).reshape(len(w), len(x), 1, 1)
    bs = None if b is None else np.array(b, np.float32)
    with pytest.raises(VerifierError, match="^" + re.escape("conv2d overflowed float32: the result has non-finite")):
        conv2d(xs, ws, bs)


def test_an_object_array_too_large_to_look_at_is_refused_naming_it_and_its_size() -> None:
    huge = np.broadcast_to(np.array(1, object), (1, 1, 10**6, 10**6))  # one entry, seen 10**12 times
    message = "weight, an object array of 1,000,000,000,000 entries needs about "
    with pytest.raises(VerifierError, match="^" + re.escape(message)):
        conv2d(np.ones((1, 1, 2, 2), object), huge)


def test_object_arrays_with_other_numpy_scalars_are_refused_by_name() -> None:
    for item in (np.float64(1.0), np.bool_(True), np.float32(2.0)):
        x = np.array([[[[item]]]], object)
        with pytest.raises(VerifierTypeError, match=re.escape(f"input[0, 0, 0, 0] is {item!r}")):
            conv2d(x, np.ones((1, 1, 1, 1), object))


HUGE = np.broadcast_to(np.float64(1.0), (10**6, 1, 10**3, 10**3))  # 8 PB as a view of one number


HUGE_IMAGE = np.broadcast_to(np.float32(1), (1, 1, 10**6, 10**6))


@pytest.mark.parametrize(
    "call",
    [
        lambda: relu(HUGE),
        lambda: batch_norm(HUGE, [0.0], [1.0]),
        lambda: batch_norm(np.broadcast_to(np.float64(1.0), (10**9, 1, 10**3)), [0.0], [1.0]),  # 3-D
        lambda: relu(np.broadcast_to(np.array(1, object), (10**6, 10**6))),  # object entries are looked at
        lambda: conv2d(HUGE_IMAGE, np.broadcast_to(np.float32(1), (1, 1, 1000, 1000)), stride=2),
    ],
    ids=["relu", "batch_norm-4d", "batch_norm-3d", "relu-object", "conv2d-strided-huge-kernel"],
)
def test_huge_inputs_are_refused_with_the_estimate_before_any_allocation(call: Any) -> None:
    assert _peak_bytes(call) < 2**20


def test_memory_is_looked_at_again_when_a_remembered_plan_is_used(monkeypatch) -> None:
    # A plan is made once per shape; memory is looked at on every call, since it may have been taken since.
    x, w = np.ones((1, 1, 4500, 4500), np.float32), np.ones((1, 1, 1, 1), np.float32)  # an 81 MB output
    pretend_available(monkeypatch, 1024)
    assert conv2d(x, w).shape == (1, 1, 4500, 4500)
    pretend_available(monkeypatch, 64)
    with pytest.raises(VerifierError, match="^" + re.escape("conv2d on input (1, 1, 4500, 4500) needs about ")):
        conv2d(x, w)


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


DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _exact_square_sum(arr: np.ndarray) -> Fraction:
    return sum((Fraction(float(v)) ** 2 for v in arr.ravel()), Fraction(0))


def _arrays(dtype: np.dtype, allow_nonfinite: bool) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5),
        elements=st.floats(width=dtype.itemsize * 8, allow_nan=allow_nonfinite, allow_infinity=allow_nonfinite),
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_all_finite_agrees_with_isfinite_on_every_layout(dtype, data):
    arr = data.draw(_arrays(dtype, allow_nonfinite=True))
    views = [arr, arr.T, arr[..., ::2], np.asfortranarray(arr)]
    if arr.ndim >= 2:
        views.append(arr.reshape(arr.shape[0], -1)[:, ::-1])  # negative strides: no BLAS, the exact look
    for view in views:
        assert _guards.all_finite(view) == bool(np.isfinite(view).all())


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_all_finite_is_not_fooled_by_sums_that_overflow_or_cancel(dtype):
    big = np.finfo(dtype).max
    rows = np.array([[big, big, -big], [1.0, 2.0, 3.0]], dtype)  # row sum overflows, every entry finite
    assert _guards.all_finite(rows)
    assert not _guards.all_finite(np.array([[np.inf, -np.inf], [1.0, 1.0]], dtype))  # inf - inf is NaN, not 0
    for position in np.ndindex(3, 4):
        arr = np.ones((3, 4), dtype)
        arr[position] = np.nan
        assert not _guards.all_finite(arr) and not _guards.all_finite(arr[None, None])
    assert _guards.all_finite(np.empty((0, 3), dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_square_sum_bound_is_never_below_the_exact_sum(dtype, data):
    arr = data.draw(_arrays(dtype, allow_nonfinite=False))
    bound = _guards._square_sum_bound(arr)
    exact = _exact_square_sum(arr)
    if math.isfinite(bound):
        assert Fraction(bound) >= exact
        slack = Fraction(2 * arr.size) * Fraction(float(np.finfo(dtype).eps))  # twice gamma_n
        floor = arr.size * Fraction(float(np.finfo(dtype).tiny)) * 2
        assert Fraction(bound) <= exact * (1 + slack) * (1 + Fraction(1, 2**46)) + floor  # the float64 slack
    else:  # only when the squares (nearly) leave the dtype
        assert exact * 2 > Fraction(float(np.finfo(dtype).max))
    norm = _guards.finite_norm("w", arr)
    assert norm == math.inf or Fraction(norm) ** 2 >= exact


def test_the_square_sum_bound_adds_chunk_by_chunk(monkeypatch):
    arr = np.linspace(-3, 3, 1000, dtype=np.float32)
    whole = _guards._square_sum_bound(arr)
    monkeypatch.setattr(_guards, "_DOT_CHUNK", 7)
    chunked = _guards._square_sum_bound(arr)
    exact = _exact_square_sum(arr)
    assert Fraction(chunked) >= exact and Fraction(whole) >= exact
    assert chunked == pytest.approx(whole, rel=1e-3)  # gamma of 7 terms is smaller than of 1000


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_the_square_sum_bound_is_inf_for_nonfinite_or_noncontiguous_arrays(dtype):
    assert _guards._square_sum_bound(np.array([1.0, np.nan], dtype)) == math.inf
    assert _guards._square_sum_bound(np.array([1.0, -np.inf], dtype)) == math.inf
    assert _guards._square_sum_bound(np.ones((4, 4), dtype)[:, ::2]) == math.inf
    assert Fraction(_guards._square_sum_bound(np.ones((4, 4), dtype, order="F"))) >= 16


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_finite_norm_refuses_nonfinite_entries_by_name_and_bounds_huge_ones(dtype):
    with pytest.raises(VerifierError, match=r"weight has 1 NaN and 0 infinite entries \(first at index \[1, 0\]\)"):
        _guards.finite_norm("weight", np.array([[1.0], [np.nan]], dtype))
    big = np.full((2, 3), np.finfo(dtype).max / 2, dtype)  # squares overflow: the largest magnitude decides
    norm = _guards.finite_norm("input", big)
    assert norm == math.inf or Fraction(norm) ** 2 >= _exact_square_sum(big)
    assert math.isfinite(_guards.finite_norm("input", np.full((2, 3), math.sqrt(np.finfo(dtype).max), dtype)))
    strided = np.arange(12.0, dtype=dtype).reshape(3, 4)[:, ::2]
    assert Fraction(_guards.finite_norm("input", strided)) ** 2 >= _exact_square_sum(strided)
    assert _guards.finite_norm("input", np.empty((0,), dtype)) == 0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gamma_is_highams_formula(dtype):
    u = Fraction(float(np.finfo(dtype).eps)) / 2
    for n in (1, 2, 576, 10**6):
        assert Fraction(_guards.gamma(n, dtype)) == pytest.approx(n * u / (1 - n * u), rel=1e-12)
    assert _guards.gamma(int(1 / u), dtype) == math.inf
    assert math.isfinite(_guards.gamma(int(1 / u) - 1, dtype))


def test_an_output_that_rounding_could_carry_past_the_largest_float_is_looked_at(monkeypatch):
    """|x| |w| is one float32 step below the largest float: exact arithmetic stays finite, but the bound
    times (1 + gamma) does not, so the result must be examined (and here it is finite, and returned)."""
    top = np.finfo(np.float32).max
    x = np.array([[[[np.nextafter(top, np.float32(0))]]]], np.float32)
    w = np.ones((1, 1, 1, 1), np.float32)
    looked = []
    original = conv_module.ensure_finite_result
    monkeypatch.setattr(
        conv_module, "ensure_finite_result", lambda out, arr, *a: looked.append(1) or original(out, arr, *a)
    )
    assert conv2d(x, w)[0, 0, 0, 0] == x[0, 0, 0, 0]
    assert looked == [1]
    looked.clear()
    conv2d(np.full((1, 1, 2, 2), 1e30, np.float32), w)  # far below: no second look
    conv2d(np.full((1, 1, 1, 1), 0.6 * float(top), np.float32), w)  # the bound and its rounding stay below too
    assert looked == []


CACHED_X = np.arange(2 * 4 * 4, dtype=np.float64).reshape(1, 2, 4, 4)


CACHED_W = np.ones((2, 2, 1, 1))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(groups=True), VerifierTypeError, r"groups .*True"),
        (dict(stride=True), VerifierTypeError, r"stride .*True"),
        (dict(stride=1.0), VerifierTypeError, r"stride .*1\.0"),
        (dict(dilation=(1, True)), VerifierTypeError, r"dilation .*True"),
        (dict(padding=0.0), VerifierTypeError, r"padding .*0\.0"),
        (dict(stride=(1, True)), VerifierTypeError, r"stride .*True"),
        (dict(padding=(0, False)), VerifierTypeError, r"padding .*False"),
        (dict(dilation=[1, 1.0]), VerifierTypeError, r"dilation .*1\.0"),
    ],
)
def test_a_refused_argument_is_refused_after_its_equal_valid_twin_was_cached(kwargs, error, match):
    twin = {k: type(v)(int(e) for e in v) if isinstance(v, (tuple, list)) else int(v) for k, v in kwargs.items()}
    expected = conv2d(CACHED_X, CACHED_W, **twin)  # cached now
    with pytest.raises(error, match=match):
        conv2d(CACHED_X, CACHED_W, **kwargs)
    assert np.array_equal(conv2d(CACHED_X, CACHED_W, **twin), expected)


def test_numpy_integers_and_lists_give_the_same_answer_as_ints_and_tuples():
    w = np.arange(2 * 2 * 3 * 3, dtype=np.float64).reshape(2, 2, 3, 3)
    first = conv2d(CACHED_X, w, stride=(1, 2), padding=[1, 0])
    assert np.array_equal(conv2d(CACHED_X, w, stride=[1, 2], padding=(1, 0)), first)
    assert np.array_equal(conv2d(CACHED_X, w, stride=(np.int64(1), 2), padding=(1, np.int32(0))), first)


def test_the_spec_depends_on_every_argument():
    w = np.ones((2, 1, 3, 3))
    seen = {}
    for stride in (1, 2):
        for padding in (0, 1, "same"):
            for dilation in (1, 2):
                for groups, weight in ((1, np.ones((2, 2, 3, 3))), (2, w)):
                    if (padding == "same" and stride != 1) or (padding == 0 and dilation == 2):
                        continue  # "same" needs stride 1; a dilated 3x3 reaches 5 pixels, wider than 4
                    out = conv2d(CACHED_X, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
                    spec = _guards.conv_spec(CACHED_X.shape, weight.shape, None, stride, padding, dilation, groups)
                    fresh = _guards._conv_spec(CACHED_X.shape, weight.shape, None, stride, padding, dilation, groups)
                    assert spec == fresh and out.shape[2:] == fresh.output_size(4, 4)
                    seen[(stride, padding, dilation, groups)] = spec
    assert len(set(seen.values())) == len(seen)  # no two argument sets shared a spec


def test_conv_spec_refuses_mismatched_channels_after_many_good_calls():
    for c in range(1, 40):
        assert _guards.conv_spec((1, c, 3, 3), (1, c, 1, 1), None).in_channels == c
    with pytest.raises(VerifierError, match="channels"):
        _guards.conv_spec((1, 3, 3, 3), (1, 4, 1, 1), None)


CONFIGS = [
    dict(kernel=k, stride=s, dilation=d, padding=p)
    for k, s, d, p in itertools.product((1, 2, 3), (1, 2, 3), (1, 2, 4), (0, 1))
    if d * (k - 1) + 1 <= 6 + 2 * p
]


def _pixels_read(spec, h, w):
    """Every (row, col) some output tap lands on, by walking the taps."""
    (top, _), (left, _) = spec.padding_amounts
    (kh, kw), (sh, sw), (dh, dw) = spec.kernel_pair, spec.stride_pair, spec.dilation_pair
    ho, wo = spec.output_size(h, w)
    rows = {r * sh - top + u * dh for r in range(ho) for u in range(kh)} & set(range(h))
    cols = {c * sw - left + v * dw for c in range(wo) for v in range(kw)} & set(range(w))
    return {(r, c) for r in rows for c in cols}


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_the_every_input_rule_matches_the_taps(cfg):
    for h, w in ((6, 6), (6, 9)):
        spec = conv_spec(
            (1, 1, h, w), (1, 1, cfg["kernel"], cfg["kernel"]), None, cfg["stride"], cfg["padding"], cfg["dilation"]
        )
        assert _reads_every_input(spec, h, w) == (len(_pixels_read(spec, h, w)) == h * w)


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_entry_anywhere_is_refused(cfg, bad):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((2, 3, cfg["kernel"], cfg["kernel"]))
    for r, c in itertools.product(range(6), repeat=2):
        x = rng.standard_normal((1, 3, 6, 6))
        x[0, (r + c) % 3, r, c] = bad
        with pytest.raises(VerifierError, match=rf"first at index \[0, {(r + c) % 3}, {r}, {c}\]"):
            conv2d(x, weight, stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"])
