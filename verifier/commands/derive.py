"""`verifier derive`: the derived formula of one output map of a conv, e.g. ``--in 256 --out 64 --map 0``.

Long sums are shown as their first and last products with the count; ``--full`` prints every product and
``--latex`` prints LaTeX instead of plain text. JSON: ``{"conv", "map", "position", "input_size", "products",
"multiplications", "inputs", "weights", "bias", "expression", "latex"}`` (expression and latex in full).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from ..errors import VerifierError
from ..progress import Progress
from ..report import Report
from ..spec import Conv2d
from ..symbolic import count_multiplications, output_map, taps
from ..symbolic.derive import _check_map, _geometry

HELP = "print the derived formula of one output map of a conv (default: 1x1 conv 256 -> 64, map 0)"

_SHOWN = (3, 2)  # products shown before and after the ellipsis when the sum is abbreviated

# Conv2d's parameter names, as the options that set them.
_OPTIONS = {
    "in_channels": "--in",
    "out_channels": "--out",
    "kernel_size": "--kernel",
    "stride": "--stride",
    "padding": "--padding",
    "dilation": "--dilation",
    "groups": "--groups",
    "o ": "--map ",
    "position": "--position",
    "input ": "--input ",
    "input_size": "--input",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The conv (as ``torch.nn.Conv2d``'s arguments), the map, the position and the input size."""
    parser.add_argument(
        "--in", dest="in_channels", metavar="C_IN", type=int, default=256, help="input maps C_in (default 256)"
    )
    parser.add_argument(
        "--out", dest="out_channels", metavar="C_OUT", type=int, default=64, help="output maps C_out (default 64)"
    )
    parser.add_argument(
        "--map", dest="map", metavar="O", type=int, default=0, help="output map o, 0 .. C_out-1 (default 0)"
    )
    parser.add_argument("--kernel", metavar="K", type=str, default="1", help="kernel size k or kh,kw (default 1)")
    parser.add_argument("--stride", metavar="S", type=str, default="1", help="stride s or sh,sw (default 1)")
    parser.add_argument(
        "--padding", metavar="P", type=str, default="0", help="padding p, ph,pw, 'same' or 'valid' (default 0)"
    )
    parser.add_argument("--dilation", metavar="D", type=str, default="1", help="dilation d or dh,dw (default 1)")
    parser.add_argument(
        "--groups", metavar="G", type=int, default=1, help="groups g, dividing C_in and C_out (default 1)"
    )
    parser.add_argument("--bias", action="store_true", help="give the conv a bias b_o")
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


def _ints(option: str, text: str, allow_words: tuple[str, ...] = ()) -> Any:
    """'3' -> 3, '3,1' -> (3, 1); the words in ``allow_words`` pass through; anything else names the option."""
    if text in allow_words:
        return text
    parts = text.split(",")
    if len(parts) in (1, 2) and all(re.fullmatch(r"-?\d+", p.strip()) for p in parts):
        values = tuple(int(p) for p in parts)
        return values[0] if len(values) == 1 else values
    allowed = "an int or a pair a,b" + "".join(f" or {w!r}" for w in allow_words)
    raise VerifierError(f"{option} must be {allowed}, got {text!r}")


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise VerifierError(f"--input must be HxW with positive ints, like 56x56, got {text!r}")
    h, w = int(match[1]), int(match[2])
    if h < 1 or w < 1:
        raise VerifierError(f"--input must be HxW with positive ints, like 56x56, got {text!r}")
    return h, w


def _position(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", text)
    if not match:
        raise VerifierError(f"--position must be row,col with non-negative ints, like 0,0, got {text!r}")
    return int(match[1]), int(match[2])


def _in_option_names(exc: VerifierError) -> VerifierError:
    """The same message, with Conv2d's parameter names replaced by this command's options.

    A layer's repr quoted in the message (``Conv2d(256, 64, kernel_size=(1, 1), ...)``) is left as it is.
    """
    message = str(exc)
    for name, option in _OPTIONS.items():
        if message.startswith(name):
            message = option + message[len(name) :]
            break
    pieces = re.split(r"(Conv2d\((?:[^()]|\([^()]*\))*\))", message)
    for k in range(0, len(pieces), 2):  # even pieces are outside any quoted repr
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"):
            pieces[k] = re.sub(rf"(?<![\w-]){name}=", f"{_OPTIONS[name]} ", pieces[k])
            pieces[k] = re.sub(rf"(?<![\w-]){name}\b", _OPTIONS[name], pieces[k])
    return VerifierError("".join(pieces))


def _build(args: argparse.Namespace) -> tuple[Conv2d, int, tuple[int, int], tuple[int, int]]:
    try:
        conv = Conv2d(
            args.in_channels,
            args.out_channels,
            _ints("--kernel", args.kernel),
            stride=_ints("--stride", args.stride),
            padding=_ints("--padding", args.padding, ("same", "valid")),
            dilation=_ints("--dilation", args.dilation),
            groups=args.groups,
            bias=bool(args.bias),
        )
        # without --input, the kernel's extent: the centre output then sees every tap
        size = conv.kernel_extent if args.input is None else _size(args.input)
        ho, wo = conv.output_size(*size)
        position = (ho // 2, wo // 2) if args.position is None else _position(args.position)
        _check_map(conv, args.map)  # --map and --position, without listing the taps
        _geometry(conv, position, size)
    except VerifierError as exc:
        raise _in_option_names(exc) from None
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
