"""The NumPy engine refuses bad arrays with the project's error and agrees with the plain loops on valid ones.

Bad input is generated: wrong ranks, channel and bias mismatches, NaN and infinities at random places,
unsupported dtypes, mixed dtypes, sizes that would not fit in memory. Valid convs are drawn at random and
the engine must equal :mod:`verifier.numeric.reference` exactly on integers (int64 and Python ints) and
to rounding on floats.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from verifier import Bottleneck, VerifierError, VerifierTypeError
from verifier.memory import available_bytes, ensure_fits, human_bytes
from verifier.numeric import (
    batch_norm,
    bottleneck_forward,
    bottleneck_input,
    bottleneck_params,
    conv2d,
    fold_batch_norm,
    reference,
    relu,
)

FAST = settings(max_examples=30, deadline=None)
X = np.ones((1, 2, 4, 4))
W = np.ones((3, 2, 1, 1))


# -- ranks, channels and bias --------------------------------------------------------------------------------
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


# -- values and dtypes ---------------------------------------------------------------------------------
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
def test_object_arrays_must_hold_exact_numbers(item: Any) -> None:
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


def test_the_largest_safe_integer_conv_is_computed_exactly() -> None:
    value = 2**31 - 1
    x = np.full((1, 2, 1, 1), value, dtype=np.int64)
    w = np.full((1, 2, 1, 1), value, dtype=np.int64)
    assert conv2d(x, w)[0, 0, 0, 0] == 2 * value * value
    assert 2 * value * value < 2**63


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


# -- relu, batch norm, the block ------------------------------------------------------------------------
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


def test_batch_norm_refuses_bad_shapes_and_statistics() -> None:
    x = np.ones((1, 2, 2, 2))
    cases = [
        (lambda: batch_norm(np.ones(2), [0, 0], [1, 1]), "input must be (N, C), (N, C, L), (N, C, H, W) or (N, C, D"),
        (
            lambda: batch_norm(x, [0.0], [1.0, 1.0]),
            "running_mean must have shape (2,), one entry per channel, got (1,)",
        ),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0]), "running_var must have shape (2,), one entry per channel, got (1,)"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, 1.0], weight=[1.0]), "weight must have shape (2,)"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, 1.0], bias=[[1.0, 1.0]]), "bias must have shape (2,)"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, -1.0]), "running_var must be >= 0, got running_var[1] ="),
        (lambda: batch_norm(x, [np.nan, 0.0], [1.0, 1.0]), "running_mean has 1 NaN and 0 infinite entries"),
        (lambda: batch_norm(x, [0.0, 0.0], [1.0, np.inf]), "running_var has 0 NaN and 1 infinite entries"),
        (lambda: batch_norm(x, [0.0, 0.0], [0.0, 1.0], eps=0), "running_var + eps is 0 for some channel"),
        (lambda: batch_norm(x * np.nan, [0.0, 0.0], [1.0, 1.0]), "input has 8 NaN and 0 infinite entries"),
        (
            lambda: batch_norm(np.ones((1, 2, 1, 1), int), [0, 0], [2, 1], eps=0),
            "running_var[0] + eps = 2 has no rational square root",
        ),
        (lambda: batch_norm(np.ones((1, 2, 1, 1), int), [0, 0], [0, 1], eps=0), "running_var[0] + eps is 0"),
    ]
    for call, message in cases:
        with pytest.raises(VerifierError, match=re.escape(message)):
            call()


@pytest.mark.parametrize("eps", [-1e-5, float("nan"), float("inf"), "1e-5", True, None])
def test_batch_norm_eps_must_be_a_finite_number_at_least_zero(eps: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"eps must be a finite number >= 0, got {eps!r}")):
        batch_norm(np.ones((1, 1, 1, 1)), [0.0], [1.0], eps=eps)


def test_fold_batch_norm_refuses_mismatched_shapes() -> None:
    with pytest.raises(
        VerifierError, match=re.escape("conv_weight must be 4-D (C_out, C_in/groups, kH, kW), got shape (2, 2)")
    ):
        fold_batch_norm(np.ones((2, 2)), None, [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(VerifierError, match=re.escape("conv_bias must have shape (2,), got (3,)")):
        fold_batch_norm(np.ones((2, 1, 1, 1)), np.ones(3), [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(VerifierError, match=re.escape("running_mean must have shape (2,)")):
        fold_batch_norm(np.ones((2, 1, 1, 1)), None, [0.0], [1.0, 1.0])


def test_the_block_refuses_bad_parameters_and_inputs() -> None:
    block = Bottleneck(8, 2)
    params = bottleneck_params(block, seed=0)
    with pytest.raises(VerifierTypeError, match=re.escape("block must be a verifier.Bottleneck, got str")):
        bottleneck_params("resnet50")  # type: ignore[arg-type]
    with pytest.raises(VerifierError, match=re.escape("dtype must be one of float32, float64, object, got 'float16'")):
        bottleneck_params(block, dtype="float16")  # type: ignore[arg-type]
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got 0")):
        bottleneck_input(block, batch=0, size=4)
    with pytest.raises(VerifierError, match=re.escape("input must be 4-D (N, C, H, W), got shape (8, 4, 4)")):
        bottleneck_forward(np.ones((8, 4, 4), np.float32), params)
    with pytest.raises(VerifierError, match=re.escape("input has 4 channels but the block expects 8")):
        bottleneck_forward(np.ones((1, 4, 4, 4), np.float32), params)
    with pytest.raises(VerifierTypeError, match=re.escape("dtypes differ (input is float64, weight is float32)")):
        bottleneck_forward(np.ones((1, 8, 4, 4)), params)
    with pytest.raises(VerifierError, match=re.escape("input has 128 NaN and 0 infinite entries")):
        bottleneck_forward(np.full((1, 8, 4, 4), np.nan, np.float32), params)
    with pytest.raises(VerifierError, match=r"an input of shape \(1000000, 256, 56, 56\) needs about .* nothing was"):
        bottleneck_input(batch=10**6)


# -- valid input: the engine equals the loops -------------------------------------------------------------
@st.composite
def conv_cases(draw: Any, max_size: int = 7) -> dict[str, Any]:
    """A random valid conv on a small input: every argument of conv2d, and whether the input is batched."""
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if draw(st.booleans()):
        stride: Any = 1
        padding: Any = draw(st.sampled_from(["same", "valid", 0, 1, (0, 2)]))
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    pad_h = 0 if padding in ("same", "valid") else (padding if isinstance(padding, int) else padding[0])
    pad_w = 0 if padding in ("same", "valid") else (padding if isinstance(padding, int) else padding[1])
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * pad_h), max_size))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * pad_w), max_size))
    batch = draw(st.sampled_from([None, 1, 2]))
    shape = (cin, h, w) if batch is None else (batch, cin, h, w)
    return {
        "x_shape": shape,
        "w_shape": (cout, cin // groups, kh, kw),
        "bias": draw(st.booleans()),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def _operands(case: dict[str, Any], low: int, high: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(case["seed"])
    x = rng.integers(low, high, case["x_shape"])
    w = rng.integers(low, high, case["w_shape"])
    b = rng.integers(low, high, case["w_shape"][0]) if case["bias"] else None
    return x, w, b


def _args(case: dict[str, Any]) -> dict[str, Any]:
    return {k: case[k] for k in ("stride", "padding", "dilation", "groups")}


@settings(max_examples=40, deadline=None)
@given(case=conv_cases())
def test_integer_conv_equals_the_loop_reference_exactly(case: dict[str, Any]) -> None:
    x, w, b = _operands(case, -9, 10)
    expected = reference.conv2d(x.tolist(), w.tolist(), None if b is None else b.tolist(), **_args(case))
    got = conv2d(x, w, b, **_args(case))
    assert got.dtype == np.int64
    assert got.tolist() == expected, f"engine {got.tolist()} vs loops {expected} for {case}"
    exact = conv2d(x.astype(object), w.astype(object), None if b is None else b.astype(object), **_args(case))
    assert exact.tolist() == expected
    assert all(type(v) is int for v in exact.ravel())


@settings(max_examples=30, deadline=None)
@given(case=conv_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_float_conv_equals_the_loop_reference_to_rounding(case: dict[str, Any], dtype: Any) -> None:
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    w = rng.standard_normal(case["w_shape"]).astype(dtype)
    b = rng.standard_normal(case["w_shape"][0]).astype(dtype) if case["bias"] else None
    got = conv2d(x, w, b, **_args(case))
    assert got.dtype == dtype
    expected = np.array(reference.conv2d(x.astype(np.float64), w.astype(np.float64), b, **_args(case)))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=f"engine vs loops for {case}")


@settings(max_examples=25, deadline=None)
@given(case=conv_cases())
def test_fractions_are_convolved_exactly(case: dict[str, Any]) -> None:
    x, w, b = _operands(case, -4, 5)
    xf = np.vectorize(lambda v: Fraction(int(v), 3), otypes=[object])(x)
    wf = np.vectorize(lambda v: Fraction(int(v), 7), otypes=[object])(w)
    got = conv2d(xf, wf, None if b is None else b.astype(object), **_args(case))
    expected = reference.conv2d(xf.tolist(), wf.tolist(), None if b is None else b.tolist(), **_args(case))
    assert got.tolist() == expected


@settings(max_examples=20, deadline=None)
@given(
    channels=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    roots=st.lists(st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(2)]), min_size=4, max_size=4),
)
def test_exact_batch_norm_equals_the_loop_reference(channels: int, seed: int, roots: list[Fraction]) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(-5, 6, (2, channels, 2, 3))
    eps = Fraction(1, 16)
    mean = [Fraction(int(v), 2) for v in rng.integers(-3, 4, channels)]
    var = [roots[c] ** 2 - eps for c in range(channels)]
    gamma = [Fraction(int(v), 4) for v in rng.integers(-4, 5, channels)]
    beta = [Fraction(int(v)) for v in rng.integers(-3, 4, channels)]
    got = batch_norm(
        x, np.array(mean, object), np.array(var, object), np.array(gamma, object), np.array(beta, object), eps
    )
    root = dict(zip([r**2 for r in roots], roots, strict=False))
    expected = reference.batch_norm(x.tolist(), mean, var, gamma, beta, eps, sqrt=lambda v: root[v])
    assert got.tolist() == expected


def test_exact_bottleneck_equals_the_loop_definition_with_a_projection_and_stride() -> None:
    for block in (Bottleneck(8, 2, stride=2, variant="v1"), Bottleneck(8, 4, stride=2, groups=2), Bottleneck(8, 2)):
        params = bottleneck_params(block, seed=3, dtype="object", integer=True)
        x = bottleneck_input(block, batch=1, size=5, seed=4, dtype="object", integer=True)
        roots = {Fraction(r) ** 2: Fraction(r) for r in (Fraction(1, 2), 1, 2)}
        expected = reference.bottleneck(x.tolist(), params, sqrt=lambda v, roots=roots: roots[v])
        assert bottleneck_forward(x, params).tolist() == expected, block


# -- the memory guard ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2 - 1, "1024.0 KiB"),
        (3 * 1024**2, "3.0 MiB"),
        (5 * 1024**3 + 1024**3 // 2, "5.5 GiB"),
        (2 * 1024**4, "2.0 TiB"),
        (4096 * 1024**4, "4096.0 TiB"),
    ],
)
def test_byte_counts_read_in_binary_units(nbytes: int, text: str) -> None:
    assert human_bytes(nbytes) == text


@FAST
@given(nbytes=st.integers(0, 2**50), available=st.integers(1, 2**50))
def test_work_is_refused_exactly_when_it_exceeds_four_fifths_of_available_memory(nbytes: int, available: int) -> None:
    assume(abs(5 * nbytes - 4 * available) > available // 10**9)  # 0.8 is not a binary float: skip the knife edge
    if 5 * nbytes <= 4 * available:
        ensure_fits(nbytes, "the work", available=available)
        return
    message = (
        f"the work needs about {human_bytes(nbytes)} but only {human_bytes(available)} of memory is available "
        "(at most 80% of it is used); nothing was allocated: use a smaller batch or input"
    )
    with pytest.raises(VerifierError, match=re.escape(message)):
        ensure_fits(nbytes, "the work", available=available)


def test_available_memory_is_read_from_the_system() -> None:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    reported = int(fields["MemAvailable"].split()[0]) * 1024
    measured = available_bytes()
    assert measured is not None and measured % 1024 == 0
    assert abs(measured - reported) <= reported // 10  # memory moves between the two reads, not by 10%


# -- the edges each branch of the engine turns on --------------------------------------------------------
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


def test_a_padded_one_by_one_float_conv_equals_the_loops() -> None:
    rng = np.random.default_rng(11)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
        w = rng.standard_normal((4, 3, 1, 1)).astype(dtype)
        b = rng.standard_normal(4).astype(dtype)
        for padding in (1, (0, 2), "same"):
            got = conv2d(x, w, b, padding=padding)
            expected = np.array(reference.conv2d(x.astype(np.float64), w.astype(np.float64), b, 1, padding))
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=f"padding={padding}")


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


def test_exact_batch_norm_without_affine_parameters_and_with_float_statistics() -> None:
    x = np.array([[[[3, -1]], [[5, 9]]]])
    out = batch_norm(x, running_mean=[1.0, 1.0], running_var=[3.75, 15.75], eps=0.25)  # var + eps = 4 and 16
    assert out.dtype == object
    assert out.tolist() == [[[[Fraction(1), Fraction(-1)]], [[Fraction(1), Fraction(2)]]]]
    floats = batch_norm(x.astype(np.float64), [1.0, 1.0], [3.75, 15.75], eps=0.25)
    assert floats.tolist() == [[[[1.0, -1.0]], [[1.0, 2.0]]]]


def test_batch_norm_uses_torchs_default_eps() -> None:
    x = np.array([[[[2.0]]]])
    expected = (2.0 - 0.5) / np.sqrt(1.0 + 1e-5)
    assert batch_norm(x, [0.5], [1.0])[0, 0, 0, 0] == expected
    w, b = fold_batch_norm(np.ones((1, 1, 1, 1)), None, [0.5], [1.0])
    assert w.ravel()[0] == 1.0 / np.sqrt(1.0 + 1e-5) and b[0] == -0.5 / np.sqrt(1.0 + 1e-5)


def test_the_first_negative_variance_is_the_one_named() -> None:
    with pytest.raises(VerifierError, match=re.escape("running_var must be >= 0, got running_var[2] =")):
        batch_norm(np.ones((1, 3, 1, 1)), [0.0] * 3, [0.5, 0.0, -1.0])


def test_a_zero_denominator_is_found_whichever_channel_has_it() -> None:
    message = "running_var + eps is 0 for some channel: the normalisation would divide by zero"
    with pytest.raises(VerifierError, match="^" + re.escape(message) + "$"):
        batch_norm(np.ones((1, 2, 1, 1)), [0.0, 0.0], [4.0, 0.0], eps=0)
    with pytest.raises(VerifierError, match="^" + re.escape("running_var[1] + eps is 0: the normalisation")):
        batch_norm(np.ones((1, 2, 1, 1), int), [0, 0], [4, 0], eps=0)


def test_exact_batch_norm_explains_how_to_choose_the_variance() -> None:
    message = (
        "running_var[0] + eps = 2 has no rational square root, so exact batch_norm is impossible; choose "
        "running_var + eps to be the square of a rational (e.g. running_var = 4 - eps)"
    )
    with pytest.raises(VerifierError, match="^" + re.escape(message) + "$"):
        batch_norm(np.ones((1, 1, 1, 1), int), [0], [2], eps=0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda bad: batch_norm(bad, [0.0], [1.0]), "input"),
        (lambda bad: batch_norm(np.ones((1, 1, 1, 1)), bad.ravel(), [1.0]), "running_mean"),
        (lambda bad: fold_batch_norm(bad, None, [0.0], [1.0]), "conv_weight"),
        (lambda bad: fold_batch_norm(np.ones((1, 1, 1, 1)), bad.ravel(), [0.0], [1.0]), "conv_bias"),
    ],
)
def test_batch_norm_arguments_of_unsupported_dtypes_are_named(call: Any, name: str) -> None:
    bad = np.ones((1, 1, 1, 1), dtype=np.complex128)
    with pytest.raises(VerifierTypeError, match="^" + re.escape(f"{name} has dtype complex128; allowed")):
        call(bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, object])
@pytest.mark.parametrize("with_bias", [False, True])
def test_folding_keeps_float_widths_and_makes_exact_weights_fractions(dtype: Any, with_bias: bool) -> None:
    w = np.array([[[[2]]], [[[-4]]]]).astype(dtype)
    conv_bias = np.array([1, 3]).astype(dtype) if with_bias else None
    folded_w, folded_b = fold_batch_norm(w, conv_bias, [1, 1], [3, 15], weight=[2, 1], bias=[0, 1], eps=1)
    # scale = gamma / sqrt(var + eps) = (1, 1/4); shift = beta + (b - mean) * scale
    expected_w = [2, -1]
    expected_b = [0 + ((1 if with_bias else 0) - 1) * 1, 1 + ((3 if with_bias else 0) - 1) / 4]
    exact = np.dtype(dtype).kind != "f"
    assert folded_w.dtype == (np.dtype(object) if exact else np.dtype(dtype))
    assert folded_b.dtype == folded_w.dtype
    assert folded_w.ravel().tolist() == expected_w and folded_b.tolist() == expected_b
    if exact:
        assert all(isinstance(v, Fraction) for v in (*folded_w.ravel(), *folded_b))


def _measured_peak(call: Any) -> int:
    """Bytes allocated at the peak of ``call()`` beyond what existed before (NumPy reports to tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((2, 16, 24, 24), (16, 16, 3, 3), {"padding": 1}),
        ((1, 16, 24, 20), (32, 16, 3, 3), {"padding": "same", "dilation": 2}),
        ((2, 16, 24, 24), (16, 8, 3, 3), {"padding": (1, 0), "groups": 2}),
        ((1, 16, 24, 24), (16, 16, 1, 1), {"padding": 1}),
        ((2, 64, 24, 24), (16, 64, 1, 1), {}),
        ((2, 32, 28, 28), (32, 16, 3, 3), {"stride": 2, "groups": 2}),
        ((2, 32, 28, 28), (32, 32, 3, 3), {"stride": 2, "padding": 1}),
        ((1, 32, 20, 20), (32, 32, 1, 1), {"stride": (2, 1)}),
    ],
)
def test_the_memory_estimate_covers_what_a_float_conv_allocates(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], kwargs: dict[str, Any]
) -> None:
    from verifier.numeric._guards import common_dtype, conv_spec, conv_workspace_bytes

    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    estimate = conv_workspace_bytes(
        conv_spec(x.shape, w.shape, None, **kwargs), x.shape, common_dtype(input=x, weight=w)
    )
    peak = _measured_peak(lambda: conv2d(x, w, **kwargs))
    output = np.prod(conv_spec(x.shape, w.shape, None, **kwargs).output_shape(x.shape)) * 4
    assert peak <= estimate, (peak, estimate)
    assert output <= peak  # the measurement sees at least the result
    assert estimate <= 16 * peak  # an upper bound of what runs, not a multiple of it


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


