"""`verifier` with no subcommand: the main job.

Proves the theorems (``verifier prove``), judges the thread's claims (``verifier claims``), runs the
bottleneck at full size and cross-checks it against the derivation (``verifier run``), then prints a short
report: the answer to the thread's question, the theorem table, the claim table and the run's figures.
Each part runs through its own subcommand's ``execute`` with that subcommand's default options, so the
main job reports exactly what the subcommands report. ``--json`` prints one object combining their payloads.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from .. import symbolic
from ..errors import VerifierError
from ..progress import Progress
from ..report import Report, Table, fmt
from ..spec import BatchNorm2d, Bottleneck, Conv2d
from . import claims, prove, run

HELP = "prove the theorems, judge the thread's claims, run the bottleneck at full size and cross-check it"

#: The subcommands the main job runs, in order.
PARTS = {"prove": prove, "claims": claims, "run": run}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the main job (on the top-level parser, so named apart from every subcommand's)."""
    parser.add_argument(
        "--skip-run",
        dest="main_skip_run",
        action="store_true",
        help="main job only: prove and judge, but skip the full-size run of the bottleneck",
    )


@dataclass
class _Part:
    """One subcommand's outcome inside the main job: its report, or the error that stopped it."""

    name: str
    report: Report | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok

    @property
    def data(self) -> dict[str, Any]:
        return self.report.data if self.report is not None else {}


def _run_part(name: str, progress: Progress) -> _Part:
    """Run subcommand ``name`` with its default options; an error becomes a failed part, not a crash."""
    module = PARTS[name]
    parser = argparse.ArgumentParser(prog=f"verifier {name}", add_help=False)
    module.add_arguments(parser)
    args = parser.parse_args([])
    args.json = False
    args.command = name
    try:
        return _Part(name, module.execute(args, progress))
    except VerifierError as exc:
        return _Part(name, None, str(exc))


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    """Prove, judge and run; ``ok`` is True iff every theorem holds, every claim is judged and the run checks."""
    names = [p for p in PARTS if not (p == "run" and getattr(args, "main_skip_run", False))]
    parts = {}
    for name in names:
        progress.step(f"verifier {name}")
        parts[name] = _run_part(name, progress)
    prove, claims = parts["prove"], parts["claims"]
    run = parts.get("run")
    run_checks = _run_checks(run.data) if run is not None and run.report is not None else {}
    ok = all(part.ok for part in parts.values()) and all(run_checks.values())
    data: dict[str, Any] = {
        "all_hold": ok,
        "theorems": prove.data.get("theorems", []),
        "claims": claims.data.get("claims", []),
        "run": run.data if run is not None else None,
    }
    if run_checks:
        data["run_checks"] = run_checks
    errors = {name: part.error for name, part in parts.items() if part.error}
    if errors:
        data["errors"] = errors
    answer = _headline(data)
    data["answer"] = answer
    report = Report("How a 1x1 convolution changes the number of feature maps", ok=ok, data=data)
    report.add(answer)
    report.add(_tally(data))
    report.add(_theorem_table(prove))
    report.add(_claim_table(claims))
    if run is not None:
        report.add(_run_table(run))
        report.add(_crosscheck_note(run))
        failed = [name for name, held in run_checks.items() if not held]
        if run_checks:
            report.add(
                "The run agrees with the specs: " + ", ".join(run_checks) + "."
                if not failed
                else "The run DISAGREES with the specs: " + ", ".join(failed) + "."
            )
    else:
        report.add("Full-size run skipped (--skip-run).")
    for name, message in errors.items():
        report.add(f"verifier {name} could not run: {message}")
    return report


