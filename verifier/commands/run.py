"""`verifier run`: the bottleneck at full size, timed, measured, and cross-checked against the derivation.

JSON: ``{"input_shape", "output_shape", "dtype", "seconds", "macs", "gmacs_per_s", "peak_bytes",
"crosscheck": {"points", "max_abs_error", "exact"}}``. ``seconds`` is the median of the block's forward
pass alone (after a warm-up; set-up and the cross-check excluded); ``macs`` counts the block's conv
multiply-adds for the whole batch; ``peak_bytes`` is the most memory a forward pass allocates beyond
its input and weights (output and scratch included).

The main job calls :func:`run_bottleneck` and renders :func:`run_report`.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _validate as check
from ..crosscheck import CrossCheck, crosscheck_bottleneck
from ..errors import VerifierError
from ..memory import ensure_fits, human_bytes
from ..numeric import FoldedBottleneck, bottleneck_input, bottleneck_params
from ..progress import Progress
from ..report import Report, Table, fmt
from ..spec import Bottleneck
from ._conv_options import parse_size

__all__ = ["RunResult", "run_bottleneck", "run_report"]

HELP = "run the 256->64->64->256 bottleneck at full size: time, MACs, memory, exact cross-check"
DTYPES = ("float32", "float64")
SIZE = 56


@dataclass(frozen=True)
class RunResult:
    """What one run measured; :meth:`as_dict` is the JSON contract of ``verifier run``."""

    block: Bottleneck
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    dtype: str
    seconds: float
    repeats: int
    macs: int
    peak_bytes: int
    input_bytes: int
    crosscheck: CrossCheck | None

    @property
    def gmacs_per_s(self) -> float:
        return self.macs / self.seconds / 1e9

    @property
    def ok(self) -> bool:
        """The cross-check held (exact on integer data, float error within tolerance)."""
        return self.crosscheck is not None and self.crosscheck.ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "dtype": self.dtype,
            "seconds": self.seconds,
            "macs": self.macs,
            "gmacs_per_s": self.gmacs_per_s,
            "peak_bytes": self.peak_bytes,
            "crosscheck": None if self.crosscheck is None else self.crosscheck.as_dict(),
        }

    def __repr__(self) -> str:
        check_text = "no cross-check" if self.crosscheck is None else repr(self.crosscheck)
        return (
            f"RunResult({self.input_shape} {self.dtype}: {self.seconds * 1e3:.2f} ms, "
            f"{self.gmacs_per_s:.1f} GMAC/s, peak {human_bytes(self.peak_bytes)}; {check_text})"
        )


def _median_seconds(
    model: FoldedBottleneck, x: np.ndarray, out: np.ndarray, repeats: int | None, progress: Progress
) -> tuple[float, int]:
    """Median wall time of ``model(x, out=out)`` after one warm-up call; at least 5 runs, about 1 s in all."""
    model(x, out=out)
    times: list[float] = []
    budget = time.perf_counter() + 1.0
    target = repeats if repeats is not None else 50
    while len(times) < target and (repeats is not None or len(times) < 5 or time.perf_counter() < budget):
        progress.step(f"timing the forward pass: run {len(times) + 1}")
        start = time.perf_counter()
        model(x, out=out)
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(times)


def _peak_bytes(model: FoldedBottleneck, x: np.ndarray) -> int:
    """Most memory a cold forward pass allocates (scratch buffers and output), by tracemalloc."""
    fresh = FoldedBottleneck(model.params)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    y = fresh(x)
    _, peak = tracemalloc.get_traced_memory()
    del y
    if not tracing:
        tracemalloc.stop()
    return peak - base


def run_bottleneck(
    batch: int = 1,
    dtype: str = "float32",
    *,
    seed: int = 0,
    input_size: int | tuple[int, int] = SIZE,
    repeats: int | None = None,
    crosscheck: bool = True,
    progress: Progress | None = None,
) -> RunResult:
    """Run the thread's bottleneck (256 -> 64 -> 64 -> 256, stride 1) at full size and measure it.

    Memory for the whole run is estimated first and a batch that would not fit is refused before any
    array is allocated.

    Args:
        batch: N of the (N, 256, H, W) input.
        dtype: ``"float32"`` or ``"float64"``.
        seed: draws the weights, batch norms and input.
        input_size: the input's (H, W), or one int for a square (56x56 in the thread's stage).
        repeats: timed forward passes (default: at least 5, about one second).
        crosscheck: whether to compare chosen pixels with the exact derivation.
        progress: reports the steps of long work.
    """
    batch = check.int_at_least("batch", batch, 1)
    h, w = check.pair_at_least("input_size", input_size, 1)
    dtype = check.choice("dtype", dtype, DTYPES)
    seed = check.int_at_least("seed", seed, 0)
    if not isinstance(crosscheck, bool):
        raise VerifierError(f"crosscheck must be True or False, got {crosscheck!r}")
    if repeats is not None:
        repeats = check.int_at_least("repeats", repeats, 1)
    progress = progress or Progress(enabled=False)
    block = Bottleneck()
    input_shape = (batch, block.in_channels, h, w)
    item = np.dtype(dtype).itemsize
    progress.step("preparing parameters")
    params = bottleneck_params(block, seed=seed, dtype=dtype)  # type: ignore[arg-type]
    model = FoldedBottleneck(params)
    input_bytes = math.prod(input_shape) * item
    # the input, the timing output, and a second forward pass's scratch and output when measuring memory
    ensure_fits(input_bytes + 2 * model.workspace_bytes(input_shape), f"a bottleneck run on input {input_shape}")
    progress.step("drawing the input")
    x = bottleneck_input(block, batch, (h, w), seed=seed + 1, dtype=dtype)  # type: ignore[arg-type]
    out = np.empty(block.output_shape(input_shape), dtype)
    seconds, count = _median_seconds(model, x, out, repeats, progress)
    progress.step("measuring peak memory")
    peak = _peak_bytes(model, x)
    result_check = None
    if crosscheck:
        result_check = crosscheck_bottleneck(block, (h, w), dtype=dtype, seed=seed, data=(x, params), progress=progress)
    return RunResult(
        block=block,
        input_shape=input_shape,
        output_shape=tuple(out.shape),
        dtype=dtype,
        seconds=seconds,
        repeats=count,
        macs=block.macs(input_shape),
        peak_bytes=peak,
        input_bytes=input_bytes,
        crosscheck=result_check,
    )


def _why(check_result: CrossCheck) -> str:
    rows = sorted({r for r, _ in check_result.points})
    cols = sorted({c for _, c in check_result.points})
    return (
        f"rows {', '.join(map(str, rows))} and columns {', '.join(map(str, cols))}: one pixel for each distinct "
        "way the 3x3 conv's window meets the image border (corners, edge middles and the interior), so every "
        "padding pattern of the block is checked"
    )


def run_report(result: RunResult) -> Report:
    """The text/JSON report of a run; ``ok`` is whether the cross-check held."""
    full = result.input_shape[2:] == (SIZE, SIZE)
    title = (
        "Bottleneck at full size" if full else f"Bottleneck on a {result.input_shape[2]}x{result.input_shape[3]} input"
    )
    report = Report(title, ok=result.ok, data=result.as_dict())
    block = result.block
    report.add(
        f"The bottleneck {block.in_channels} -> {block.width} -> {block.width} -> {block.out_channels} maps "
        f"({block.variant}, {'projection' if block.has_projection else 'identity'} shortcut), batch norms folded "
        f"into the convs, on an input of shape {result.input_shape} in {result.dtype}."
    )
    report.add(
        Table(
            ["measure", "value"],
            [
                ["forward pass (median)", f"{result.seconds * 1e3:.3f} ms over {result.repeats} runs"],
                ["conv multiply-adds (MACs)", fmt(result.macs)],
                ["throughput", f"{result.gmacs_per_s:.2f} GMAC/s ({2 * result.gmacs_per_s:.2f} GFLOP/s)"],
                [
                    "peak memory beyond input and weights",
                    f"{human_bytes(result.peak_bytes)} ({result.peak_bytes / result.input_bytes:.2f} x the input)",
                ],
            ],
        )
    )
    report.add(
        "MACs count each multiply-add of the three convs once (bias, batch norm, ReLU and the residual add are "
        "not counted); FLOPs = 2 x MACs."
    )
    c = result.crosscheck
    if c is None:
        report.add("No cross-check was run.")
        return report
    values = len(c.points) * c.channels
    report.add(
        f"Cross-checked {len(c.points)} output pixels x {c.channels} maps ({fmt(values)} values) against the "
        f"symbolic derivation evaluated exactly, layer by layer: {_why(c)}."
    )
    report.add(
        f"Integer data (weights in -2..2, inputs in -3..3, dyadic batch norms, all exact in float64): "
        f"{'every value equal, zero tolerance' if c.exact else f'{c.mismatches} values differ'}. "
        f"The run's {c.dtype} data: largest error {c.max_abs_error:.3g} for outputs up to {c.max_abs_output:.3g} "
        f"(accepted up to {c.tolerance:.3g} x (1 + largest output)). About {c.seconds_per_pixel:.2f} s per "
        "exact pixel."
    )
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--batch``, ``--dtype``, ``--seed``, ``--input``, ``--repeats``."""
    parser.add_argument("--batch", type=int, default=1, help="batch size N of the (N, 256, H, W) input (default 1)")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="float type (default float32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the input (default 0)")
    parser.add_argument(
        "--input",
        metavar="HxW",
        default=None,
        help=f"input height x width, or one size for a square (default {SIZE}x{SIZE}, the thread's stage)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed forward passes (default: at least 5, about one second)"
    )


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    result = run_bottleneck(
        batch=args.batch,
        dtype=args.dtype,
        seed=args.seed,
        input_size=parse_size(args.input, (SIZE, SIZE)),
        repeats=args.repeats,
        progress=progress,
    )
    return run_report(result)
