"""Proofs about the folded bottleneck's generic path (exact, grouped, strided blocks) and what it shows of itself.

The fast path is compared with the definition elsewhere; here the blocks that take the generic path, an
identity shortcut and a strided first 1x1 among them, must give exactly what the unfolded definition gives.
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction

import numpy as np
import pytest

from verifier import Bottleneck, VerifierError, VerifierTypeError
from verifier.numeric import FoldedBottleneck, bottleneck_forward, bottleneck_input, bottleneck_params

GENERIC = [
    Bottleneck(16, 4, groups=2, base_width=32),  # grouped 3x3, identity shortcut
    Bottleneck(8, 2, stride=2, variant="v1"),  # v1: the first 1x1 strides (exact dtype: generic path)
    Bottleneck(8, 2, stride=2, variant="v1", groups=2, base_width=64),  # strided 1x1 and a grouped 3x3
    Bottleneck(8, 2),  # identity, exact
]


@pytest.mark.parametrize("block", GENERIC, ids=repr)
def test_the_exact_generic_path_equals_the_definition(block: Bottleneck) -> None:
    params = bottleneck_params(block, seed=2, dtype="object", integer=True)
    x = bottleneck_input(block, batch=2, size=(5, 6), seed=3, dtype="object", integer=True)
    folded = FoldedBottleneck(params)
    assert not folded.fast
    mine, theirs = folded(x), bottleneck_forward(x, params)
    assert mine.shape == theirs.shape == block.output_shape(x.shape)
    assert mine.tolist() == theirs.tolist()
    assert all(type(v) in (int, Fraction) for v in mine.ravel())


@pytest.mark.parametrize("block", [GENERIC[0], GENERIC[2]], ids=repr)
def test_the_float_generic_path_of_a_grouped_block_equals_the_definition(block: Bottleneck) -> None:
    # dyadic data: float64 computes the block exactly, so the folded and unfolded passes agree to the bit
    params = bottleneck_params(block, seed=4, dtype="float64", integer=True)
    x = bottleneck_input(block, batch=2, size=(7, 5), seed=5, dtype="float64", integer=True)
    folded = FoldedBottleneck(params)
    assert not folded.fast
    np.testing.assert_array_equal(folded(x), bottleneck_forward(x, params))
    out = np.empty(block.output_shape(x.shape), np.float64)
    assert folded(x, out=out) is out
    np.testing.assert_array_equal(out, bottleneck_forward(x, params))


@pytest.mark.parametrize(
    ("block", "dtype", "text"),
    [
        (
            Bottleneck(8, 2),
            "float64",
            "FoldedBottleneck(Bottleneck(in_channels=8, planes=2, ...), dtype=float64, fast path)",
        ),
        (
            Bottleneck(16, 4, groups=2, base_width=32),
            "float32",
            "FoldedBottleneck(Bottleneck(in_channels=16, planes=4, ...), dtype=float32, generic path)",
        ),
        (
            Bottleneck(8, 2),
            "object",
            "FoldedBottleneck(Bottleneck(in_channels=8, planes=2, ...), dtype=object, generic path)",
        ),
    ],
)
def test_a_folded_block_shows_its_sizes_dtype_and_path(block: Bottleneck, dtype: str, text: str) -> None:
    assert repr(FoldedBottleneck(bottleneck_params(block, dtype=dtype, integer=True))) == text  # type: ignore[arg-type]


def test_batch_norm_parameters_show_their_channels_and_eps() -> None:
    params = bottleneck_params(Bottleneck(8, 2), dtype="float64")
    assert repr(params.bn1) == "BatchNormParams(2 channels, eps=1e-05)"
    assert repr(params.bn3) == "BatchNormParams(8 channels, eps=1e-05)"
    exact = bottleneck_params(Bottleneck(8, 2), dtype="object", integer=True)
    assert repr(exact.bn2) == "BatchNormParams(2 channels, eps=1/65536)"


def _held_bytes(folded: FoldedBottleneck, output: np.ndarray, stride: int) -> int:
    """Bytes of the output and of the buffers the fast path allocated and keeps (views excluded)."""
    [((h, w), buffers)] = folded._buffers.items()
    arrays = [buffers["stacked"], buffers["a2"], buffers["floor"], *buffers["tmp"], buffers["short"]]
    strided_copy = folded.block.in_channels * h * w * output.itemsize if stride != 1 else 0
    from verifier.numeric.activations import _zeros

    zeros_row = _zeros(h * w, output.dtype.str)  # the row the ReLUs compare against, cached once per length
    return output.nbytes + sum(a.nbytes for a in arrays if a.base is None) + strided_copy + int(zeros_row.nbytes)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("block", "stride"),
    [
        (Bottleneck(32, 16, projection=True), 1),
        (Bottleneck(64, 16, stride=2, variant="v1"), 2),
        (Bottleneck(64, 16), 1),
    ],
    ids=repr,
)
def test_the_workspace_estimate_is_what_the_fast_path_allocates(block: Bottleneck, stride: int, dtype: str) -> None:
    folded = FoldedBottleneck(bottleneck_params(block, seed=0, dtype=dtype))  # type: ignore[arg-type]
    x = bottleneck_input(block, batch=2, size=(9, 7), seed=1, dtype=dtype)  # type: ignore[arg-type]
    assert folded.fast
    held = _held_bytes(folded, folded(x), stride)
    if block.has_projection:
        assert folded.workspace_bytes(x.shape) == held
    else:  # an identity block keeps no shortcut buffer, which the estimate still counts (out_channels rows)
        assert folded.workspace_bytes(x.shape) == held + block.out_channels * 9 * 7 * x.itemsize


def test_a_forward_pass_too_large_for_memory_names_the_bottleneck_and_its_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verifier import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1024)
    block = Bottleneck(64, 16)
    folded = FoldedBottleneck(bottleneck_params(block, dtype="float32"))
    x = np.zeros((256, 64, 32, 32), np.float32)  # a workspace over the 64 MiB below which the system is not asked
    with pytest.raises(VerifierError, match=re.escape("the bottleneck on input (256, 64, 32, 32) needs about")):
        folded(x)


def test_a_folded_block_refuses_anything_but_bottleneck_params() -> None:
    with pytest.raises(VerifierTypeError, match=re.escape("params must be BottleneckParams, got str")):
        FoldedBottleneck("params")  # type: ignore[arg-type]


def test_a_spare_projection_batch_norm_on_an_identity_block_is_ignored() -> None:
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=6, dtype="float64", integer=True)
    spare = dataclasses.replace(params, downsample_bn=params.bn3)
    x = bottleneck_input(block, batch=1, size=5, seed=7, dtype="float64", integer=True)
    np.testing.assert_array_equal(FoldedBottleneck(spare)(x), bottleneck_forward(x, params))
    np.testing.assert_array_equal(bottleneck_forward(x, spare), bottleneck_forward(x, params))


@pytest.mark.parametrize(("dtype", "size"), [("float32", "64.0 MiB"), ("float64", "128.0 MiB"), ("object", "1.0 GiB")])
def test_an_input_too_large_for_memory_is_refused_with_its_size(
    monkeypatch: pytest.MonkeyPatch, dtype: str, size: str
) -> None:
    from verifier import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1024)
    # 256 maps of 256 x 256: 2**24 entries, of 4 or 8 bytes, or a pointer and a number (64 bytes) for objects
    message = f"an input of shape (1, 256, 256, 256) needs about {size}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        bottleneck_input(Bottleneck(), size=256, dtype=dtype)  # type: ignore[arg-type]


def test_inputs_default_to_one_standard_normal_sample_and_integers_span_minus_3_to_3() -> None:
    block = Bottleneck(8, 2)
    x = bottleneck_input(block, size=(6, 5))
    assert x.shape == (1, 8, 6, 5) and x.dtype == np.float32
    np.testing.assert_array_equal(x, np.random.default_rng(0).standard_normal((1, 8, 6, 5)).astype(np.float32))
    whole = bottleneck_input(block, batch=3, size=12, integer=True, dtype="float64")
    assert set(np.unique(whole).tolist()) == {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0}
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got 0")):
        bottleneck_input(block, batch=0)
    with pytest.raises(VerifierError, match=re.escape("batch must be a positive int, got 2.0 (float)")):
        bottleneck_input(block, batch=2.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("x", ["abc", [[1, 2]], np.zeros((1, 8, 3, 3), bool)], ids=["str", "2-D", "bool"])
def test_a_bad_input_to_either_pass_is_named_input(x: object) -> None:
    params = bottleneck_params(Bottleneck(8, 2), dtype="float64")
    for forward in (bottleneck_forward, lambda a, p: FoldedBottleneck(p)(a)):
        with pytest.raises(VerifierError, match=r"^input "):
            forward(x, params)


def test_an_infinite_input_times_a_zero_weight_is_refused_as_input_not_as_a_warning() -> None:
    # 0 * inf is an invalid operation: the fast path must stay quiet about it (the suite turns warnings into
    # errors) and name the infinite entry, which conv1's finite-result check then finds
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=1, dtype="float64", integer=True)
    conv1 = params.conv1.copy()
    conv1[:, 5] = 0  # input channel 5 reaches no conv1 output
    folded = FoldedBottleneck(dataclasses.replace(params, conv1=conv1))
    assert folded.fast
    x = bottleneck_input(block, batch=2, size=(6, 5), seed=2, dtype="float64", integer=True)
    x[1, 5, 2, 3] = np.inf
    message = "input has 0 NaN and 1 infinite entries (first at index [1, 5, 2, 3])"
    with pytest.raises(VerifierError, match=re.escape(message)):
        folded(x)


@pytest.mark.parametrize(
    "block", [Bottleneck(16, 4), Bottleneck(16, 4, stride=2, variant="v1", projection=True)], ids=repr
)
def test_a_float32_block_keeps_every_folded_array_and_buffer_in_float32(block: Bottleneck) -> None:
    # float64 anywhere would make NumPy leave float32 BLAS for a slower mixed loop and double the memory
    folded = FoldedBottleneck(bottleneck_params(block, seed=3, dtype="float32"))
    folded(bottleneck_input(block, batch=1, size=(5, 4), seed=4, dtype="float32"))
    arrays = {
        name: getattr(folded, name) for name in ("_w1", "_w2", "_w3", "_low1", "w1", "b1", "w2", "b2", "w3", "b3")
    }
    if block.has_projection:
        arrays.update(_wd=folded._wd, wd=folded.wd, bd=folded.bd)
    [buffers] = folded._buffers.values()
    arrays.update({key: buffers[key] for key in ("stacked", "a2", "floor", "short")})
    arrays.update({f"tmp{i}": t for i, t in enumerate(buffers["tmp"])})
    assert {name: a.dtype for name, a in arrays.items()} == dict.fromkeys(arrays, np.dtype(np.float32))


@pytest.mark.parametrize(
    "block", [Bottleneck(16, 4), Bottleneck(16, 4, stride=2, variant="v1", projection=True)], ids=repr
)
def test_the_workspace_estimate_counts_4_8_or_64_bytes_an_entry_by_dtype(block: Bottleneck) -> None:
    # the same entries in each dtype: 4 and 8 bytes a float, a pointer and a Fraction (64 bytes) an object
    estimates = {
        dtype: FoldedBottleneck(bottleneck_params(block, dtype=dtype, integer=True)).workspace_bytes((2, 16, 9, 7))
        for dtype in ("float32", "float64", "object")
    }
    entries = estimates["float64"] // 8
    assert entries * 8 == estimates["float64"] and entries > 2 * 16 * 9 * 7 // block.stride**2
    assert estimates == {"float32": 4 * entries, "float64": 8 * entries, "object": 64 * entries}


def test_an_overflow_after_conv1_is_refused_with_the_whole_message() -> None:
    block = Bottleneck(16, 4)
    params = bottleneck_params(block, seed=0, dtype="float32")
    params = dataclasses.replace(params, conv3=np.full_like(params.conv3, 1e36))
    message = "the bottleneck overflowed float32: its output has non-finite entries although every input is finite"
    with pytest.raises(VerifierError, match=f"^{re.escape(message)}$"):
        FoldedBottleneck(params)(np.full((1, 16, 4, 4), 1e4, np.float32))


@pytest.mark.parametrize(
    "out",
    [np.empty((1, 16, 3, 3), np.float32), np.empty((1, 16, 3, 6), np.float64)[..., ::2]],
    ids=["float32", "strided"],
)
def test_an_output_array_of_the_right_shape_but_wrong_dtype_or_layout_is_refused(out: np.ndarray) -> None:
    params = bottleneck_params(Bottleneck(16, 4), dtype="float64")
    message = "out must be a C-contiguous float64 array of shape (1, 16, 3, 3), got (1, 16, 3, 3)"
    with pytest.raises(VerifierError, match=re.escape(message)):
        FoldedBottleneck(params)(np.ones((1, 16, 3, 3)), out=out)


@pytest.mark.parametrize(("block", "scans"), [(Bottleneck(16, 4), 0), (Bottleneck(16, 4, stride=2, variant="v1"), 1)])
def test_only_a_strided_fast_block_scans_its_input_for_non_finite_entries_up_front(
    monkeypatch: pytest.MonkeyPatch, block: Bottleneck, scans: int
) -> None:
    # unstrided, conv1 reads every entry and its finite result proves the input finite: no separate pass
    from verifier.numeric import blocks
    from verifier.numeric._guards import ensure_finite as real

    names: list[str] = []

    def counting(name: str, arr: np.ndarray) -> float:
        names.append(name)
        return real(name, arr)

    monkeypatch.setattr(blocks, "ensure_finite", counting)
    folded = FoldedBottleneck(bottleneck_params(block, seed=1, dtype="float64"))
    assert folded.fast
    folded(bottleneck_input(block, batch=1, size=6, seed=2, dtype="float64"))
    assert names == ["input"] * scans
