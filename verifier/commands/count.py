"""`verifier count MODEL`: parameters and multiply-adds of every layer of a ResNet, a block or one conv."""

from __future__ import annotations

import argparse
from typing import Any

from .._count_check import Recount, recount
from ..conventions import CONVENTIONS, KERAS_PUBLISHED, reconcile
from ..errors import VerifierError
from ..execute import run_counted
from ..models import MODEL_NAMES, ResNet, keras_count, resnet, variant_gap
from ..numeric import bottleneck_params
from ..progress import Progress
from ..report import Report, Table
from ..spec import BasicBlock, Bottleneck, Conv2d, LayerRow
from ..tables import layer_report, shape_text
from ._conv_options import add_conv_arguments, conv_from_args, ints, parse_size

HELP = "count parameters and multiply-adds of a ResNet, a block or one conv, layer by layer"

BLOCKS = ("bottleneck", "basic")
CHOICES = (*MODEL_NAMES, *BLOCKS, "conv")
_CONV_ONLY = ("out_channels", "kernel", "padding", "dilation", "groups", "bias")
_NOT_FOR_NETWORKS = ("in_channels", "planes", "stride", *_CONV_ONLY)


def _option(dest: str) -> str:
    """The option that sets ``dest`` (``in_channels`` is ``--in``)."""
    return {"in_channels": "--in", "out_channels": "--out"}.get(dest, f"--{dest}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", nargs="?", help=f"one of: {', '.join(CHOICES)}")
    parser.add_argument("--variant", default="v1.5", help="v1.5 (torchvision: stride on the 3x3) or v1 (the paper)")
    parser.add_argument("--input", default=None, help="input height x width, e.g. 224x224 (networks) or 56x56")
    parser.add_argument("--batch", type=int, default=1, help="batch size N (default 1)")
    parser.add_argument(
        "--depth", type=int, default=None, help="rows of the table: 1 stages, 2 blocks, 3 layers (default: every layer)"
    )
    add_conv_arguments(parser, defaults=False, applies=" (MODEL=conv; --in and --stride also for the blocks)")
    parser.add_argument("--planes", type=int, default=None, help="maps inside a block (bottleneck, basic)")
    parser.add_argument(
        "--execute",
        action="store_true",
        help="also run the NumPy engine once (float32, random weights) and count the multiply-adds it performs",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights for --execute")


def build(args: argparse.Namespace) -> tuple[ResNet | Bottleneck | BasicBlock | Conv2d, tuple[int, ...]]:
    """The spec named by MODEL and the options, and its (N, C, H, W) input shape."""
    name = args.model
    if name is None:
        raise VerifierError(f"MODEL is required: one of {', '.join(CHOICES)}")
    if name not in CHOICES:
        raise VerifierError(f"MODEL must be one of {', '.join(CHOICES)}, got {name!r}")
    if args.variant not in ("v1", "v1.5"):
        raise VerifierError(f"--variant must be v1 or v1.5, got {args.variant!r}")
    if not isinstance(args.batch, int) or args.batch < 1:
        raise VerifierError(f"--batch must be a positive int, got {args.batch!r}")
    given = [opt for opt in _NOT_FOR_NETWORKS if getattr(args, opt) is not None]
    if name in MODEL_NAMES:
        if given:
            raise VerifierError(f"{_option(given[0])} does not apply to {name}")
        h, w = parse_size(args.input, (224, 224))
        return resnet(name, args.variant), (args.batch, 3, h, w)
    h, w = parse_size(args.input, (56, 56))
    if name in BLOCKS:
        wrong = [opt for opt in _CONV_ONLY if getattr(args, opt) is not None]
        if wrong:
            raise VerifierError(f"{_option(wrong[0])} applies only to MODEL=conv, not {name}")
        stride = ints("--stride", 1 if args.stride is None else args.stride)
        if not isinstance(stride, int):
            raise VerifierError(f"--stride of a block must be one int, got {args.stride!r}")
        block: Bottleneck | BasicBlock
        if args.planes is not None and args.planes < 1:
            raise VerifierError(f"--planes must be a positive int, got {args.planes}")
        if name == "bottleneck":
            planes = 64 if args.planes is None else args.planes
            cin = 4 * planes if args.in_channels is None else args.in_channels
            block = Bottleneck(cin, planes, stride, variant=args.variant)
        else:
            planes = 64 if args.planes is None else args.planes
            cin = planes if args.in_channels is None else args.in_channels
            block = BasicBlock(cin, planes, stride)
        return block, (args.batch, cin, h, w)
    if args.planes is not None:
        raise VerifierError("--planes applies only to the blocks (bottleneck, basic), not conv")
    if args.in_channels is None or args.out_channels is None:
        raise VerifierError("MODEL=conv needs --in and --out (e.g. --in 256 --out 64 --kernel 1)")
    conv = conv_from_args(args)
    return conv, (args.batch, args.in_channels, h, w)


def layer_rows(model: ResNet | Bottleneck | BasicBlock | Conv2d, input_shape: tuple[int, ...]) -> list[LayerRow]:
    """The leaf rows of any countable spec (a single conv is one row named ``conv``)."""
    if isinstance(model, Conv2d):
        out = model.output_shape(input_shape)
        return [LayerRow("conv", model, "main", input_shape, out, model.param_count, model.macs(input_shape))]
    return model.rows(input_shape)


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    model, input_shape = build(args)
    label = model.name if isinstance(model, ResNet) else args.model
    return count_report(
        model, input_shape, depth=args.depth, execute=args.execute, seed=args.seed, label=label, progress=progress
    )


def count_report(
    model: ResNet | Bottleneck | BasicBlock | Conv2d,
    input_shape: tuple[int, ...],
    *,
    depth: int | None = None,
    execute: bool = False,
    seed: int = 0,
    label: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """The report of ``verifier count`` for any spec: per-layer table, totals, reconciliation, optional run.

    >>> report = count_report(Conv2d(256, 64, 1, bias=False), (1, 256, 56, 56))
    >>> report.data["params"], report.data["macs"], report.ok
    (16384, 51380224, True)
    """
    progress = progress or Progress(enabled=False)
    progress.step("counting")
    rows = layer_rows(model, input_shape)
    if label is None:
        label = model.name if isinstance(model, ResNet) else type(model).__name__.lower()
    report = layer_report(
        rows,
        input_shape,
        label=label,
        variant=model.variant if isinstance(model, (ResNet, Bottleneck)) else None,
        param_count=model.param_count,
        depth=depth,
        kinds=model.module_kinds() if isinstance(model, ResNet) else None,
    )
    data = report.data
    checks: dict[str, bool] = data.pop("checks")
    if isinstance(model, ResNet):
        _network_sections(report, model, input_shape, checks)
    if execute:
        _execute_section(report, model, input_shape, seed, progress, checks)
    _recount_section(report, model, rows, input_shape, checks)
    data["checks"] = checks
    report.ok = all(checks.values())
    return report


def _recount_section(
    report: Report,
    model: ResNet | Bottleneck | BasicBlock | Conv2d,
    rows: list[LayerRow],
    input_shape: tuple[int, ...],
    checks: dict[str, bool],
) -> None:
    """Count everything a second way and fail the report, naming both figures, where the two differ."""
    again: Recount = recount(
        rows, model.param_count, model.macs(input_shape), enumerate_weights=not isinstance(model, ResNet)
    )
    report.data["recount"] = again.as_dict()
    checks["parameters recounted from each layer's definition"] = again.params == again.recounted_params
    checks["MACs recounted from each layer's definition"] = again.macs == again.recounted_macs
    checks["every layer's recount equals its closed form"] = not again.differing
    same = again.agrees
    report.add(
        "Second count, from what each layer computes rather than from its closed form (a conv's weights are the "
        + ("index ranges" if isinstance(model, ResNet) else "indices, listed one by one,")
        + " its defining sum reads, its products are counted over the window positions that fit; a "
        f"linear layer's likewise; BatchNorm's scale and shift per map): {again.recounted_params:,} parameters and "
        f"{again.recounted_macs:,} MACs, against the closed forms' {again.params:,} and {again.macs:,}: "
        + ("equal." if same else "DIFFERENT.")
    )
    for name, what, closed, recounted in again.differing[:5]:
        report.add(f"{name}: {what} {_figure(closed)} by the closed form, {_figure(recounted)} recounted.")
    if len(again.differing) > 5:
        report.add(f"... and {len(again.differing) - 5} more layers differ (see the JSON's recount).")
    if isinstance(model, Bottleneck):
        arrays = bottleneck_params(model, seed=0)
        convs = [arrays.conv1, arrays.conv2, arrays.conv3, arrays.downsample]
        bns = [arrays.bn1, arrays.bn2, arrays.bn3, arrays.downsample_bn]
        engine = sum(a.size for a in convs if a is not None) + sum(
            bn.weight.size + bn.bias.size for bn in bns if bn is not None
        )
        report.data["recount"]["engine_arrays_params"] = engine
        checks["parameters equal the NumPy engine's arrays"] = engine == again.params
        report.add(
            f"The NumPy engine's own arrays for this block (conv weights, BatchNorm scales and shifts) hold "
            f"{engine:,} numbers; the closed form counts {again.params:,} parameters: "
            + ("equal." if engine == again.params else "DIFFERENT.")
        )


def _figure(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else shape_text(value)


def _network_sections(report: Report, model: ResNet, input_shape: tuple[int, ...], checks: dict[str, bool]) -> None:
    data = report.data
    gap = variant_gap(model.name, input_shape)
    data["variant_gap"] = {
        "v1": gap.v1,
        "v1.5": gap.v1_5,
        "gap": gap.gap,
        "blocks": [{"name": n, "macs": m} for n, m in gap.blocks],
    }
    report.add(
        f"v1 (the paper: stride on the first 1x1) against v1.5 (torchvision: stride on the 3x3): {gap.v1:,} "
        f"against {gap.v1_5:,} MACs; v1.5 spends {gap.gap:,} more, all in the first conv of "
        f"{len(gap.blocks)} downsampling block(s), which v1.5 runs at the full input resolution."
        if gap.blocks
        else "v1 and v1.5 are the same network here (only bottleneck blocks place their stride differently)."
    )
    keras = keras_count(model)
    data["keras"] = {
        "trainable": keras.trainable,
        "non_trainable": keras.non_trainable,
        "total": keras.total,
        "conv_biases": keras.conv_biases,
        "moving_statistics": keras.moving_statistics,
    }
    report.add(
        Table(
            ["parameters as Keras counts them", "count"],
            [
                ["PyTorch's parameters", keras.pytorch_params],
                ["+ a bias on every conv (Keras's Conv2D default)", keras.conv_biases],
                ["= trainable", keras.trainable],
                ["+ BatchNorm moving mean and variance (non-trainable)", keras.moving_statistics],
                ["= Keras total", keras.total],
            ],
        )
    )
    if model.name in KERAS_PUBLISHED:
        data["keras"]["published"] = KERAS_PUBLISHED[model.name]
        checks["Keras published total reproduced"] = keras.total == KERAS_PUBLISHED[model.name]
    rows = reconcile(model, input_shape)
    data["conventions"] = rows
    report.add(
        Table(
            ["counter", "its figure", "x 10^9", "published", "reproduced"],
            [
                [
                    r["convention"],
                    r["total"],
                    f"{int(r['total']) / 1e9:.3f}",  # type: ignore[call-overload]
                    r["published"] or "",
                    "" if r["reproduced"] is None else bool(r["reproduced"]),
                ]
                for r in rows
            ],
        )
    )
    report.add(" ".join(f"{c.name}: {c.description}." for c in CONVENTIONS if c.name.startswith("ptflops")))
    for r in rows:
        if r["reproduced"] is not None:
            checks[f"{r['convention']} published figure reproduced"] = bool(r["reproduced"])


def _execute_section(
    report: Report,
    model: ResNet | Bottleneck | BasicBlock | Conv2d,
    input_shape: tuple[int, ...],
    seed: int,
    progress: Progress,
    checks: dict[str, bool],
) -> None:
    progress.step("running the NumPy engine once at full size")
    run = run_counted(model, input_shape, seed=seed)
    report.data["execute"] = run.as_dict()
    checks["engine performed exactly the closed-form MACs"] = run.matches
    report.add(
        f"NumPy engine, one forward pass ({run.dtype}, random weights, seed {seed}): {run.macs_performed:,} "
        f"multiply-adds performed in {len(run.calls)} conv/linear calls, counted from the arrays of each call; "
        f"closed form {run.macs_closed_form:,}; {'equal' if run.matches else 'DIFFERENT'}. "
        f"Time {run.seconds:.2f} s ({run.gmacs_per_s:.2f} GMAC/s)."
    )
