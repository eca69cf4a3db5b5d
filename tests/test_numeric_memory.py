"""Proofs about the memory guard: where it reads the available memory, and exactly when it asks and refuses.

The system's answers are replaced by fixed ones (a /proc/meminfo text, sysconf page counts), so each figure
below is written out by hand.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest

from verifier import VerifierError, memory

MEMINFO = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    9000000 kB\nCached: 5 kB\n"
PAGES = {"SC_AVPHYS_PAGES": 3000, "SC_PAGE_SIZE": 4096}


def _system(monkeypatch: pytest.MonkeyPatch, meminfo: str | None, pages: dict[str, int] | None) -> None:
    """Serve ``meminfo`` as /proc/meminfo (None: no such file) and ``pages`` from sysconf (None: none there)."""

    def fake_open(path: str, *args: Any, **kwargs: Any) -> io.StringIO:
        if meminfo is None or path != "/proc/meminfo":
            raise FileNotFoundError(path)
        return io.StringIO(meminfo)

    def fake_sysconf(name: str) -> int:
        if pages is None or name not in pages:
            raise ValueError(f"unrecognized configuration name {name!r}")
        return pages[name]

    monkeypatch.setattr(memory, "open", fake_open, raising=False)
    monkeypatch.setattr(os, "sysconf", fake_sysconf)


def test_available_memory_is_memavailable_from_proc_meminfo(monkeypatch: pytest.MonkeyPatch) -> None:
    _system(monkeypatch, MEMINFO, PAGES)
    assert memory.available_bytes() == 9_000_000 * 1024  # not MemFree, and not the sysconf figure


def test_without_a_memavailable_line_the_free_pages_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    _system(monkeypatch, "MemTotal: 16 kB\nMemFree: 8 kB\n", PAGES)
    assert memory.available_bytes() == 3000 * 4096


def test_without_proc_meminfo_the_free_pages_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    _system(monkeypatch, None, PAGES)
    available = memory.available_bytes()
    assert available == 3000 * 4096 and type(available) is int


@pytest.mark.parametrize("pages", [None, {"SC_PAGE_SIZE": 4096}, {"SC_AVPHYS_PAGES": 3000}])
def test_where_neither_source_answers_the_memory_is_unknown(
    monkeypatch: pytest.MonkeyPatch, pages: dict[str, int] | None
) -> None:
    _system(monkeypatch, None, pages)
    assert memory.available_bytes() is None


def test_unknown_memory_refuses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    memory.ensure_fits(10**15, "the work")


def test_exactly_four_fifths_of_the_available_memory_is_allowed() -> None:
    memory.ensure_fits(8, "the work", available=10)
    with pytest.raises(VerifierError, match=re.escape("the work needs about 9 B but only 10 B")):
        memory.ensure_fits(9, "the work", available=10)


def test_work_of_64_mib_or_more_asks_the_system_and_smaller_work_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []

    def one_mib() -> int:
        asked.append(1)
        return 2**20

    monkeypatch.setattr(memory, "available_bytes", one_mib)
    memory.ensure_fits(64 * 2**20 - 1, "small work")
    assert asked == []
    with pytest.raises(VerifierError, match=re.escape("large work needs about 64.0 MiB but only 1.0 MiB")):
        memory.ensure_fits(64 * 2**20, "large work")
    assert asked == [1]
