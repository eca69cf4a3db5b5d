"""`verifier claims`: every claim of the thread, judged, with its evidence; exit 1 if one could not be checked."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..claims import CLAIMS, COULD_NOT_CHECK, VERDICTS, Claim, get_claim, judge_all
from ..progress import Progress
from ..report import Report, Table

HELP = (
    "judge every statement made in the thread (true, false, partly true; a question that implies no belief is "
    "answered) with computed evidence; exit status 1 if a claim could not be checked"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--id ID`` (repeatable) judges only the named claims."""
    parser.add_argument(
        "--id",
        dest="claim_ids",
        action="append",
        metavar="ID",
        help=f"judge only this claim (repeatable); one of: {', '.join(s.id for s in CLAIMS)}",
    )


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    """Judge the claims and build the report; ``ok`` is True iff every claim could be checked."""
    ids: Sequence[str] | None = getattr(args, "claim_ids", None)
    claims = [get_claim(i) for i in ids] if ids else judge_all(progress)
    return claims_report(claims)


def claims_table(claims: Sequence[Claim], quote_width: int = 56) -> Table:
    """One row per claim: id, speaker, verdict and the start of its quote."""

    def short(quote: str) -> str:
        return quote if len(quote) <= quote_width else quote[: quote_width - 3] + "..."

    return Table(
        ["claim", "speaker", "verdict", "quote"], [[c.id, c.speaker, c.verdict, short(c.quote)] for c in claims]
    )


def _said(c: Claim) -> str:
    form = "" if c.form == "statement" else f", {c.form}"
    return f"{c.speaker}, reported by {c.reported_by}{form}" if c.reported_by else f"{c.speaker}{form}"


def claims_report(claims: Sequence[Claim]) -> Report:
    """The claims as a report: a table, then each quote with its verdict, reading, evidence and note."""
    unchecked = [c.id for c in claims if not c.checked]
    report = Report(
        "The thread's claims",
        ok=not unchecked,
        data={
            "claims": [c.to_dict() for c in claims],
            "all_checked": not unchecked,
            "all_decided": not unchecked,
        },
    )
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    report.add(", ".join(f"{n} {v}" for v, n in counts.items() if n) + f" ({len(claims)} claims).")
    report.add(claims_table(claims))
    for c in claims:
        lines = [f'[{c.verdict}] {c.id} ({_said(c)}): "{c.quote}"']
        if c.reading:
            lines.append(f"Read as: {c.reading}")
        lines.append(f"{c.evidence} (decided by {', '.join(c.theorem_ids)})")
        if c.note:
            lines.append(f"Note: {c.note}")
        report.add("\n".join(lines) + "\n\n")
    if unchecked:
        report.add(f"{COULD_NOT_CHECK.capitalize()} (each says why above): {', '.join(unchecked)}.")
    return report