def test_exact_integers_beyond_the_float_range_are_convolved() -> None:
    big = 10**400  # no float64 can hold it
    x = np.array([[[[big, -big]]]], dtype=object)
    w = np.array([[[[3, 2]]]], dtype=object)
    assert conv2d(x, w).ravel().tolist() == [big]
    assert relu(x).ravel().tolist() == [big, 0]
    # batch norm too: (x - mean) / sqrt(var + eps) * gamma + beta with var + eps = 4, exactly
    normed = batch_norm(x, [1], [3], weight=[2], bias=[-1], eps=1)
    assert normed.ravel().tolist() == [big - 2, -big - 2]


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
    from verifier.numeric._guards import common_dtype, conv_spec, conv_workspace_bytes

    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, (1, 4, 12, 12))
    w = rng.integers(-3, 4, (4, 4, kernel, kernel))
    if kind == "object":
        x, w = x.astype(object), w.astype(object)
    kwargs = {"stride": stride, "padding": padding}
    estimate = conv_workspace_bytes(
        conv_spec(x.shape, w.shape, None, **kwargs), x.shape, common_dtype(input=x, weight=w)
    )
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


# -- found by these tests and fixed ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["running_mean", "running_var"])
def test_missing_running_statistics_are_named(name: str) -> None:
    stats: dict[str, Any] = {"running_mean": [0.0, 0.0], "running_var": [1.0, 1.0], name: None}
    message = f"{name} must be an array with one entry per channel (2), got None"
    with pytest.raises(VerifierTypeError, match="^" + re.escape(message) + "$"):
        batch_norm(np.ones((1, 2, 1, 1)), **stats)