def _headline(data: dict[str, Any]) -> str:
    """The answer to the thread's question, with every number taken from the specs, stated only if proved."""
    block = Bottleneck()
    convs = dict(block.convs())
    reduce, expand = convs["conv1"], convs["conv3"]
    verdicts = {c["id"]: c["verdict"] for c in data["claims"]}
    holds = {t["id"]: t["holds"] for t in data["theorems"]}
    deciding = ("all-inputs", "maps-equal-filters", "parameter-count")
    if not all(holds.get(t) for t in deciding) or verdicts.get("n2-maps") != "true":
        missing = [t for t in deciding if not holds.get(t)]
        return (
            "The answer is not established: "
            + (f"theorems {', '.join(missing)} did not hold or were not checked" if missing else "")
            + ("" if verdicts.get("n2-maps") == "true" else "; the n2-maps claim was not judged true")
            + "."
        )

    def layer(conv: Conv2d) -> str:
        kh, kw = conv.kernel_pair
        return (
            f"{conv.in_channels} -> {conv.out_channels}: {conv.out_channels} filters of {kh}x{kw}x{conv.in_channels}"
            f" ({conv.weight_count:,} weights)"
        )

    # The example is derived for a conv like the bottleneck's, so the sentence says what its maps are made of.
    small = Conv2d(3, 2, 1, bias=reduce.bias and expand.bias)
    example = symbolic.output_map(small, 0, (0, 0), (1, 1))
    path = [layer for _, layer in block.main_path()]
    offset = (
        "; the batch norm after each adds the offset"
        if all(isinstance(path[path.index(c) + 1], BatchNorm2d) for c in (reduce, expand))
        else ""
    )
    made_of = (
        "its bias plus the sum of each input map times its own weight"
        if small.bias
        else f"the sum of each input map times its own weight (the bottleneck's convs have no bias{offset})"
    )
    return (
        "Answer: a 1x1 convolution outputs one map per filter, and each filter spans all input maps: at every "
        f"pixel, output map o is {made_of}, every input map used, none "
        f"selected (derived for {small.in_channels} input maps: y_0 = {example}). So the number of output maps "
        "is the number of filters (n2), never n1*n2: the n1*n2 per-channel products are summed inside each filter.\n"
        f"Top layer {layer(reduce)}.\n"
        f"Bottom layer {layer(expand)}."
    )


def _theorem_table(part: _Part) -> Table | str:
    theorems = part.data.get("theorems", [])
    if not theorems:
        return f"Theorems: not checked ({part.error or 'no theorems reported'})."
    return Table(
        ["theorem", "verdict", "title"],
        [
            [
                t.get("id", "?"),
                "holds" if t.get("holds") else "FAILS",
                _short(t.get("title", t.get("statement", "")), 72),
            ]
            for t in theorems
        ],
    )


def _claim_table(part: _Part) -> Table | str:
    claims = part.data.get("claims", [])
    if not claims:
        return f"Claims: not judged ({part.error or 'no claims reported'})."
    return Table(
        ["claim", "speaker", "verdict", "quote"],
        [[c["id"], c.get("speaker", ""), c["verdict"], _short(c["quote"], 48)] for c in claims],
    )


def _tally(data: dict[str, Any]) -> str:
    """One line counting what held: theorems that hold, claims by verdict."""
    theorems = data["theorems"]
    held = sum(bool(t.get("holds")) for t in theorems)
    verdicts: dict[str, int] = {}
    for c in data["claims"]:
        verdicts[c["verdict"]] = verdicts.get(c["verdict"], 0) + 1
    judged = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items(), key=lambda kv: -kv[1]))
    return f"{held} of {len(theorems)} theorems hold; {len(data['claims'])} claims of the thread: {judged or 'none'}."


def _run_table(part: _Part) -> Table | str:
    run = part.data
    if not run:
        return f"Full-size run: did not run ({part.error or 'no figures reported'})."
    rows: list[list[Any]] = []
    for key in ("input_shape", "output_shape", "dtype", "seconds", "macs", "gmacs_per_s", "peak_bytes"):
        if key in run:
            rows.append([key, _cell(run[key])])
    for key, value in (run.get("crosscheck") or {}).items():
        rows.append([f"crosscheck.{key}", _cell(value)])
    return Table(["run figure", "value"], rows)


def _run_checks(run: dict[str, Any]) -> dict[str, bool]:
    """The run's figures against the specs' closed forms and the exact cross-check, each a named check."""
    block = Bottleneck()
    checks: dict[str, bool] = {}
    shape = tuple(run.get("input_shape") or ())
    try:
        expected_out = block.output_shape(shape)
        expected_macs = block.macs(shape)
    except VerifierError:
        return {"input shape is the block's": False}
    checks["output shape by the shape rule"] = tuple(run.get("output_shape") or ()) == expected_out
    checks["MACs equal the closed form"] = run.get("macs") == expected_macs
    checks["cross-check exact on integer data"] = (run.get("crosscheck") or {}).get("exact") is True
    return checks


def _crosscheck_note(part: _Part) -> str:
    """The run report's own account of which pixels were cross-checked and why (empty if it gave none)."""
    if part.report is None:
        return ""
    notes = [b for b in part.report.blocks if isinstance(b, str) and b.startswith("Cross-checked")]
    return notes[0] if notes else ""


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(fmt(v) for v in value)
    return fmt(value)


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
