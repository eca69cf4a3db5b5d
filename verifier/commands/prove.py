"""`verifier prove`: check every theorem at the thread's full width and prove it for symbolic sizes.

JSON: ``{"all_hold": bool, "theorems": [{"id", "statement", "holds", "evidence", ...}, ...]}``; each theorem
also carries its number, title, figures, seconds and the LaTeX lines of its symbolic proof.
"""

from __future__ import annotations

import argparse
import time

from ..progress import Progress
from ..report import Report, Table
from ..theorems import THEOREMS, check_all, get_theorem

HELP = "check every theorem at the thread's full width and prove it for symbolic sizes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--theorem ID`` (repeatable) to check only some; ``--proofs`` to print the LaTeX proof steps."""
    parser.add_argument(
        "--theorem",
        action="append",
        metavar="ID",
        help=f"check only this theorem (repeatable); one of: {', '.join(t.id for t in THEOREMS)}",
    )
    parser.add_argument("--proofs", action="store_true", help="print each theorem's proof steps (LaTeX) too")


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    """Check the theorems; ``ok`` is True iff every checked theorem holds."""
    start = time.perf_counter()
    ids = getattr(args, "theorem", None)
    if ids:
        chosen = [get_theorem(i) for i in ids]  # an unknown id is a VerifierError naming the valid ones
        results = []
        for theorem in chosen:
            progress.step(f"theorem {theorem.number}/{len(THEOREMS)}: {theorem.title}")
            results.append((theorem, theorem.check()))
    else:
        results = check_all(progress)
    all_hold = all(v.holds for _, v in results)
    data = {
        "all_hold": all_hold,
        "theorems": [
            {
                "id": t.id,
                "statement": t.statement,
                "holds": v.holds,
                "evidence": v.evidence,
                "number": t.number,
                "title": t.title,
                "figures": v.figures,
                "seconds": round(v.seconds, 4),
                "proof": list(v.proof),
            }
            for t, v in results
        ],
        "seconds": round(time.perf_counter() - start, 4),
    }
    report = Report("Theorems", ok=all_hold, data=data)
    report.add(
        "Each theorem is checked on the bottleneck's real layers at full channel width (all 64 maps of 256->64, "
        "all 256 maps of 64->256) and proved for symbolic sizes C_in, C_out, k, g."
    )
    report.add(
        Table(
            ["#", "id", "title", "holds", "seconds"],
            [[t.number, t.id, t.title, v.holds, round(v.seconds, 3)] for t, v in results],
        )
    )
    for t, v in results:
        lines = ["", f"{t.number}. {t.title} [{t.id}]: {'holds' if v.holds else 'DOES NOT HOLD'}", t.statement]
        lines.append(f"Evidence: {v.evidence}")
        if getattr(args, "proofs", False):
            lines += ["Proof (LaTeX):", *(f"  {line}" for line in v.proof)]
        report.add("\n".join(lines))
    return report
