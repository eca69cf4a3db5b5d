"""The proof check as pytest items: ``pytest --verifier``, in any directory, with no test files.

With ``--verifier``, pytest collects one item per theorem, per claim of the thread and per cross-check,
each named by its id, beside whatever else it collects::

    verifier/theorems::parameter-count     a theorem: passes when it holds
    verifier/claims::n1-times-n2           a claim: passes when it is judged (true, false, ...)
    verifier/crosschecks::engine-vs-derivation-at-0-0   the full-size cross-check at one output pixel

so ``-k parameter-count``, ``-m verifier``, ``-x``, ``--tb`` and ``-q`` work as in any test run. How each
outcome shows:

- a theorem that does not hold **fails**, and its report lists the steps with their kind (proved,
  checked, cited), marking the failed one with the expected and found figures; no traceback;
- anything that could not be checked (a check that raised inside the package, a claim that could not be
  judged) is an **error**, as pytest shows an error in a fixture;
- a theorem that does not apply at ``--verifier-layer`` is **skipped**, with the reason.

The light entry point :mod:`verifier_pytest` declares the options and registers :class:`ProofCheck` only
when ``--verifier`` is given, so a run without it loads nothing of the package.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import _pytest
import pluggy
import pytest
from _pytest._code.code import TerminalRepr, Traceback
from _pytest._io import TerminalWriter

from . import claims, crosscheck
from ._layer_option import parse_layer
from .claims import Claim
from .crosscheck import CrossCheck
from .errors import VerifierError
from .spec import Bottleneck, Conv2d
from .theorems import THEOREMS, Step, Theorem, Verdict, check_at_layer, validate_layer

__all__ = ["Outcome", "ProofCheck", "ProofItem", "claim_outcome", "crosscheck_outcome", "theorem_outcome"]

#: Verdicts of a claim that was judged (whatever the verdict says about the claim, the judging worked).
JUDGED = ("true", "false", "partly true", "answered")


# -- what an item found ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What one check found, as pytest will show it.

    ``status`` is the item's outcome; ``summary`` the one line of the short test summary (and the skip
    reason); ``lines`` the evidence shown under a failure or an error; ``verdict`` a word shown beside a
    passing item in verbose mode (a claim's verdict).
    """

    status: Literal["passed", "failed", "error", "skipped"]
    summary: str
    lines: tuple[str, ...] = ()
    verdict: str = ""


def _step_line(step: Step) -> str:
    mark = "ok" if step.holds else "FAILED"
    return f"{mark:<6} [{step.kind}] {step.statement}: {step.detail}"


def theorem_outcome(theorem: Theorem, verdict: Verdict, layer: Conv2d | None = None) -> Outcome:
    """A theorem's verdict as an item's outcome: passed when it holds, failed with its steps when it doesn't.

    >>> from verifier.theorems import Step, Verdict, get_theorem
    >>> step = Step("checked", False, "conv1 has 16,384 weights", "expected 16,384, found 16,385")
    >>> o = theorem_outcome(get_theorem("parameter-count"), Verdict(False, "", steps=(step,)))
    >>> o.status, o.summary
    ('failed', 'does not hold: conv1 has 16,384 weights: expected 16,384, found 16,385')
    >>> print("\\n".join(o.lines))
    A conv has k_h*k_w*(C_in/g)*C_out weights, plus C_out biases when it has a bias.
    FAILED [checked] conv1 has 16,384 weights: expected 16,384, found 16,385
    """
    where = () if layer is None else (f"at layer {layer!r}",)
    found = tuple(_step_line(s) for s in verdict.steps) if verdict.steps else (verdict.evidence,)
    lines = (theorem.statement, *where, *found)
    if verdict.status == "skipped":
        return Outcome("skipped", verdict.evidence.removeprefix("Skipped: "))
    if verdict.status == "could not be checked":
        return Outcome("error", verdict.error or verdict.evidence, lines)
    if verdict.status == "holds" and verdict.holds:
        return Outcome("passed", "holds", lines, "holds")
    failed = [s for s in verdict.steps if not s.holds]
    first = f"{failed[0].statement}: {failed[0].detail}" if failed else verdict.evidence
    return Outcome("failed", f"does not hold: {first}", lines)


def claim_outcome(claim: Claim) -> Outcome:
    """A judged claim passes whatever its verdict; one that could not be judged is an error.

    >>> from verifier.claims import get_claim
    >>> claim_outcome(get_claim("n1-times-n2")).verdict
    'false'
    """
    lines = (f"quote: {claim.quote}", f"evidence: {claim.evidence}")
    if claim.verdict in JUDGED:
        return Outcome("passed", f"judged {claim.verdict}", lines, claim.verdict)
    if claim.verdict in ("could not be checked", "undecided"):
        return Outcome("error", f"the claim could not be judged: {claim.evidence}", lines)
    return Outcome("failed", f"unknown verdict {claim.verdict!r}: expected one of {', '.join(JUDGED)}", lines)


