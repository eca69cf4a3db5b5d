"""`verifier claims`: every claim of the thread, judged true, false or partly true, with its evidence."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..claims import CLAIMS, Claim, get_claim, judge_all
from ..progress import Progress
from ..report import Report, Table

HELP = "judge every statement made in the thread: true, false or partly true, with computed evidence"


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
    """Judge the claims and build the report; ``ok`` is True iff every claim could be judged."""
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


def claims_report(claims: Sequence[Claim]) -> Report:
    """The claims as a report: a table, then each quote with its verdict and evidence."""
    undecided = [c.id for c in claims if not c.decided]
    report = Report(
        "The thread's claims",
        ok=not undecided,
        data={"claims": [c.to_dict() for c in claims], "all_decided": not undecided},
    )
    counts = {v: sum(c.verdict == v for c in claims) for v in ("true", "partly true", "false", "undecided")}
    report.add(", ".join(f"{n} {v}" for v, n in counts.items() if n) + f" ({len(claims)} claims).")
    report.add(claims_table(claims))
    for c in claims:
        theorems = ", ".join(c.theorem_ids)
        report.add(f'[{c.verdict}] {c.id} ({c.speaker}): "{c.quote}"\n{c.evidence} (decided by {theorems})\n\n')
    if undecided:
        report.add(f"Undecided (each says why above): {', '.join(undecided)}.")
    return report