@pytest.mark.parametrize("size", [1.5, "56", (4, 0), None, True])
def test_a_block_input_size_must_be_a_positive_int_or_pair(size: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("size must be a positive int or a pair of them, got")):
        bottleneck_input(Bottleneck(8, 2), size=size)


@pytest.mark.parametrize("params", ["p", None, Bottleneck(8, 2)])
def test_the_block_forward_wants_its_parameters(params: Any) -> None:
    message = f"params must be a BottleneckParams (see bottleneck_params), got {type(params).__name__}"
    with pytest.raises(VerifierTypeError, match="^" + re.escape(message) + "$"):
        bottleneck_forward(np.ones((1, 8, 4, 4), np.float32), params)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seeds_must_be_non_negative_ints(seed: Any) -> None:
    with pytest.raises(VerifierError, match="^" + re.escape(f"seed must be an int >= 0, got {seed!r}")):
        bottleneck_params(Bottleneck(8, 2), seed=seed)
    with pytest.raises(VerifierError, match="^" + re.escape(f"seed must be an int >= 0, got {seed!r}")):
        bottleneck_input(Bottleneck(8, 2), size=4, seed=seed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, object])
@pytest.mark.parametrize("inplace", [False, True])
def test_relu_of_a_zero_dimensional_array(dtype: Any, inplace: bool) -> None:
    if inplace and np.dtype(dtype).kind != "f":
        return
    for value, expected in ((-1.5, 0), (2.5, 2.5)):
        x = np.array(value if np.dtype(dtype).kind == "f" else int(value), dtype=dtype)
        out = relu(x, inplace=inplace)
        assert out.shape == () and out == (expected if np.dtype(dtype).kind == "f" else int(expected))


