"""What the benchmark scripts share: shuffled interleaved timing, and the bare products that set their limit.

Nothing here imports this project, so the PyTorch side of ``compare_torch.py`` can use it from an
interpreter that has only torch and NumPy.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np


def interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmups: int = 1) -> dict[str, list[float]]:
    """Time each function ``repeats`` times, in rounds, after ``warmups`` untimed calls each.

    Each round takes the functions in a new random order (from a fixed seed): in a fixed order, a function's
    time depends on which one ran just before it (what that left in cache, or in BLAS's threads), and
    measured this way the same function differed by up to 0.3 ms between two places in the order.
    """
    for fn in fns.values():
        for _ in range(warmups):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    shuffle = random.Random(0).shuffle
    for _ in range(repeats):
        shuffle(order)
        for name in order:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return times


class BareProducts:
    """Plain ``np.matmul`` calls with the bottleneck's multiply-adds on ``batch`` 56x56 images, float32.

    ``block()`` does (64x256)@(256xN), (64x576)@(576xN) and (256x64)@(64xN), N = batch * 56 * 56: the
    products of conv1, conv2 (nine taps side by side) and conv3 at the practical limit of this machine's
    BLAS, with no layout work and no elementwise passes. ``one_by_one()`` does the two 1x1 products only.
    """

    def __init__(self, batch: int, width: int = 64, channels: int = 256) -> None:
        rng = np.random.default_rng(0)
        n_cols = batch * 56 * 56
        self.w1 = rng.standard_normal((width, channels), dtype=np.float32)
        self.w2 = rng.standard_normal((width, 9 * width), dtype=np.float32)
        self.w3 = rng.standard_normal((channels, width), dtype=np.float32)
        self.x_cols = rng.standard_normal((channels, n_cols), dtype=np.float32)
        self.cols2 = rng.standard_normal((9 * width, n_cols), dtype=np.float32)
        self.a = np.empty((width, n_cols), np.float32)
        self.y = np.empty((channels, n_cols), np.float32)

    def block(self) -> None:
        np.matmul(self.w1, self.x_cols, out=self.a)
        np.matmul(self.w2, self.cols2, out=self.a)
        np.matmul(self.w3, self.a, out=self.y)

    def one_by_one(self) -> None:
        np.matmul(self.w1, self.x_cols, out=self.a)
        np.matmul(self.w3, self.a, out=self.y)
