"""Proofs about the command line's plumbing: the console entry, versions, and a reader that leaves early."""

from __future__ import annotations

import subprocess
import sys

import verifier


def test_python_dash_m_prints_the_package_version() -> None:
    done = subprocess.run([sys.executable, "-m", "verifier", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.split() == ["verifier", verifier.__version__]


def test_a_reader_that_closes_the_pipe_early_gets_no_traceback() -> None:
    # `verifier count resnet50 | head -1`: the report is longer than the pipe's reader wants.
    with subprocess.Popen(
        [sys.executable, "-m", "verifier", "count", "resnet50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as producer:
        assert producer.stdout is not None and producer.stderr is not None
        first = producer.stdout.readline()
        producer.stdout.close()
        err = producer.stderr.read().decode()
        producer.wait(timeout=120)
    assert first.startswith(b"verifier count resnet50")
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert producer.returncode == 0