def test_the_engine_keeps_working_in_a_forked_child() -> None:
    import os
    import signal

    from verifier.numeric import FoldedBottleneck

    params = bottleneck_params(seed=0)
    x = bottleneck_input(size=28, seed=1)
    block = FoldedBottleneck(params)
    expected = block(x)  # the parent's thread pool now exists
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        signal.alarm(60)
        os._exit(0 if np.array_equal(block(x), expected) else 3)
    _, status = os.waitpid(pid, 0)
    assert status == 0, f"the forked child ended with status {status} (14: it hung until the alarm)"


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


# -- exactness: NumPy integers inside object arrays ------------------------------------------------------------
INT_TYPES = [np.int64, np.int32, np.uint64, np.int8]


@FAST
@given(
    kind=st.sampled_from(INT_TYPES),
    xs=st.lists(st.integers(0, 120), min_size=1, max_size=3),
    scale=st.integers(0, 62),
    data=st.data(),
)
def test_numpy_integers_in_object_arrays_compute_as_python_ints(
    kind: Any, xs: list[int], scale: int, data: Any
) -> None:
    # Values as large as the type holds, so that NumPy's own integer arithmetic would wrap around.
    top = int(np.iinfo(kind).max)
    x_vals = [min(top, v << scale) for v in xs]
    w_vals = data.draw(st.lists(st.integers(1, min(top, 2**40)), min_size=len(xs), max_size=len(xs)))
    x = np.empty((1, len(xs), 1, 1), object)
    x[0, :, 0, 0] = [kind(v) for v in x_vals]
    w = np.empty((1, len(xs), 1, 1), object)
    w[0, :, 0, 0] = [kind(v) for v in w_vals]
    expected = sum(a * b for a, b in zip(x_vals, w_vals, strict=True))  # Python ints: no wrap-around
    out = conv2d(x, w)
    assert out[0, 0, 0, 0] == expected and type(out[0, 0, 0, 0]) is int
    y = relu(x)
    assert [type(v) for v in y.ravel()] == [int] * len(xs) and y.ravel().tolist() == x_vals


