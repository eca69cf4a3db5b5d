"""conv2d remembers the spec of recent calls; a remembered answer must never stand for different arguments.

``1``, ``True``, ``1.0`` and ``np.int64(1)`` compare equal in Python, and ``(1, 1)`` equals ``[1, 1]`` only by
value: each call is checked as if it were the first, and the refusals stay refusals.
"""

from __future__ import annotations

import numpy as np
import pytest

from verifier import VerifierError, VerifierTypeError
from verifier.numeric import _guards, conv2d

X = np.arange(2 * 4 * 4, dtype=np.float64).reshape(1, 2, 4, 4)
W = np.ones((2, 2, 1, 1))


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
    expected = conv2d(X, W, **twin)  # cached now
    with pytest.raises(error, match=match):
        conv2d(X, W, **kwargs)
    assert np.array_equal(conv2d(X, W, **twin), expected)


def test_numpy_integers_and_lists_give_the_same_answer_as_ints_and_tuples():
    w = np.arange(2 * 2 * 3 * 3, dtype=np.float64).reshape(2, 2, 3, 3)
    first = conv2d(X, w, stride=(1, 2), padding=[1, 0])
    assert np.array_equal(conv2d(X, w, stride=[1, 2], padding=(1, 0)), first)
    assert np.array_equal(conv2d(X, w, stride=(np.int64(1), 2), padding=(1, np.int32(0))), first)


def test_the_spec_depends_on_every_argument():
    w = np.ones((2, 1, 3, 3))
    seen = {}
    for stride in (1, 2):
        for padding in (0, 1, "same"):
            for dilation in (1, 2):
                for groups, weight in ((1, np.ones((2, 2, 3, 3))), (2, w)):
                    if (padding == "same" and stride != 1) or (padding == 0 and dilation == 2):
                        continue  # "same" needs stride 1; a dilated 3x3 reaches 5 pixels, wider than 4
                    out = conv2d(X, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
                    spec = _guards.conv_spec(X.shape, weight.shape, None, stride, padding, dilation, groups)
                    fresh = _guards._conv_spec(X.shape, weight.shape, None, stride, padding, dilation, groups)
                    assert spec == fresh and out.shape[2:] == fresh.output_size(4, 4)
                    seen[(stride, padding, dilation, groups)] = spec
    assert len(set(seen.values())) == len(seen)  # no two argument sets shared a spec


def test_conv_spec_refuses_mismatched_channels_after_many_good_calls():
    for c in range(1, 40):
        assert _guards.conv_spec((1, c, 3, 3), (1, c, 1, 1), None).in_channels == c
    with pytest.raises(VerifierError, match="channels"):
        _guards.conv_spec((1, 3, 3, 3), (1, 4, 1, 1), None)
