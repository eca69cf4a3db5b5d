"""Measure the test suite itself: mutate the engines and the counting code, and count the mutants the tests kill.

Runs mutmut (configured in pyproject.toml, [tool.mutmut]) one module at a time, each in a fresh copy of the
tree, so the working tree never sees a mutant and the ``mutants/`` folder never appears in it. For each
module it prints the mutation score (killed / all mutants; a mutant that makes the tests time out counts as
killed, one that no test reaches as not killed) and the surviving mutants as diffs.

    .venv/bin/python scripts/mutation.py                  # every module below, one after another
    .venv/bin/python scripts/mutation.py spec numeric.conv --jobs 2
    .venv/bin/python scripts/mutation.py spec --no-diffs  # scores and survivor names only
    .venv/bin/python scripts/mutation.py spec --keep      # keep the copy to inspect or re-run single mutants

Mutants listed in scripts/mutation_equivalents.md (by name) are equivalent to the original code: they are
reported apart, and the score is also given with them set aside.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

NUMERIC_TESTS = (
    "tests/test_numeric_conv.py",
    "tests/test_numeric_guards.py",
    "tests/test_numeric_normalization.py",
    "tests/test_numeric_activations.py",
    "tests/test_exact_stress.py",
)
SYMBOLIC_TESTS = (
    "tests/test_symbolic_derive.py",
    "tests/test_symbolic_counting.py",
    "tests/test_exact_stress.py",
)
#: module -> (file to mutate, test files that judge it): the module's own tests and those of the modules it feeds.
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "spec": ("verifier/spec.py", ("tests/test_spec.py",)),
    "models": (
        "verifier/models.py",
        (
            "tests/test_models.py",
            "tests/test_tables.py",
            "tests/test_commands_count.py",
        ),
    ),
    "tables": ("verifier/tables.py", ("tests/test_tables.py", "tests/test_models.py", "tests/test_commands_count.py")),
    "numeric.reference": (
        "verifier/numeric/reference.py",
        (*NUMERIC_TESTS, "tests/test_numeric_reference.py", "tests/test_numeric_blocks.py"),
    ),
    "numeric.conv": ("verifier/numeric/conv.py", (*NUMERIC_TESTS, "tests/test_numeric_blocks.py")),
    "numeric._guards": ("verifier/numeric/_guards.py", (*NUMERIC_TESTS, "tests/test_numeric_blocks.py")),
    "numeric.normalization": ("verifier/numeric/normalization.py", (*NUMERIC_TESTS, "tests/test_numeric_blocks.py")),
    "numeric.activations": ("verifier/numeric/activations.py", (*NUMERIC_TESTS, "tests/test_numeric_blocks.py")),
    "numeric.parallel": (
        "verifier/numeric/parallel.py",
        (*NUMERIC_TESTS, "tests/test_numeric_parallel.py", "tests/test_numeric_blocks.py"),
    ),
    "memory": ("verifier/memory.py", (*NUMERIC_TESTS, "tests/test_memory.py", "tests/test_numeric_params.py")),
    "numeric.params": (
        "verifier/numeric/params.py",
        (*NUMERIC_TESTS, "tests/test_numeric_params.py", "tests/test_numeric_blocks.py", "tests/test_crosscheck.py"),
    ),
    "numeric.blocks": (
        "verifier/numeric/blocks.py",
        (*NUMERIC_TESTS, "tests/test_numeric_blocks.py", "tests/test_numeric_params.py", "tests/test_crosscheck.py"),
    ),
    "symbolic.tensors": (
        "verifier/symbolic/tensors.py",
        (*SYMBOLIC_TESTS, "tests/test_symbolic_tensors.py"),
    ),
    "symbolic._sympy_fast": (
        "verifier/symbolic/_sympy_fast.py",
        (*SYMBOLIC_TESTS, "tests/test_symbolic_sympy_fast.py", "tests/test_symbolic_tensors.py"),
    ),
    "symbolic.derive": (
        "verifier/symbolic/derive.py",
        SYMBOLIC_TESTS,
    ),
    "symbolic.counting": (
        "verifier/symbolic/counting.py",
        SYMBOLIC_TESTS,
    ),
    "symbolic.linalg": ("verifier/symbolic/linalg.py", (*SYMBOLIC_TESTS, "tests/test_symbolic_linalg.py")),
}

THREAD_VARIABLES = ("VERIFIER_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: mutmut's status words that count as caught: a failing test, or a test run so slow it timed out (a mutant
#: that turns a loop infinite). Every other status counts as not killed, "no tests" (no selected test reaches
#: the mutated function) included.
KILLED = {"killed", "timeout"}
EQUIVALENTS_FILE = ROOT / "scripts" / "mutation_equivalents.md"


def equivalent_names() -> set[str]:
    """Mutant names listed (in backticks at the start of a bullet) in the equivalents file."""
    if not EQUIVALENTS_FILE.exists():
        return set()
    return set(re.findall(r"^- `([^`]+)`", EQUIVALENTS_FILE.read_text(encoding="utf-8"), flags=re.MULTILINE))


def copy_tree(destination: Path) -> None:
    """Copy what the tests need (package, tests, pyproject, README for the doctested snippets)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in ("verifier", "tests"):
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, destination / name)


