"""The collector pause restores the collector's state exactly, on success, on error, and when nested."""

from __future__ import annotations

import gc

import pytest

from verifier._bulk import collector_paused


def test_the_collector_is_restored_after_an_error():
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        assert not gc.isenabled()
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_pauses_restore_only_at_the_outermost():
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off, so it leaves it off
    assert gc.isenabled()


def test_a_theorem_check_leaves_the_collector_on():
    from verifier import theorems

    theorems.get_theorem("batchnorm-fold").check()
    assert gc.isenabled()
