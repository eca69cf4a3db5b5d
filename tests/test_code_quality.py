"""The package keeps its own promises: ruff finds nothing and mypy --strict passes on verifier/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing_in_the_package_tests_and_benchmarks() -> None:
    done = _run(
        "ruff", "check", "verifier", "verifier_pytest", "verifier_cli", "tests", "benchmarks", "scripts", "docs"
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_passes_on_the_package() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
