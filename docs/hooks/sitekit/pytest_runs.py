"""Run ``pytest`` with the proof check while the site builds, in empty folders, and show what it printed.

Each run is a real ``python -m pytest ...`` in a fresh temporary folder (no test files, no configuration),
exactly as a user would type it after ``pip install verifier``. The runs are independent processes, so
:func:`start` launches all of a page's runs at once and :func:`example` waits for the one it shows.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sitekit.cli import fenced


@dataclass(frozen=True)
class Run:
    """One pytest invocation: its arguments, the conftest.py it ran with (if any), exit status and output."""

    argv: tuple[str, ...]
    conftest: str
    status: int
    stdout: str
    stderr: str

    @property
    def command(self) -> str:
        return shlex.join(("pytest", *self.argv))


_POOL = ThreadPoolExecutor(max_workers=3)
_RUNS: dict[tuple[tuple[str, ...], str], Future[Run]] = {}


def _run(argv: tuple[str, ...], conftest: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["COLUMNS"] = "100"  # the width pytest draws its lines to
    with tempfile.TemporaryDirectory(prefix="verifier-pytest-") as folder:
        if conftest:
            with open(os.path.join(folder, "conftest.py"), "w", encoding="utf-8") as f:
                f.write(conftest)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *argv], cwd=folder, env=env, capture_output=True, text=True, timeout=600
        )
    return Run(argv, conftest, done.returncode, done.stdout, done.stderr)


def start(*argvs: tuple[str, ...], conftest: str = "") -> None:
    """Launch ``pytest ARGV`` for each argv in the background (with ``conftest`` as the folder's conftest.py)."""
    for argv in argvs:
        key = (tuple(argv), conftest)
        if key not in _RUNS:
            _RUNS[key] = _POOL.submit(_run, *key)


def result(*argv: str, conftest: str = "") -> Run:
    """The run of ``pytest ARGV`` (launched now unless :func:`start` already did)."""
    start(argv, conftest=conftest)
    return _RUNS[(argv, conftest)].result()


def example(*argv: str, conftest: str = "", status: int = 0) -> str:
    """The command and what it printed, as a console block; the build fails if the exit status differs."""
    r = result(*argv, conftest=conftest)
    if r.status != status:
        raise RuntimeError(f"{r.command} exited with {r.status}, not {status}:\n{r.stdout}\n{r.stderr}")
    shown = f"$ {r.command}\n{(r.stdout + r.stderr).rstrip()}"
    if r.status:
        shown += f"\n$ echo $?\n{r.status}"
    return fenced(shown, "console")
