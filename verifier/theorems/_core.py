"""The objects every theorem shares: a :class:`Step` of evidence, the :class:`Verdict`, the :class:`Theorem`.

A theorem's check writes what it finds into a :class:`Findings`: one :class:`Step` per comparison, each of a
kind that says how far it reaches:

- ``proved``: a SymPy derivation from the one definition of a convolution
  (:mod:`verifier.symbolic.definition`), for all sizes; it would fail if the definition or the statement
  were different;
- ``checked``: computed exactly at named sizes;
- ``cited``: a named lemma with its source, applied to an instance the check computes.

The verdict's status and evidence are computed from the steps: a failing step names what was expected and
what was found. An exception inside a check is a result too ("could not be checked", naming the error).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .._bulk import collector_paused
from ..errors import VerifierError, VerifierTypeError
from ..report import fmt
from ..spec import Conv2d

__all__ = ["Findings", "Kind", "NotApplicable", "Status", "Step", "Theorem", "Verdict"]

Kind = Literal["proved", "checked", "cited"]
Status = Literal["holds", "does not hold", "could not be checked", "skipped"]
KINDS: tuple[Kind, ...] = ("proved", "checked", "cited")


@dataclass(frozen=True)
class Step:
    """One piece of evidence: its kind, whether it held, what it states and what was found.

    >>> Step("checked", True, "16,384 weights", "counted 16,384").as_dict()["kind"]
    'checked'
    """

    kind: Kind
    holds: bool
    statement: str
    detail: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise VerifierError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"kind", "holds", "statement", "detail"}``."""
        return {"kind": self.kind, "holds": self.holds, "statement": self.statement, "detail": self.detail}

    def __str__(self) -> str:
        mark = "ok" if self.holds else "FAILED"
        return f"[{self.kind}, {mark}] {self.statement}: {self.detail}"


class NotApplicable(Exception):
    """Raised by a check whose statement does not apply to the layer it was given (the verdict is "skipped")."""


class Findings:
    """What a check found, collected as it goes: steps, figures and the LaTeX lines of its derivation."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.figures: dict[str, Any] = {}
        self.proof: list[str] = []

    def step(self, kind: Kind, statement: str, holds: bool, detail: str) -> bool:
        """Record a step; returns whether it held."""
        self.steps.append(Step(kind, bool(holds), statement, detail))
        return bool(holds)

    def equal(self, kind: Kind, statement: str, what: str, expected: Any, found: Any, *, how: str = "") -> bool:
        """A step that holds when ``found == expected``; its detail names both figures either way."""
        holds = _same(expected, found)
        shown_e, shown_f = _show(expected), _show(found)
        if holds:
            detail = f"{what}: {shown_f} as expected" + (f" ({how})" if how else "")
        else:
            detail = f"{what}: expected {shown_e}, found {shown_f}" + (f" ({how})" if how else "")
        return self.step(kind, statement, holds, detail)


def _same(expected: Any, found: Any) -> bool:
    try:
        return bool(expected == found)
    except Exception:  # an ambiguous comparison (arrays) is not a match
        return False


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"[{', '.join(_show(v) for v in value[:4])}, ... ({len(value)} in all)]"
    return fmt(value)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a theorem: status, evidence computed from its steps, figures, proof lines."""

    holds: bool
    evidence: str
    figures: dict[str, Any] = field(default_factory=dict)
    proof: tuple[str, ...] = ()
    seconds: float = 0.0
    status: Status = "holds"
    steps: tuple[Step, ...] = ()
    error: str | None = None

    def __post_init__(self) -> None:
        if not self.holds and self.status == "holds":
            object.__setattr__(self, "status", "does not hold")

    def __repr__(self) -> str:
        return f"Verdict(status={self.status!r}, evidence={self.evidence!r})"

    def _repr_latex_(self) -> str:
        """The proof's steps, one per row."""
        return r"$$\begin{gathered}" + r" \\ ".join(self.proof) + r"\end{gathered}$$"


Check = Callable[[Findings, "Conv2d | None"], None]