def test_the_issue_example_of_a_wrapped_around_exact_product() -> None:
    out = conv2d(np.array([[[[np.int64(2**62)]]]], object), np.array([[[[np.int64(4)]]]], object))
    assert out[0, 0, 0, 0] == 2**64


def test_exact_batch_norm_and_bottleneck_take_numpy_integers_as_python_ints() -> None:
    x = np.array([[[[np.int64(2**62), np.int64(-(2**62))]]]], object)
    out = batch_norm(x, [np.int64(0)], [np.int64(3)], weight=[np.int64(2**3)], eps=Fraction(1))  # sqrt(3 + 1) = 2
    assert out.ravel().tolist() == [2**64, -(2**64)]
    block = Bottleneck(4, 1)
    params = bottleneck_params(block, dtype="object", integer=True)
    x = bottleneck_input(block, size=2, dtype="object", integer=True) * 2**60  # sums beyond int64
    wrapped = np.vectorize(np.int64, otypes=[object])(x)  # the same values as NumPy integers
    assert bottleneck_forward(wrapped, params).tolist() == bottleneck_forward(x, params).tolist()


def test_object_arrays_with_other_numpy_scalars_are_refused_by_name() -> None:
    for item in (np.float64(1.0), np.bool_(True), np.float32(2.0)):
        x = np.array([[[[item]]]], object)
        with pytest.raises(VerifierTypeError, match=re.escape(f"input[0, 0, 0, 0] is {item!r}")):
            conv2d(x, np.ones((1, 1, 1, 1), object))


