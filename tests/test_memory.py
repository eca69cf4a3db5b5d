"""Proofs about the memory guard (verifier/memory.py): what is available, and what is refused before allocating."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from verifier import VerifierError, memory
from verifier.memory import available_bytes, ensure_fits, human_bytes

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


FAST = settings(max_examples=30, deadline=None)


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
        (10**12 * 1024**4 - 1024**4, "999999999999.0 TiB"),  # the last count in plain digits
        (10**12 * 1024**4, "1.000e+12 TiB"),  # from 10**12 TiB on, in scientific notation
        (-3 * 1024**2, "-3.0 MiB"),
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


@pytest.mark.parametrize(
    ("nbytes", "text"), [(10**400, "9.095e+387 TiB"), (2**100, "1.153e+18 TiB"), (3 * 2**20, "3.0 MiB")]
)
def test_estimates_beyond_any_float_still_read_as_numbers(nbytes: int, text: str) -> None:
    assert human_bytes(nbytes) == text
    with pytest.raises(VerifierError, match=re.escape(f"needs about {text} but only")):
        ensure_fits(nbytes, "work", available=2**20)
