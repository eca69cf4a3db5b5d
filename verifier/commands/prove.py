"""`verifier prove`: check every theorem, step by step, each step labelled proved, checked or cited.

JSON: ``{"all_hold": bool, "theorems": [{"id", "statement", "holds", "status", "evidence", "steps", ...}]}``;
each step is ``{"kind", "holds", "statement", "detail"}`` with kind ``proved``, ``checked`` or ``cited``.
Each theorem also carries its number, title, paths, figures, seconds, the LaTeX lines of its derivation and,
when it could not be checked, the error. The exit status is 0 when every theorem holds (or is skipped) and 1
when one does not hold or could not be checked.
"""

from __future__ import annotations

import argparse
import time

from .._layer_option import FORMAT, parse_layer
from ..progress import Progress
from ..report import Report, Table
from ..theorems import THEOREMS, Verdict, check_all, check_at_layer, get_theorem, validate_layer

HELP = "check every theorem: steps proved from the one definition of a conv, checked at named sizes, or cited"


#: Options that shape the text only (``--json`` next to them is refused).
TEXT_ONLY = {"proofs": "the JSON holds every theorem's proof in 'proof'"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--theorem ID`` (repeatable) to check only some; ``--proofs`` to print the LaTeX proof steps."""
    parser.add_argument(
        "--theorem",
        action="append",
        metavar="ID",
        help=f"check only this theorem (repeatable); one of: {', '.join(t.id for t in THEOREMS)}",
    )
    parser.add_argument("--proofs", action="store_true", help="print each theorem's proof steps (LaTeX) too")
    parser.add_argument(
        "--layer",
        metavar=FORMAT,
        help="check the theorems whose statement depends on the layer at Conv2d(C_in, C_out, k, groups=groups), "
        "torch.nn.Conv2d's defaults otherwise; the others are skipped with the reason",
    )


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    """Check the theorems; ``ok`` is True iff every checked theorem holds."""
    start = time.perf_counter()
    layer = None if getattr(args, "layer", None) is None else parse_layer(args.layer)
    if layer is not None:
        validate_layer(layer)  # too large: refused up front, with the estimate
    ids = getattr(args, "theorem", None)
    if ids or layer is not None:
        chosen = [get_theorem(i) for i in ids] if ids else THEOREMS  # an unknown id names the valid ones
        results = []
        for theorem in chosen:
            progress.step(f"theorem {theorem.number}/{len(THEOREMS)}: {theorem.title}")
            results.append((theorem, check_at_layer(theorem, layer)))
    else:
        results = check_all(progress)
    all_hold = all(v.status in ("holds", "skipped") for _, v in results)
    data = {
        "all_hold": all_hold,
        "layer": None if layer is None else repr(layer),
        "theorems": [
            {
                "id": t.id,
                "statement": t.statement,
                "holds": v.holds,
                "status": v.status,
                "evidence": v.evidence,
                "steps": [s.as_dict() for s in v.steps],
                "error": v.error,
                "paths": list(t.paths),
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
        "Each step says how far it reaches: 'proved' is derived by SymPy from the one definition of a conv for "
        "symbolic sizes; 'checked' is computed exactly at the named sizes (the bottleneck's real layers at full "
        "channel width: all 64 maps of 256->64, all 256 maps of 64->256); 'cited' applies a named lemma to a "
        "computed instance."
        if layer is None
        else f"At layer {layer!r}: each theorem whose statement depends on the layer is checked there, its "
        "'checked' steps at that layer; the others are skipped, with the reason."
    )
    report.add(
        Table(
            ["#", "id", "title", "status", "steps", "seconds"],
            [[t.number, t.id, t.title, v.status, _kinds(v), round(v.seconds, 3)] for t, v in results],
        )
    )
    for t, v in results:
        lines = ["", f"{t.number}. {t.title} [{t.id}]: {v.status.upper() if _fails(v) else v.status}", t.statement]
        lines.append(f"Paths compared: {', '.join(t.paths)}.")
        if v.error is not None:
            lines.append(f"Error: {v.error}")
        lines.append("Evidence, step by step:" if v.steps else f"Evidence: {v.evidence}")
        lines += [f"- {step}" for step in v.steps]
        if getattr(args, "proofs", False):
            lines += ["Proof (LaTeX):", *(f"  {line}" for line in v.proof)]
        report.add("\n".join(lines))
    return report


def _fails(verdict: Verdict) -> bool:
    return verdict.status in ("does not hold", "could not be checked")


def _kinds(verdict: Verdict) -> str:
    """How many steps of each kind, e.g. ``2 proved, 3 checked, 1 cited``."""
    counts = [(kind, sum(s.kind == kind for s in verdict.steps)) for kind in ("proved", "checked", "cited")]
    return ", ".join(f"{n} {kind}" for kind, n in counts if n) or "none"
