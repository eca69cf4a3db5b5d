"""`verifier derive`: the derived formula of one output map of a conv, e.g. ``--in 256 --out 64 --map 0``.

Long sums are shown as their first and last products with the count; ``--full`` prints every product and
``--latex`` prints LaTeX instead of plain text. JSON: ``{"conv", "map", "position", "input_size", "products",
"multiplications", "inputs", "weights", "bias", "expression", "latex"}`` (expression and latex in full).
"""

from __future__ import annotations

import argparse
import re

from ..errors import VerifierError
from ..progress import Progress
from ..report import Report
from ..spec import Conv2d
from ..symbolic import count_multiplications, output_map, taps
from ..symbolic.derive import check_geometry, check_map
from ._conv_options import add_conv_arguments, conv_from_args, in_option_names, parse_size

HELP = "print the derived formula of one output map of a conv (default: 1x1 conv 256 -> 64, map 0)"

_SHOWN = (3, 2)  # products shown before and after the ellipsis when the sum is abbreviated

# What the position and size checks call their parameters, as the options that set them.
_OTHER_OPTIONS = {"o ": "--map ", "position": "--position", "input ": "--input ", "input_size": "--input"}


#: Options that shape the text only (``--json`` next to them is refused): the JSON holds both forms in full.
TEXT_ONLY = {
    "latex": "the JSON holds the LaTeX in 'latex'",
    "full": "the JSON holds every product in 'expression' and 'latex'",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The conv (as ``torch.nn.Conv2d``'s arguments), the map, the position and the input size."""
    add_conv_arguments(parser, defaults=True)
    parser.add_argument(
        "--map", dest="map", metavar="O", type=int, default=0, help="output map o, 0 .. C_out-1 (default 0)"
    )
    parser.add_argument(
        "--input",
        dest="input",
        metavar="HxW",
        type=str,
        default=None,
        help="input size HxW (default: the dilated kernel's extent, so the centre output sees every tap)",
    )
    parser.add_argument(
        "--position",
        metavar="ROW,COL",
        type=str,
        default=None,
        help="output position row,col (default: the centre of the output)",
    )
    parser.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    parser.add_argument("--full", action="store_true", help="print every product, not the first and last ones")


def _position(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", text)
    if not match:
        raise VerifierError(f"--position must be row,col with non-negative ints, like 0,0, got {text!r}")
    return int(match[1]), int(match[2])


def _build(args: argparse.Namespace) -> tuple[Conv2d, int, tuple[int, int], tuple[int, int]]:
    try:
        conv = conv_from_args(args)
        # without --input, the kernel's extent: the centre output then sees every tap
        size = parse_size(args.input, conv.kernel_extent)
        ho, wo = conv.output_size(*size)
        position = (ho // 2, wo // 2) if args.position is None else _position(args.position)
        check_map(conv, args.map)  # --map and --position, without listing the taps
        check_geometry(conv, position, size)
    except VerifierError as exc:
        raise in_option_names(exc, _OTHER_OPTIONS) from None
    return conv, args.map, position, size


def _join(bias: str | None, terms: list[str]) -> str:
    pieces = ([bias] if bias else []) + terms
    return " + ".join(pieces) if pieces else "0"


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    """Derive the map; the report holds the formula, the JSON the full expression and its counts."""
    conv, o, position, size = _build(args)
    progress.step(f"deriving map {o} of {conv!r}")
    expr = output_map(conv, o, position, size)
    products = taps(conv, o, position, size)
    plain = [f"w_{{{t.o},{t.i},{t.u},{t.v}}}*x_{{{t.channel},{t.h},{t.w}}}" for t in products]
    tex = [f"w_{{{t.o},{t.i},{t.u},{t.v}}} x_{{{t.channel},{t.h},{t.w}}}" for t in products]
    bias = f"b_{{{o}}}" if conv.bias else None
    lhs = f"y_{{{o}}}({position[0]},{position[1]})"
    terms = tex if args.latex else plain
    head, tail = _SHOWN
    hidden = 0
    if not args.full and len(terms) > head + tail + 1:
        hidden = len(terms) - head - tail
        terms = [*terms[:head], r"\dots" if args.latex else "...", *terms[-tail:]]
    formula = f"{lhs} = {_join(bias, terms)}"
    data = {
        "conv": repr(conv),
        "map": o,
        "position": list(position),
        "input_size": list(size),
        "products": len(products),
        "multiplications": count_multiplications(expr),
        "inputs": len({(t.channel, t.h, t.w) for t in products}),
        "weights": len({(t.i, t.u, t.v) for t in products}),
        "bias": bias,
        "expression": _join(bias, plain),
        "latex": f"{lhs} = {_join(bias, tex)}",
    }
    report = Report(f"Output map {o} of {conv!r}", ok=True, data=data)
    report.add(formula)
    summary = (
        f"{len(products)} products over {data['inputs']} inputs at output position {position} of a "
        f"{size[0]}x{size[1]} input" + (f" ({hidden} not shown; --full prints them)" if hidden else "") + "."
    )
    report.add(summary)
    return report