def crosscheck_outcome(check: CrossCheck) -> Outcome:
    """The bottleneck's engine against the exact derivation: passes when :attr:`CrossCheck.ok` says so."""
    values = len(check.points) * check.channels
    lines = (
        f"output pixel{'s' if len(check.points) != 1 else ''} {', '.join(map(str, check.points))} x "
        f"{check.channels} maps at full size; the cross-check's pixels together meet the image border in every "
        "way the 3x3 window can",
        f"integer data, float64 engine vs exact derivation: {check.mismatches} of {values:,} values differ "
        "(expected 0)",
        f"{check.dtype} data: largest error {check.max_abs_error:.3g} for outputs up to {check.max_abs_output:.3g} "
        f"(relative tolerance {check.tolerance:.3g})",
    )
    if check.ok:
        return Outcome("passed", "the engine equals the derivation", lines, "agrees")
    what = "mismatches on integer data" if not check.exact else f"{check.dtype} error beyond the tolerance"
    return Outcome("failed", f"the engine disagrees with the derivation: {what}", lines)


# -- pytest's side -----------------------------------------------------------------------------------------
class CouldNotBeChecked(pytest.fail.Exception):  # type: ignore[name-defined,misc]
    """Raised in an item's setup: pytest reports it as an error, showing only the message."""

    __module__ = "builtins"  # summaries print ``CouldNotBeChecked: ...``, as pytest's own ``Failed: ...``


class _Failure(Exception):
    """Raised by :meth:`ProofItem.runtest` for an outcome that failed; shown by :meth:`ProofItem.repr_failure`."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.summary)
        self.outcome = outcome


@dataclass(frozen=True)
class _Crash:
    """The one line pytest's summaries print for a failure (``FAILED id - message``, and ``--tb=line``)."""

    path: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _FailureRepr(TerminalRepr):
    """A failed proof item's report: a title, then the evidence; no traceback."""

    def __init__(self, title: str, lines: Sequence[str], crash: _Crash) -> None:
        self.title = title
        self.lines = tuple(lines)
        self.reprcrash = crash

    def toterminal(self, tw: TerminalWriter) -> None:
        if self.title:
            tw.line(self.title, red=True, bold=True)
        for line in self.lines:
            tw.line(line, red=line.startswith("FAILED"))


