"""The documentation site, built once per test run in the background while other tests run.

``mkdocs build --strict`` takes about half a minute. The first test process that collects a test needing the
site starts the build (:func:`start`) in a process of its own and goes on with other tests; those that need
the site come last (tests/conftest.py orders them) and :func:`wait` for it. Every test process of the run
reads the same built folder, named by ``VERIFIER_TEST_SITE``, which the run's first process creates and,
at its end, removes (:func:`remove`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = "VERIFIER_TEST_SITE"
_STARTED: list[subprocess.Popen[bytes]] = []  # the build, if this process started it

# Run in the build's own process: the build's output to a log, then its exit status, written last.
_BUILD = """
import os, subprocess, sys
out, log, status = sys.argv[1:4]
with open(log, "w") as f:
    code = subprocess.call([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", out],
                           stdout=f, stderr=subprocess.STDOUT)
with open(status + ".part", "w") as f:
    f.write(str(code))
os.replace(status + ".part", status)
"""


def create() -> Path:
    """A fresh folder for this run's site, named in the environment for the test processes started later."""
    folder = Path(tempfile.mkdtemp(prefix="verifier-site-"))
    os.environ[ENV] = str(folder)
    return folder


def _folder() -> Path:
    return Path(os.environ.get(ENV) or create())


def start() -> None:
    """Start the build unless a process of this run has started it already."""
    folder = _folder()
    try:
        os.close(os.open(folder / "started", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    args = [str(folder / "site"), str(folder / "build.log"), str(folder / "status")]
    process = subprocess.Popen(
        [sys.executable, "-c", _BUILD, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True
    )
    (folder / "pid").write_text(str(process.pid))
    _STARTED.append(process)


def wait(timeout: float = 900) -> Path:
    """The built site's folder, once the build has ended; an AssertionError with its output if it failed."""
    start()
    folder = _folder()
    deadline = time.monotonic() + timeout
    while not (folder / "status").exists():
        assert time.monotonic() < deadline, f"mkdocs build did not finish in {timeout:.0f} s"
        time.sleep(0.2)
    code = int((folder / "status").read_text())
    log = (folder / "build.log").read_text(encoding="utf-8", errors="replace")
    assert code == 0, f"mkdocs build --strict failed with status {code}:\n{log}"
    return folder / "site"


def reap() -> None:
    """Wait for the build if this process started it (other test processes may still be reading the site)."""
    while _STARTED:
        _STARTED.pop().wait()


def remove(folder: Path) -> None:
    """At the end of the run: stop a build still running (a run cut short) and remove the folder."""
    pid = folder / "pid"
    if pid.exists() and not (folder / "status").exists():
        with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
            os.killpg(int(pid.read_text()), signal.SIGTERM)
    reap()
    shutil.rmtree(folder, ignore_errors=True)