#: Put in the copy's tests/conftest.py: empties the mutated module's caches before every test. mutmut runs each
#: mutant's tests in a process forked from one that already ran the suite unmutated, so a remembered answer (an
#: lru_cache, conv2d's plans) would stand in for the mutated code and let its mutants survive unseen.
CACHE_RESET = """
import importlib

import pytest

MUTATED = {module!r}
MEMOS = {memos!r}


@pytest.fixture(autouse=True)
def _forget_what_the_unmutated_code_remembered():
    module = importlib.import_module(MUTATED)
    for value in list(vars(module).values()):
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    for where in MEMOS:
        owner, name = where.rsplit(".", 1)
        getattr(importlib.import_module(owner), name).clear()
    yield
"""


#: Module-level dicts that remember answers made by a module's code, by module (functools caches are found without
#: a list). conv2d's plans live in _guards but hold the scheme that conv.py chose, so both empty them.
MEMOS: dict[str, tuple[str, ...]] = {
    "verifier.numeric._guards": ("verifier.numeric._guards._PLANS",),
    "verifier.numeric.conv": ("verifier.numeric._guards._PLANS",),
}


def add_cache_reset(tests: Path, target: str) -> None:
    """Make every test in the copy start with the mutated module's caches empty (see CACHE_RESET)."""
    module = target.removesuffix(".py").replace("/", ".")
    conftest = tests / "conftest.py"
    existing = conftest.read_text(encoding="utf-8") if conftest.exists() else ""
    memos = MEMOS.get(module, ())
    conftest.write_text(existing + CACHE_RESET.format(module=module, memos=memos), encoding="utf-8")


def narrow_config(pyproject: Path, target: str, tests: tuple[str, ...]) -> None:
    """Rewrite the copy's [tool.mutmut] so it mutates only ``target`` and runs only ``tests``."""
    text = pyproject.read_text(encoding="utf-8")
    config = tomllib.loads(text)["tool"]["mutmut"]
    start = text.index("[tool.mutmut]")
    end = text.find("\n[", start + 1)
    rest = "" if end == -1 else text[end:]
    lines = [
        "[tool.mutmut]",
        'source_paths = ["verifier"]',
        f"only_mutate = [{target!r}]".replace("'", '"'),
        "pytest_add_cli_args = [" + ", ".join(f'"{a}"' for a in config.get("pytest_add_cli_args", [])) + "]",
        "pytest_add_cli_args_test_selection = [" + ", ".join(f'"{t}"' for t in tests) + "]",
    ]
    pyproject.write_text(text[:start] + "\n".join(lines) + "\n" + rest, encoding="utf-8")


