"""Derivations too large for the memory are refused with the estimate before anything is built, and a
single map of a wide layer is derived from the symbols it reads, equal to the map of the full tensors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy as sp

from verifier import VerifierError
from verifier.spec import Conv2d
from verifier.symbolic import derive, output_map, output_maps, output_tensor, tensors, weight_tensor


def _no_memory(monkeypatch):
    """Pretend 1 MiB is available: every estimate above the small-work threshold is then refused."""
    from verifier.numeric import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 20)
    monkeypatch.setattr(memory, "SMALL", 0)


def test_a_huge_weight_tensor_is_refused_with_its_estimate():
    with pytest.raises(VerifierError, match=r"6,400,000,000 symbols w_\{\.\.\.\} .* needs about 1\.5 TiB"):
        weight_tensor(Conv2d(100_000_000, 64, 1))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: output_maps(c, (0, 0), (1, 1)),
        lambda c: output_tensor(c, (1, 1)),
        lambda c: output_map(c, 0, (0, 0), (1, 1), inputs=[[[1]]] * c.in_channels),
        lambda c: output_map(c, 0, (0, 0), (1, 1)),
    ],
    ids=["output_maps", "output_tensor", "output_map with values", "output_map"],
)
def test_every_derivation_checks_its_size_before_building(call, monkeypatch):
    _no_memory(monkeypatch)
    conv = Conv2d(300, 300, 1)
    tensors._flat.cache_clear()
    with pytest.raises(
        VerifierError, match=r"(deriving|a tensor of) .* needs about .* nothing was allocated: .*(fewer|smaller)"
    ):
        call(conv)


@pytest.mark.parametrize(
    "conv, position, size",
    [
        (Conv2d(700, 8, 1), (0, 0), (1, 1)),
        (Conv2d(40, 6, 3, padding=1, groups=2, bias=True), (0, 4), (5, 5)),
        (Conv2d(30, 4, 3, stride=2, dilation=2, padding=2), (1, 1), (7, 9)),
    ],
)
def test_a_wide_layers_single_map_equals_the_map_of_the_whole_tensors(conv, position, size, monkeypatch):
    every = output_maps(conv, position, size)
    monkeypatch.setattr(derive, "_WHOLE_TENSORS_UP_TO", 0)  # force the symbols-it-reads route
    for o in range(conv.out_channels):
        single = output_map(conv, o, position, size)
        assert single == every[o]
        assert sp.srepr(single) == sp.srepr(every[o])


def test_the_cli_refuses_a_huge_derivation_quickly_and_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "verifier", "derive", "--in", "100000000", "--out", "64", "--map", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    assert "100,000,000 products" in done.stderr and "nothing was allocated" in done.stderr