@dataclass(frozen=True)
class Theorem:
    """One fact about convolutions in the bottleneck, with the check that shows it.

    ``paths`` names the independent routes its steps compare; ``depends_on_layer`` says whether the
    statement is about a conv layer (and so can be checked at any layer given to :meth:`check`).
    """

    id: str
    number: int
    title: str
    statement: str
    latex: str
    paths: tuple[str, ...]
    depends_on_layer: bool
    _check: Check = field(repr=False, compare=False)

    def check(self, layer: Conv2d | None = None) -> Verdict:
        """Check the theorem (at ``layer`` when given and the statement depends on it); cached per layer.

        A theorem whose statement does not depend on the layer ignores ``layer``. One that does not apply to
        the layer returns status ``"skipped"`` (``holds`` False: nothing was shown) with the reason in
        ``evidence``. A layer too large to check exactly is refused up front by :func:`validate_layer`.
        """
        if layer is not None:
            validate_layer(layer)
            if not self.depends_on_layer:
                layer = None
        key = (self.id, layer)
        if key not in _CACHE:
            _CACHE[key] = run(self, layer)
        return _CACHE[key]

    def __repr__(self) -> str:
        return f"Theorem({self.number}, {self.id!r}: {self.title})"

    def _repr_latex_(self) -> str:
        return f"$${self.latex}$$"


_CACHE: dict[tuple[str, Conv2d | None], Verdict] = {}

#: A layer is checked by deriving each map at one pixel: at most this many products in all.
MAX_PRODUCTS = 1 << 19


def validate_layer(conv: Any) -> None:
    """Refuse, up front and with the estimate, a layer the theorems cannot check exactly in reasonable time.

    >>> validate_layer(Conv2d(256, 64, 1))
    >>> validate_layer(Conv2d(2048, 2048, 3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: layer ... is too large to check exactly: ... 37,748,736 products ...
    """
    if not isinstance(conv, Conv2d):
        raise VerifierTypeError(f"layer must be a verifier.spec.Conv2d or None, got {conv!r}")
    products = conv.out_channels * conv.taps_per_output
    if products > MAX_PRODUCTS:
        raise VerifierError(
            f"layer {conv!r} is too large to check exactly: deriving its {conv.out_channels:,} maps at one pixel "
            f"takes {products:,} products (at most {MAX_PRODUCTS:,})"
        )


def run(theorem: Theorem, layer: Conv2d | None) -> Verdict:
    """Run a theorem's check, turning what it found (or the exception it raised) into a verdict."""
    start = time.perf_counter()
    found = Findings()
    try:
        with collector_paused():
            theorem._check(found, layer)
    except NotApplicable as skip:
        return Verdict(False, f"Skipped: {skip}", {}, (), time.perf_counter() - start, "skipped")
    except Exception as exc:  # a broken check is reported as such, and the other theorems still run
        error = f"{type(exc).__name__}: {exc}"
        failed = [s for s in found.steps if not s.holds]
        status: Status = "does not hold" if failed else "could not be checked"
        evidence = (
            "Does not hold. " + _failures(failed) + f" Then the check stopped: {error}"
            if failed
            else f"Could not be checked: {error}"
        )
        return Verdict(
            False,
            evidence,
            found.figures,
            tuple(found.proof),
            time.perf_counter() - start,
            status,
            tuple(found.steps),
            error,
        )
    steps = tuple(found.steps)
    seconds = time.perf_counter() - start
    if not steps:
        return Verdict(
            False,
            "Could not be checked: the check found nothing",
            found.figures,
            (),
            seconds,
            "could not be checked",
            (),
            "no steps",
        )
    failed = [s for s in steps if not s.holds]
    evidence = "Does not hold. " + _failures(failed) if failed else " ".join(f"{s.detail}." for s in steps)
    return Verdict(
        not failed, evidence, found.figures, tuple(found.proof), seconds, "does not hold" if failed else "holds", steps
    )


def _failures(failed: list[Step]) -> str:
    return " ".join(f"{s.statement}: {s.detail}." for s in failed)
