"""``pytest --verifier``: the proof check as test items, and nothing at all without the flag.

The runs below are pytest runs inside this one (pytest's ``pytester``), in empty temporary directories. Runs
that sabotage the package happen in a subprocess, so that nothing they break or cache reaches this process.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

from verifier.claims import CLAIMS
from verifier.crosscheck import chosen_pixels
from verifier.spec import Bottleneck, Conv2d
from verifier.theorems import THEOREMS

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
THEOREM_IDS = [t.id for t in THEOREMS]
CLAIM_IDS = [c.id for c in CLAIMS]
# the full-size cross-check, one item per output pixel it chooses
PIXELS = chosen_pixels(Bottleneck(), (56, 56))
CROSSCHECKS = [f"verifier/crosschecks::engine-vs-derivation-at-{r}-{c}" for r, c in PIXELS]
ITEMS = len(THEOREM_IDS) + len(CLAIM_IDS) + len(CROSSCHECKS)


def _collected(result: pytest.RunResult) -> list[str]:
    """The node ids that ``--collect-only -q`` printed."""
    return [line for line in result.outlines if "::" in line]


# -- without the flag ------------------------------------------------------------------------------------
def test_without_the_flag_nothing_is_added_to_a_projects_own_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own="def test_mine():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_inprocess("--collect-only", "-q")
    assert _collected(result) == ["test_own.py::test_mine"]
    without_plugin = pytester.runpytest_inprocess("-p", "no:verifier", "--collect-only", "-q")
    assert _collected(without_plugin) == _collected(result)


def test_without_the_flag_an_empty_directory_collects_nothing(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_entry_point_imports_nothing_of_the_package(pytester: pytest.Pytester) -> None:
    """pytest loads the plugin in every run; without --verifier neither the package nor SymPy is imported."""
    pytester.makepyfile(
        test_modules="""
        import sys

        def test_plugin_loaded_but_package_not_imported(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("verifier")
            assert [m for m in ("verifier", "sympy", "numpy") if m in sys.modules] == []
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_layer_option_alone_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--verifier-layer", "512,128,1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--verifier-layer 512,128,1 needs --verifier*"])


# -- with the flag ---------------------------------------------------------------------------------------
def test_the_flag_collects_one_item_per_theorem_claim_and_crosscheck_named_by_id(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own="def test_mine():\n    pass\n")
    result = pytester.runpytest_inprocess("--verifier", "--collect-only", "-q")
    expected = (
        ["test_own.py::test_mine"]
        + [f"verifier/theorems::{i}" for i in THEOREM_IDS]
        + [f"verifier/claims::{i}" for i in CLAIM_IDS]
        + CROSSCHECKS
    )
    assert _collected(result) == expected


def test_dash_k_selects_items_by_id_and_a_claim_shows_its_verdict(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--verifier", "-v", "-k", "parameter-count or n1-times-n2")
    result.assert_outcomes(passed=2, deselected=ITEMS - 2)
    result.stdout.fnmatch_lines(
        ["verifier/theorems::parameter-count PASSED*", "verifier/claims::n1-times-n2 PASSED (judged false)*"]
    )


def test_dash_m_verifier_selects_the_proof_items_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own="def test_mine():\n    pass\n")
    result = pytester.runpytest_inprocess("--verifier", "--collect-only", "-q", "-m", "not verifier")
    assert _collected(result) == ["test_own.py::test_mine"]


def test_help_says_the_claims_are_judged_at_the_threads_sizes(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    text = " ".join(result.stdout.str().split())
    assert "--verifier-layer=C_in,C_out,k[,groups]" in text
    assert "The claims are always judged at the thread's sizes." in text


# -- failures and errors, in a subprocess with the package sabotaged by a conftest -----------------------
def _sabotage(pytester: pytest.Pytester, code: str) -> None:
    pytester.makeconftest(textwrap.dedent(code))


def test_a_sabotaged_theorem_fails_with_its_steps_and_no_traceback(pytester: pytest.Pytester) -> None:
    _sabotage(
        pytester,
        """
        from verifier.spec import Conv2d

        _count = Conv2d.param_count.fget
        Conv2d.param_count = property(lambda self: _count(self) + 1)  # one weight too many
        """,
    )
    result = pytester.runpytest_subprocess("--verifier", "-p", "no:cacheprovider", "-k", "parameter-count")
    result.assert_outcomes(failed=1, deselected=ITEMS - 1)
    out = result.stdout.str()
    section = out[out.index("theorem parameter-count does not hold") : out.index("short test summary")]
    steps = re.findall(r"^(ok|FAILED) +\[(proved|checked|cited)\] ", section, re.MULTILINE)
    assert steps, section
    assert ("FAILED", "checked") in steps  # the step that compares counts at named sizes is the one that fails
    weights = 256 * 64  # the thread's 256 -> 64 conv, counted by hand: the figure expected, and the one found
    assert re.search(rf"^FAILED \[checked\] .*expected {weights:,}\b.*found {weights + 1:,}\b", section, re.MULTILINE)
    assert "Traceback" not in out and "pytest_plugin.py" not in out and not re.search(r"verifier/\S+\.py:\d+", out)
    result.stdout.fnmatch_lines(["FAILED verifier/theorems::parameter-count - does not hold: *"])


def test_tb_line_gives_a_failure_one_line_and_dash_x_stops_at_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from verifier.theorems import Step, Theorem, Verdict

    step = Step("checked", False, "conv1 has 16,384 weights", "expected 16,384, found 16,385")
    check = Theorem.check
    monkeypatch.setattr(
        Theorem,
        "check",
        lambda self, layer=None: (
            Verdict(False, "", steps=(step,)) if self.id == "parameter-count" else check(self, layer)
        ),
    )
    result = pytester.runpytest_inprocess("--verifier", "--tb=line", "-x", "-k", "parameter-count or mac-count")
    result.assert_outcomes(failed=1, deselected=ITEMS - 2)  # mac-count, selected after it, never ran
    result.stdout.fnmatch_lines(
        ["verifier/theorems::parameter-count: does not hold: conv1 has 16,384 weights: expected 16,384, found 16,385"]
    )
    assert "[checked]" not in result.stdout.str()


def test_a_check_that_raises_is_an_error_not_a_failure(pytester: pytest.Pytester) -> None:
    """Inside the package, the exception is the verdict "could not be checked"; escaping it, a plain error."""
    _sabotage(
        pytester,
        """
        from verifier.spec import Conv2d
        from verifier.theorems import Theorem

        def broken_macs(self, input_shape):
            raise RuntimeError("macs sabotaged")

        Conv2d.macs = broken_macs  # mac-count's check raises inside the package

        _check = Theorem.check

        def check(self, layer=None):
            if self.id == "all-inputs":
                raise ZeroDivisionError("check sabotaged")  # raises out of the package's check itself
            return _check(self, layer)

        Theorem.check = check
        """,
    )
    result = pytester.runpytest_subprocess("--verifier", "-p", "no:cacheprovider", "-k", "mac-count or all-inputs")
    result.assert_outcomes(errors=2, deselected=ITEMS - 2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of theorem all-inputs*",
            "*ZeroDivisionError: check sabotaged",
            "*ERROR at setup of theorem mac-count*",
            "RuntimeError: macs sabotaged",
        ]
    )
    out = result.stdout.str()
    mac_count = out[out.index("ERROR at setup of theorem mac-count") :]
    assert "Traceback" not in mac_count and not re.search(r"\.py:\d+", mac_count.split("short test summary")[0])
    result.stdout.fnmatch_lines(["ERROR verifier/theorems::mac-count - CouldNotBeChecked: RuntimeError*"])


def test_a_claim_that_could_not_be_judged_is_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import verifier.claims

    judged = verifier.claims.get_claim("n2-maps")
    broken = dataclasses.replace(judged, verdict="could not be checked", evidence="theorem maps-equal-filters failed")
    monkeypatch.setattr(verifier.claims, "get_claim", lambda claim_id: broken)
    result = pytester.runpytest_inprocess("--verifier", "-k", "n2-maps")
    result.assert_outcomes(errors=1, deselected=ITEMS - 1)
    result.stdout.fnmatch_lines(["*ERROR at setup of claim n2-maps*", "*theorem maps-equal-filters failed"])
    assert f"\nquote: {judged.quote}\n" in result.stdout.str()


# -- at the user's layer ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "layer"),
    [("256,256,3,32", Conv2d(256, 256, 3, groups=32)), ("64,64,3", Conv2d(64, 64, 3))],
    ids=["grouped-3x3", "3x3"],
)
def test_the_layer_option_checks_the_theorems_at_that_layer(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str, layer: Conv2d
) -> None:
    from verifier.theorems import Theorem

    seen: list[tuple[str, Conv2d | None]] = []
    check = Theorem.check

    def recorded(self: Theorem, at: Conv2d | None = None) -> object:
        seen.append((self.id, at))
        return check(self, at)

    monkeypatch.setattr(Theorem, "check", recorded)
    result = pytester.runpytest_inprocess("--verifier", f"--verifier-layer={value}", "-v", "-rs", "-k", "theorems")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes.get("passed", 0) + outcomes["skipped"] == len(THEOREM_IDS)
    layered = [t.id for t in THEOREMS if t.depends_on_layer]
    assert seen == [(i, layer) for i in layered]  # every theorem about a layer, at the layer given
    result.stdout.fnmatch_lines(
        [
            f"verifier: {len(THEOREM_IDS)} theorems at layer {layer!r}*",
            "verifier/theorems::parameter-count PASSED*",  # the counts are checked at the layer ...
            "verifier/theorems::mac-count PASSED*",
            "SKIPPED * verifier/theorems::conv1x1-is-matmul: *",  # ... but a 3x3 conv is not a matrix product
            "SKIPPED * verifier/theorems::bottleneck-budget: its statement is not about one layer*",
        ]
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("512,128", "--verifier-layer must be C_in,C_out,k or C_in,C_out,k,groups (positive integers), got '512,128'"),
        ("256,256,3,7", "--verifier-layer '256,256,3,7' is not a valid layer: groups must divide in_channels*"),
        (
            "4096,4096,3",
            f"--verifier-layer 4096,4096,3: layer * is too large to check exactly: * {4096 * 4096 * 3 * 3:,} products*",
        ),  # maps x inputs x taps
    ],
)
def test_a_bad_layer_is_a_usage_error_naming_the_value(pytester: pytest.Pytester, value: str, message: str) -> None:
    result = pytester.runpytest_inprocess("--verifier", "--verifier-layer", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


# -- from a wheel, outside the repository ----------------------------------------------------------------
@pytest.mark.slow
def test_the_wheel_installs_the_plugin_into_a_fresh_environment(tmp_path: Path) -> None:
    """Build the wheel, install it into a new virtual environment and run the proof check in an empty folder.

    The new environment's own site-packages holds only the wheel; a .pth file adds the site-packages
    directories this interpreter finds the dependencies in, so nothing is downloaded. Should one of them hold
    another copy of the package, the environment's own site-packages comes first on ``sys.path``; the test
    checks that the package is imported from the wheel.
    """
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("verifier", "verifier_pytest"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", tmp_path / "dist", source],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("verifier-*.whl")

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)}))
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", site, wheel], check=True, capture_output=True
    )
    deps = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (site / "dependencies.pth").write_text("".join(f"{d}\n" for d in deps))

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV"))}
    python = env / "bin" / "python"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, *argv], cwd=outside, env=environ, capture_output=True, text=True, timeout=120)

    where = run("-c", "import verifier, verifier_pytest; print(verifier.__file__); print(verifier_pytest.__file__)")
    assert where.returncode == 0, where.stderr
    for line in where.stdout.splitlines():
        assert Path(line).is_relative_to(site), (line, site)  # the wheel's copy, not the one in this clone

    done = run("-m", "pytest", "--verifier", "-q", "-p", "no:cacheprovider", "-k", "parameter-count or n2-maps")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^2 passed, {ITEMS - 2} deselected in ", done.stdout, re.MULTILINE), done.stdout
