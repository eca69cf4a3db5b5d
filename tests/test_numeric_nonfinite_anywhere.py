"""conv2d refuses a NaN or an infinity wherever it sits in the input, also where no output reads it.

The engine sometimes checks its (smaller) output instead of its input, which is sound only when every
input entry is read; the rule deciding that is compared with a brute-force count of the pixels the
taps reach.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from verifier import VerifierError
from verifier.numeric import conv2d
from verifier.numeric._guards import _reads_every_input, conv_spec

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
