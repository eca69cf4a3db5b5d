"""How a statement of the thread is judged: its readings, its verdict, and what happens when a check breaks.

A :class:`Statement` is a quote with its speaker, its form (a statement, a statement the speaker reports, or
a question), the theorems that decide it and a judge. Judging first checks those theorems, then runs the
judge, which computes the statement's :class:`Reading` s from the derived maps and the NumPy engine and
cross-checks them against the closed forms. The verdict follows from the readings:

- every reading holds: ``"true"``; none: ``"false"``; some: ``"partly true"``;
- a question that implies no belief gets ``"answered"``, with its computed answer;
- a deciding theorem that fails, two paths that disagree, or any exception in the judge: ``"could not be
  checked"``, naming what went wrong (the other statements are still judged).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import theorems
from ..errors import VerifierError

__all__ = [
    "COULD_NOT_CHECK",
    "JUDGED",
    "VERDICTS",
    "Claim",
    "Disagreement",
    "Figures",
    "Form",
    "Reading",
    "Result",
    "Statement",
    "agree",
    "agree_closed_form",
]

VerdictName = Literal["true", "false", "partly true", "answered", "could not be checked"]
Form = Literal["statement", "reported statement", "question"]
JUDGED: tuple[str, ...] = ("true", "false", "partly true", "answered")
COULD_NOT_CHECK: Literal["could not be checked"] = "could not be checked"
VERDICTS: tuple[str, ...] = (*JUDGED, COULD_NOT_CHECK)


class Disagreement(VerifierError):
    """Two paths that must agree on a figure do not: the claim that needed it could not be checked.

    Raised inside a judge and always turned into the verdict ``"could not be checked"``; it never reaches a
    caller of :func:`verifier.claims.judge_all`.
    """


@dataclass(frozen=True)
class Reading:
    """One way to read a statement's words (or one part of it), whether it holds, and the computed reason.

    >>> Reading("filter = one 1x1xC kernel", False, "there are 64 of them")
    Reading('filter = one 1x1xC kernel', holds=False)
    """

    meaning: str
    holds: bool
    because: str

    def __repr__(self) -> str:
        return f"Reading({self.meaning!r}, holds={self.holds})"


@dataclass(frozen=True)
class Claim:
    """A statement from the thread with its computed verdict and evidence.

    ``speaker`` is who asserts the words; ``reported_by`` who quotes them, when that is someone else.
    ``reading`` states, for a question, the belief it implies (it is judged on that). ``note`` records what
    the verdict looked past (a typo, the meaning a speaker gives the word "filter").
    """

    id: str
    speaker: str
    quote: str
    verdict: VerdictName
    evidence: str
    theorem_ids: tuple[str, ...]
    readings: tuple[Reading, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict, compare=False)
    seconds: float = field(default=0.0, compare=False)
    form: Form = "statement"
    reported_by: str | None = None
    reading: str | None = None
    note: str | None = None

    @property
    def checked(self) -> bool:
        """Whether the verdict was computed (every deciding theorem held and every check ran and agreed)."""
        return self.verdict != COULD_NOT_CHECK

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the contract's keys first, then the form, theorems, readings and figures."""
        return {
            "id": self.id,
            "quote": self.quote,
            "speaker": self.speaker,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "form": self.form,
            "reported_by": self.reported_by,
            "reading": self.reading,
            "note": self.note,
            "theorems": list(self.theorem_ids),
            "readings": [{"meaning": r.meaning, "holds": r.holds, "because": r.because} for r in self.readings],
            "figures": dict(self.figures),
        }

    def __repr__(self) -> str:
        quote = self.quote if len(self.quote) <= 60 else self.quote[:57] + "..."
        return f"Claim({self.id!r}, {self.verdict!r}, {self.speaker}: {quote!r})"

    def _repr_markdown_(self) -> str:
        quote = self.quote.replace("\n", " ")
        theorems = ", ".join(f"`{t}`" for t in self.theorem_ids)
        said = f"{self.speaker}, reported by {self.reported_by}" if self.reported_by else self.speaker
        parts = [f"> {quote}\n", f"{said} · **{self.verdict}** · decided by {theorems}\n"]
        if self.reading:
            parts.append(f"Read as: {self.reading}\n")
        parts.append(f"{self.evidence}\n")
        if self.note:
            parts.append(f"Note: {self.note}\n")
        return "\n".join(parts)


Figures = Mapping[str, Mapping[str, Any]]
"""The deciding theorems' figures, by theorem id."""
Result = tuple[tuple[Reading, ...], dict[str, Any]]
Judge = Callable[[Figures], Result]