# -- overflow and NaN --------------------------------------------------------------------------------------------
@FAST
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    fraction=st.floats(0.6, 1.0),
    gain=st.floats(2.0, 100.0),
    rank=st.integers(2, 5),
)
def test_batch_norm_refuses_a_result_that_overflows(dtype: Any, fraction: float, gain: float, rank: int) -> None:
    big = float(np.finfo(dtype).max) * fraction
    x = np.full((1, 2) + (1,) * (rank - 2), big, dtype)
    with pytest.raises(VerifierError, match=re.escape(f"batch_norm overflowed {np.dtype(dtype)}")):
        batch_norm(x, np.zeros(2, dtype), np.ones(2, dtype), weight=np.full(2, gain, dtype), eps=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_refuses_a_scale_that_overflows_the_dtype(dtype: Any) -> None:
    # var + eps = 1e-300 (float64: 1e150 is finite) or 1e-60 (float32: 1e30 is finite, but not with gain 1e10)
    tiny = 1e-300 if dtype == np.float64 else 1e-60
    gain = 1e200 if dtype == np.float64 else 1e10
    x = np.ones((1, 1, 1, 1), dtype)
    with pytest.raises(VerifierError, match=r"batch norm's weight / sqrt\(running_var \+ eps\) overflows"):
        batch_norm(x, np.zeros(1, dtype), np.zeros(1, dtype), weight=np.full(1, gain, dtype), eps=tiny)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["conv_weight", "conv_bias"])
