"""Proofs about the counted forward pass: the engine performs exactly the multiply-adds the closed forms state."""

from __future__ import annotations

import numpy as np
import pytest
from _hand_counts import configs, hand_counts_total
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import VerifierError
from verifier.execute import MacCounter, run_counted
from verifier.models import (
    ResNet,
    resnet,
)


def test_engine_counts_equal_the_closed_form_on_a_small_input() -> None:
    run = run_counted(resnet("resnet50", "v1"), (1, 3, 64, 64), seed=1)
    assert run.matches and run.macs_performed == hand_counts_total("resnet50", "v1", 64)
    assert run.output_shape == (1, 1000)
    assert len(run.calls) == 53 + 1  # 53 convs (1 stem + 16 blocks x 3 + 4 projections) and the classifier


def test_a_conv_engine_that_ignores_the_stride_is_caught() -> None:
    """The counter reads the arrays the engine returns, so an engine doing the wrong work is exposed."""
    from verifier.numeric import conv2d

    def strideless(x: np.ndarray, w: np.ndarray, b: object = None, stride: object = 1, **kw: object) -> np.ndarray:
        return conv2d(x, w, b, 1, **kw)  # type: ignore[arg-type]

    run = run_counted(resnet("resnet18"), (1, 3, 32, 32), conv2d=strideless)
    assert not run.matches and run.macs_performed > run.macs_closed_form
    counter = MacCounter(strideless)
    x, w = np.ones((1, 4, 8, 8), np.float32), np.ones((2, 4, 3, 3), np.float32)
    counter.conv("c", x, w, (2, 2), (1, 1), 1)
    assert counter.total == 2 * 8 * 8 * 4 * 9 != 2 * 4 * 4 * 4 * 9  # the work done, not the work intended


@pytest.mark.slow
def test_engine_runs_resnet50_at_full_size_performing_exactly_the_closed_form_macs() -> None:
    run = run_counted(resnet("resnet50"), (1, 3, 224, 224), seed=0)
    assert run.macs_performed == run.macs_closed_form == hand_counts_total("resnet50", "v1.5", 224)
    assert run.output_shape == (1, 1000) and run.dtype == "float32" and run.seconds > 0


@settings(max_examples=6, deadline=None)
@given(config=configs, variant=st.sampled_from(["v1", "v1.5"]), hw=st.integers(8, 40), seed=st.integers(0, 99))
def test_the_engine_performs_the_closed_form_macs_for_any_configuration(
    config: tuple[str, tuple[int, ...], tuple[int, int]], variant: str, hw: int, seed: int
) -> None:
    kind, layers, (groups, wpg) = config
    if kind == "basic":
        groups, wpg = 1, 64
    net = ResNet("custom", kind, layers, groups, wpg, variant)  # type: ignore[arg-type]
    run = run_counted(net, (1, 3, hw, hw), seed=seed)
    assert run.macs_performed == run.macs_closed_form == hand_counts_total((kind, layers, groups, wpg), variant, hw)


def test_a_counted_run_too_large_for_memory_is_refused_with_the_estimate() -> None:
    from verifier.execute import run_counted

    shape = (100_000, 3, 224, 224)  # the input alone is 60 GB of float32
    with pytest.raises(VerifierError, match=r"on input \(100000, 3, 224, 224\) needs about .* nothing was allocated"):
        run_counted(resnet("resnet50"), shape)