class ProofItem(pytest.Item):
    """One theorem, claim or cross-check. The check runs in ``setup`` (so that what could not be checked is an
    error, and what does not apply is skipped); ``runtest`` fails if what it found does not hold."""

    def __init__(self, *, kind: str, judge: Callable[[], Outcome], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self._judge = judge
        self.outcome: Outcome | None = None

    def setup(self) -> None:
        outcome = self.outcome = self._judge()
        if outcome.verdict:
            self.user_properties.append(("verdict", outcome.verdict))
        if outcome.status == "skipped":
            pytest.skip(outcome.summary)
        if outcome.status == "error":
            message = "\n".join((outcome.summary, *outcome.lines))
            raise CouldNotBeChecked(message, pytrace=False)

    def runtest(self) -> None:
        if self.outcome is not None and self.outcome.status == "failed":
            raise _Failure(self.outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, _Failure):
            outcome = excinfo.value.outcome
            crash = _Crash(self.nodeid, 0, outcome.summary)
            tbstyle = self.config.getoption("tbstyle", "auto")
            if tbstyle == "line":  # pytest prints the crash line itself
                return _FailureRepr("", (), crash)
            lines = outcome.lines
            if tbstyle == "short":  # what failed, without the steps that held
                lines = tuple(line for line in lines if not line.startswith("ok "))
            return _FailureRepr(f"{self.kind} {self.name} {outcome.summary.split(':')[0]}", lines, crash)
        return super().repr_failure(excinfo, style)

    def _traceback_filter(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Traceback:
        """An error's traceback starts where the package's code was called: pytest's frames and this module's
        say nothing about it (``--full-trace`` shows them all)."""
        traceback = excinfo.traceback.filter(excinfo)
        return traceback.filter(lambda entry: not _is_machinery(entry.path)) or traceback

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{self.kind} {self.name}"


def _is_machinery(path: Path | str) -> bool:
    path = Path(path)
    return path == Path(__file__) or any(path.is_relative_to(root) for root in _MACHINERY)


_MACHINERY = tuple(Path(module.__file__ or "").parent for module in (pytest, _pytest, pluggy))


class ProofGroup(pytest.Collector):
    """The theorems, the claims or the cross-checks: a node whose children are :class:`ProofItem` s."""

    def __init__(self, *, children: Callable[[ProofGroup], Iterable[ProofItem]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._children = children
        self.extra_keyword_matches.add("verifier")
        self.add_marker("verifier")

    def collect(self) -> list[ProofItem]:
        return list(self._children(self))


class ProofCheck:
    """The plugin registered by ``--verifier``: adds the proof items to the session's collection."""

    NAME = "verifier-proof-check"

    def __init__(self, layer: Conv2d | None = None) -> None:
        self.layer = layer

    @classmethod
    def from_config(cls, config: pytest.Config) -> ProofCheck:
        """Read ``--verifier-layer``; a bad or too large layer is a usage error naming the value."""
        config.addinivalue_line("markers", "verifier: an item of verifier's proof check (pytest --verifier)")
        value = config.getoption("verifier_layer")
        if value is None:
            return cls()
        try:
            layer = parse_layer(value, "--verifier-layer")
        except VerifierError as exc:
            raise pytest.UsageError(str(exc)) from None
        try:
            validate_layer(layer)
        except VerifierError as exc:  # too large: refused up front, with the estimate
            raise pytest.UsageError(f"--verifier-layer {value}: {exc}") from None
        return cls(layer)

    # hooks
    def pytest_report_header(self, config: pytest.Config) -> str:
        where = "at the thread's sizes" if self.layer is None else f"at layer {self.layer!r}"
        crosschecks = len(_crosschecks())
        return (
            f"verifier: {len(THEOREMS)} theorems {where}; {len(claims.CLAIMS)} claims and "
            f"{crosschecks} cross-check{'s' if crosschecks != 1 else ''} at the thread's sizes"
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        if isinstance(collector, pytest.Session) and report.passed and isinstance(report.result, list):
            report.result.extend(self._groups(collector))
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if isinstance(item, ProofItem) and report.skipped and isinstance(report.longrepr, tuple):
            # Locate the skip at the item, not at the line of this module that skipped it.
            report.longrepr = (str(item.config.rootpath / item.nodeid), None, report.longrepr[2])  # type: ignore[assignment]
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        """A judged claim shows its verdict beside PASSED in verbose mode."""
        verdict = dict(report.user_properties).get("verdict")
        if report.when == "call" and report.passed and verdict and report.nodeid.startswith("verifier/claims::"):
            return "passed", ".", (f"PASSED (judged {verdict})", {"green": True})
        return None

    # the items
    def _groups(self, session: pytest.Session) -> list[ProofGroup]:
        def group(name: str, children: Callable[[ProofGroup], Iterable[ProofItem]]) -> ProofGroup:
            return ProofGroup.from_parent(session, name=name, nodeid=f"verifier/{name}", children=children)

        return [group("theorems", self._theorems), group("claims", self._claims), group("crosschecks", self._cross)]

    def _theorems(self, parent: ProofGroup) -> Iterable[ProofItem]:
        for theorem in THEOREMS:
            judge = functools.partial(self._check_theorem, theorem)
            yield ProofItem.from_parent(parent, name=theorem.id, kind="theorem", judge=judge)

    def _check_theorem(self, theorem: Theorem) -> Outcome:
        return theorem_outcome(theorem, check_at_layer(theorem, self.layer), self.layer)

    def _claims(self, parent: ProofGroup) -> Iterable[ProofItem]:
        for statement in claims.CLAIMS:
            judge = functools.partial(_judge_claim, statement.id)
            yield ProofItem.from_parent(parent, name=statement.id, kind="claim", judge=judge)

    def _cross(self, parent: ProofGroup) -> Iterable[ProofItem]:
        for name, run in _crosschecks().items():
            yield ProofItem.from_parent(parent, name=name, kind="cross-check", judge=run)


def _judge_claim(claim_id: str) -> Outcome:
    return claim_outcome(claims.get_claim(claim_id))  # looked up at run time: a conftest may replace it


def _engine_vs_derivation_at(point: tuple[int, int]) -> Callable[[], Outcome]:
    def judge() -> Outcome:
        return crosscheck_outcome(crosscheck.crosscheck_bottleneck(points=[point]))

    return judge


def _crosschecks() -> dict[str, Callable[[], Outcome]]:
    """One item per output pixel of the full-size cross-check: each item stays short, and -k picks a pixel."""
    pixels = crosscheck.chosen_pixels(Bottleneck(), (56, 56))
    return {f"engine-vs-derivation-at-{r}-{c}": _engine_vs_derivation_at((r, c)) for r, c in pixels}