def test_fold_batch_norm_refuses_non_finite_conv_parameters(bad: float, where: str) -> None:
    w = np.ones((2, 1, 1, 1))
    b = np.zeros(2)
    (w if where == "conv_weight" else b).flat[1] = bad
    with pytest.raises(VerifierError, match=re.escape(f"{where} has ")):
        fold_batch_norm(w, b, [0.0, 0.0], [1.0, 1.0])


def test_fold_batch_norm_refuses_a_folded_weight_that_overflows() -> None:
    w = np.full((1, 1, 1, 1), 1e300)
    with pytest.raises(VerifierError, match="fold_batch_norm overflowed float64"):
        fold_batch_norm(w, None, [0.0], [0.0], weight=[1e10], eps=1e-20)


def _params_whose_residual_add_overflows(dtype: str) -> Any:
    """Zero conv weights, so every layer is finite, and bn3's shift at the dtype's largest value."""
    from verifier.numeric import BatchNormParams

    block = Bottleneck(8, 2)
    params = bottleneck_params(block, dtype=dtype)  # type: ignore[arg-type]
    big = np.full(8, np.finfo(dtype).max * 0.75, dtype)
    zeros = {name: np.zeros_like(getattr(params, name)) for name in ("conv1", "conv2", "conv3")}
    bn3 = BatchNormParams(np.zeros(8, dtype), np.ones(8, dtype), np.ones(8, dtype), big, 0.0)
    return type(params)(block, zeros["conv1"], params.bn1, zeros["conv2"], params.bn2, zeros["conv3"], bn3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_both_bottleneck_paths_refuse_an_overflowing_residual_add(dtype: str) -> None:
    from verifier.numeric import FoldedBottleneck

    params = _params_whose_residual_add_overflows(dtype)
    x = np.full((1, 8, 3, 3), np.finfo(dtype).max * 0.75, dtype)  # finite; plus bn3's shift it is not
    with pytest.raises(VerifierError, match=f"the bottleneck overflowed {dtype}"):
        bottleneck_forward(x, params)
    with pytest.raises(VerifierError, match=f"the bottleneck overflowed {dtype}"):
        FoldedBottleneck(params)(x)
    half = (x / 4).astype(dtype)  # and both agree where nothing overflows
    np.testing.assert_allclose(bottleneck_forward(half, params), FoldedBottleneck(params)(half), rtol=1e-6)


# -- relu: empty, read-only and huge inputs -----------------------------------------------------------------------
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


# -- refusals come before any work whose size depends on the input -------------------------------------------------
def _peak_bytes(call: Any) -> int:
    """The most memory ``call`` allocated before it raised (it must raise a VerifierError)."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(VerifierError, match="needs about"):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


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


# -- one API, one set of rules ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [int, np.int64, np.int32, np.uint8])
def test_bottleneck_input_takes_numpy_integer_sizes_as_conv2d_does(kind: Any) -> None:
    block = Bottleneck(8, 2)
    x = bottleneck_input(block, batch=kind(2), size=(kind(3), kind(4)))
    assert x.shape == (2, 8, 3, 4)
    assert conv2d(x, np.ones((2, 8, 1, 1), np.float32), stride=kind(2)).shape == (2, 2, 2, 2)


@pytest.mark.parametrize("batch", [0, -1, 2.0, True, "1", None])
def test_a_bad_batch_is_refused_by_its_name(batch: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"batch must be a positive int, got {batch!r}")):
        bottleneck_input(Bottleneck(8, 2), batch=batch)


@pytest.mark.parametrize(
    ("given", "name"), [(np.float32, "float32"), (np.dtype("float64"), "float64"), ("object", "object")]
)
def test_dtypes_are_taken_by_name_or_as_numpy_dtypes(given: Any, name: str) -> None:
    block = Bottleneck(4, 1)
    params = bottleneck_params(block, dtype=given, integer=True)
    assert bottleneck_input(block, size=2, dtype=given).dtype == np.dtype(name)
    assert params.conv1.dtype == np.dtype(name)


@pytest.mark.parametrize("dtype", [np.array(["float32", "float64"]), ["float32"], 32, None, np.float16])
def test_a_dtype_that_is_no_allowed_name_is_refused_by_name(dtype: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("dtype must be one of float32, float64, object, got")):
        bottleneck_params(dtype=dtype)


@FAST
@given(
    shape=st.lists(st.integers(1, 3), min_size=2, max_size=5).map(tuple),
    seed=st.integers(0, 2**16),
)
def test_batch_norm_takes_every_rank_torch_takes_exactly(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.integers(-9, 10, shape)
    mean = rng.integers(-3, 4, c).tolist()
    root = rng.integers(1, 4, c).tolist()
    var = [Fraction(r * r) - Fraction(1, 4) for r in root]  # var + eps = r^2: an exact square root
    gamma = rng.integers(-2, 3, c).tolist()
    beta = rng.integers(-2, 3, c).tolist()
    out = batch_norm(x, mean, var, gamma, beta, eps=Fraction(1, 4))
    assert out.shape == shape
    for index in np.ndindex(*shape):  # the defining formula, entry by entry, channel = axis 1
        k = index[1]
        assert out[index] == Fraction(int(x[index]) - mean[k], root[k]) * gamma[k] + beta[k], index


@pytest.mark.parametrize("eps", [np.float32(1e-5), np.float64(1e-5), 1e-5, Fraction(1, 2**16), 0])
def test_batch_norm_takes_any_finite_real_eps_as_torch_does(eps: Any) -> None:
    from verifier import BatchNorm2d

    x = np.ones((1, 1, 1, 1))
    assert np.isfinite(batch_norm(x, [0.0], [1.0], eps=eps)).all()
    if eps:
        assert BatchNorm2d(1, eps=eps).eps == eps


@pytest.mark.parametrize(
    ("nbytes", "text"), [(10**400, "9.095e+387 TiB"), (2**100, "1.153e+18 TiB"), (3 * 2**20, "3.0 MiB")]
)
def test_estimates_beyond_any_float_still_read_as_numbers(nbytes: int, text: str) -> None:
    assert human_bytes(nbytes) == text
    with pytest.raises(VerifierError, match=re.escape(f"needs about {text} but only")):
        ensure_fits(nbytes, "work", available=2**20)


def test_an_eps_no_float_holds_is_refused_for_float_input_and_exact_for_exact_input() -> None:
    with pytest.raises(VerifierError, match=re.escape("eps must be at most float64's largest value")):
        batch_norm(np.ones((1, 1)), [0.0], [1.0], eps=10**400)
    exact = batch_norm(np.array([[2]]), [0], [0], eps=4 * 10**400)  # sqrt(4e400) = 2e200
    assert exact[0, 0] == Fraction(1, 10**200)