def parse_results(output: str) -> dict[str, str]:
    """``mutmut results --all true`` lines look like ``    verifier.spec.x_f__mutmut_3: killed``."""
    statuses = {}
    for line in output.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status.strip()
    return statuses


def run_module(module: str, jobs: int, diffs: bool, equivalents: set[str], keep: bool) -> tuple[int, int, int]:
    """Mutate one module in a fresh copy; print its score and survivors; return (killed, equivalent, all)."""
    target, tests = MODULES[module]
    tests = tuple(t for t in tests if (ROOT / t).exists())
    with tempfile.TemporaryDirectory(prefix="verifier-mutation-") as tmp:
        work = Path(tempfile.mkdtemp(prefix=f"verifier-mutation-{module}-")) if keep else Path(tmp)
        if keep:
            print(f"== {module}: working in {work} (kept: 'mutmut show NAME' or 'mutmut run NAME' there)")
        copy_tree(work)
        narrow_config(work / "pyproject.toml", target, tests)
        add_cache_reset(work / "tests", target)
        mutmut = [str(PYTHON), "-m", "mutmut"]
        # mutmut forks each mutant's test run from a warmed-up process: threads do not survive a fork, so the
        # engine's thread pool and BLAS's threads would leave the child waiting forever. One thread each.
        env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1")}
        started = time.perf_counter()
        run = subprocess.run(
            [*mutmut, "run", "--max-children", str(jobs)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        results = subprocess.run([*mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True)
        statuses = parse_results(results.stdout)
        if not statuses:
            print(f"== {module}: mutmut produced no results (exit {run.returncode})")
            print((run.stdout + run.stderr)[-3000:])
            return 0, 0, 0
        counts = Counter(statuses.values())
        killed = sum(n for s, n in counts.items() if s in KILLED)
        total = len(statuses)
        survivors = sorted(name for name, s in statuses.items() if s not in KILLED)
        equivalent = [name for name in survivors if name in equivalents]
        live = [name for name in survivors if name not in equivalents]
        print(f"== {module} ({target}; tests: {', '.join(tests)}): {seconds:.0f} s")
        print("   " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
        print(f"   mutation score: {killed} killed / {total} mutants = {killed / total:.1%}")
        if equivalent:
            print(
                f"   with {len(equivalent)} equivalent mutants set aside: {killed} / {total - len(equivalent)} = "
                f"{killed / (total - len(equivalent)):.1%}"
            )
        # The listed equivalents are shown too, diff included: a name in the list that now denotes another
        # mutant (the code above it changed) shows here, to be judged again.
        for name in live + equivalent:
            label = "set aside as equivalent" if name in equivalents else "survivor"
            print(f"   {label} {name}: {statuses[name]}")
            if diffs:
                shown = subprocess.run([*mutmut, "show", name], cwd=work, capture_output=True, text=True)
                diff = [
                    ln for ln in shown.stdout.splitlines() if ln.startswith(("+", "-")) and ln[:3] not in ("+++", "---")
                ]
                for ln in diff:
                    print(f"      {ln}")
        return killed, len(equivalent), total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate, of: {', '.join(MODULES)} (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--no-diffs", action="store_true", help="list survivors by name only")
    parser.add_argument("--keep", action="store_true", help="keep each module's copy of the tree, and say where")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r}; choose from {', '.join(MODULES)}")
    equivalents = equivalent_names()
    totals = [0, 0, 0]
    for module in args.modules or list(MODULES):
        killed, equivalent, total = run_module(module, args.jobs, not args.no_diffs, equivalents, args.keep)
        totals = [totals[0] + killed, totals[1] + equivalent, totals[2] + total]
    killed, equivalent, total = totals
    if total:
        print(f"== overall: {killed} / {total} = {killed / total:.1%}", end="")
        if equivalent:
            print(f"; without the {equivalent} equivalent mutants: {killed / (total - equivalent):.1%}", end="")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
