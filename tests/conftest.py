"""How the suite runs on several cores (``-n auto --dist loadfile``, set in pyproject.toml; ``-n 0``: one process).

The documentation site takes about half a minute to build. It is built once per run, in a process of its own,
started as soon as a test that needs it is collected (``tests/_site_build.py``); the tests that read it run
last, so that every core spends the build's half minute on the rest of the suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import _site_build
import pytest

_OWNER = pytest.StashKey[Path]()  # the site folder, kept by the run's first process, which removes it at the end


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the run's first process (xdist's workers start after this)
        config.stash[_OWNER] = _site_build.create()
    # One BLAS thread per process when several processes share the cores: a BLAS thread waiting for a busy core
    # spins, and two processes' spinning threads cost more than their second threads gain.
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"  # and in the processes tests start


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected: only a selected test starts the build
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each file runs whole in one process (``--dist loadfile``), handed out in this order: files with full-size
    runs (marked ``slow``) first, the files that read the site last, each file's own order kept."""
    reads_site = {item.path for item in items if "site" in getattr(item, "fixturenames", ())}
    has_slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    if reads_site:
        _site_build.start()
    items.sort(key=lambda item: (item.path in reads_site, item.path not in has_slow))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _OWNER in config.stash:
        _site_build.remove(config.stash[_OWNER])
    else:
        _site_build.reap()