@dataclass(frozen=True)
class Statement:
    """A statement of the thread, not judged yet: its quote, speaker, form, deciding theorems and judge."""

    id: str
    speaker: str
    quote: str
    theorem_ids: tuple[str, ...]
    judge_readings: Judge = field(repr=False, compare=False)
    form: Form = "statement"
    reported_by: str | None = None
    reading: str | None = None
    note: str | Callable[[], str] | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        quote = self.quote if len(self.quote) <= 60 else self.quote[:57] + "..."
        return f"Statement({self.id!r}, {self.speaker}: {quote!r})"

    @property
    def answers_only(self) -> bool:
        """A question that implies no belief: it is answered, not judged true or false."""
        return self.form == "question" and self.reading is None

    def judge(self) -> Claim:
        """Check the deciding theorems, then compute the readings and the verdict they imply."""
        start = time.perf_counter()
        problems, figures_by_theorem = _check_theorems(self.theorem_ids)
        if problems:
            return self._not_checked("; ".join(problems), start)
        try:
            readings, figures = self.judge_readings(figures_by_theorem)
            verdict = self._verdict(readings)
            note = self.note() if callable(self.note) else self.note
        except Exception as exc:  # a check that breaks or disagrees is reported as this claim's outcome
            return self._not_checked(f"{type(exc).__name__}: {exc}", start)
        return self._claim(verdict, _evidence(readings), readings, figures, start, note)

    def _verdict(self, readings: tuple[Reading, ...]) -> VerdictName:
        if not readings:
            raise VerifierError("a claim needs at least one reading to be judged, got none")
        held = [r.holds for r in readings]
        if self.answers_only:
            if not all(held):
                failed = "; ".join(r.because for r in readings if not r.holds)
                raise Disagreement(f"the answer's facts do not hold: {failed}")
            return "answered"
        if all(held):
            return "true"
        return "partly true" if any(held) else "false"

    def _claim(
        self,
        verdict: VerdictName,
        evidence: str,
        readings: tuple[Reading, ...],
        figures: Any,
        start: float,
        note: str | None = None,
    ) -> Claim:
        return Claim(
            self.id,
            self.speaker,
            self.quote,
            verdict,
            evidence,
            self.theorem_ids,
            readings,
            figures,
            time.perf_counter() - start,
            self.form,
            self.reported_by,
            self.reading,
            note,
        )

    def _not_checked(self, why: str, start: float) -> Claim:
        return self._claim(COULD_NOT_CHECK, f"Could not be checked: {why}", (), {}, start)


def _check_theorems(ids: Iterable[str]) -> tuple[list[str], dict[str, Mapping[str, Any]]]:
    """Check the theorems ``ids``: why they cannot decide a claim, and the figures of those that hold."""
    problems: list[str] = []
    figures: dict[str, Mapping[str, Any]] = {}
    for tid in ids:
        try:
            verdict = theorems.get_theorem(tid).check()
        except Exception as exc:  # a theorem that cannot be checked leaves the claim unchecked, reported
            problems.append(f"theorem {tid!r} could not be checked ({type(exc).__name__}: {exc})")
            continue
        if not verdict.holds:
            problems.append(f"theorem {tid!r} does not hold: {verdict.evidence}")
        else:
            figures[tid] = getattr(verdict, "figures", None) or {}
    return problems, figures


def agree(fig: Figures, path: str, mine: Any) -> None:
    """Raise :class:`Disagreement` if the theorem figure at ``path`` ("theorem/key/key") differs from ``mine``.

    A figure the theorem does not report is not compared: the theorem's ``holds`` already decides it.
    """
    tid, *keys = path.split("/")
    value: Any = fig.get(tid, {})
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return
        value = value[key]
    if value != mine:
        raise Disagreement(f"theorem figure {path} is {value!r} but this claim's derivation gives {mine!r}")


def agree_closed_form(what: str, closed_form: Any, found: Any) -> None:
    """Raise :class:`Disagreement` naming both figures if the spec's closed form differs from what was found."""
    if closed_form != found:
        raise Disagreement(f"{what}: the closed form gives {closed_form!r} but the derivation finds {found!r}")


def _evidence(readings: tuple[Reading, ...]) -> str:
    if len(readings) == 1:
        because = readings[0].because
        return because[:1].upper() + because[1:]
    return " ".join(f"{'True' if r.holds else 'False'} if {r.meaning}: {r.because}" for r in readings)
