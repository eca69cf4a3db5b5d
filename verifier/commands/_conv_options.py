"""The options that describe one conv, shared by every subcommand that takes one (``derive``, ``count conv``).

They are ``torch.nn.Conv2d``'s arguments: ``--in``/``--in-channels`` C_in, ``--out``/``--out-channels`` C_out,
``--kernel``, ``--stride``, ``--padding``, ``--dilation`` (each an int or a pair ``a,b``; ``--padding`` also
``same`` or ``valid``), ``--groups`` and ``--bias``. Errors from the spec are repeated with these option
names in place of its parameter names, so the message names what the user typed.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from ..errors import VerifierError
from ..spec import Conv2d

#: Conv2d's parameter names, and the options that set them.
OPTIONS = {
    "in_channels": "--in",
    "out_channels": "--out",
    "kernel_size": "--kernel",
    "stride": "--stride",
    "padding": "--padding",
    "dilation": "--dilation",
    "groups": "--groups",
    "bias": "--bias",
}

#: The defaults of a conv given by options: torch's, with the thread's 256 -> 64 channels.
DEFAULTS = {"in_channels": 256, "out_channels": 64, "kernel": "1", "stride": "1", "padding": "0", "dilation": "1"}


def add_conv_arguments(parser: argparse.ArgumentParser, *, defaults: bool, applies: str = "") -> None:
    """Add the conv's options; with ``defaults=False`` each is None unless given (to tell what was given)."""

    def default(name: str) -> Any:
        return DEFAULTS.get(name) if defaults else None

    def shown(name: str) -> str:
        return f" (default {DEFAULTS[name]})" if defaults else applies

    parser.add_argument(
        "--in",
        "--in-channels",
        dest="in_channels",
        metavar="C_IN",
        type=int,
        default=default("in_channels"),
        help="input maps C_in" + shown("in_channels"),
    )
    parser.add_argument(
        "--out",
        "--out-channels",
        dest="out_channels",
        metavar="C_OUT",
        type=int,
        default=default("out_channels"),
        help="output maps C_out" + shown("out_channels"),
    )
    parser.add_argument(
        "--kernel", metavar="K", default=default("kernel"), help="kernel size k or kh,kw" + shown("kernel")
    )
    parser.add_argument("--stride", metavar="S", default=default("stride"), help="stride s or sh,sw" + shown("stride"))
    parser.add_argument(
        "--padding",
        metavar="P",
        default=default("padding"),
        help="padding p, ph,pw, 'same' or 'valid'" + shown("padding"),
    )
    parser.add_argument(
        "--dilation", metavar="D", default=default("dilation"), help="dilation d or dh,dw" + shown("dilation")
    )
    parser.add_argument(
        "--groups",
        metavar="G",
        type=int,
        default=1 if defaults else None,
        help="groups g, dividing C_in and C_out" + (" (default 1)" if defaults else applies),
    )
    parser.add_argument(
        "--bias", action="store_true", default=False if defaults else None, help="give the conv a bias b_o"
    )


def ints(option: str, text: Any, allow_words: tuple[str, ...] = ()) -> Any:
    """'3' -> 3, '3,1' -> (3, 1); the words in ``allow_words`` pass through; anything else names the option.

    >>> ints("--kernel", "3"), ints("--kernel", "3,1"), ints("--padding", "same", ("same", "valid"))
    (3, (3, 1), 'same')
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if text in allow_words:
        return text
    parts = str(text).split(",")
    if len(parts) in (1, 2) and all(re.fullmatch(r"-?\d+", p.strip()) for p in parts):
        values = tuple(int(p) for p in parts)
        return values[0] if len(values) == 1 else values
    allowed = "an int or a pair a,b" + "".join(f" or {w!r}" for w in allow_words)
    raise VerifierError(f"{option} must be {allowed}, got {text!r}")


def parse_size(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """``"224x224"`` or ``"224"`` as (H, W); bad text is a VerifierError quoting it.

    >>> parse_size("56x28", (1, 1)), parse_size("7", (1, 1)), parse_size(None, (224, 224))
    ((56, 28), (7, 7), (224, 224))
    """
    if text is None:
        return default
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
    if not match or int(match.group(1)) < 1 or (match.group(2) is not None and int(match.group(2)) < 1):
        raise VerifierError(f"--input must be HxW with positive integers (e.g. 224x224) or one size, got {text!r}")
    h = int(match.group(1))
    return h, int(match.group(2)) if match.group(2) is not None else h


def conv_from_args(args: argparse.Namespace) -> Conv2d:
    """The conv the options describe (options left at None take torch's defaults); errors name the options."""

    def given(name: str, default: str) -> Any:
        value = getattr(args, name, None)
        return default if value is None else value

    try:
        return Conv2d(
            args.in_channels,
            args.out_channels,
            ints("--kernel", given("kernel", "1")),
            stride=ints("--stride", given("stride", "1")),
            padding=ints("--padding", given("padding", "0"), ("same", "valid")),
            dilation=ints("--dilation", given("dilation", "1")),
            groups=1 if args.groups is None else args.groups,
            bias=bool(args.bias),
        )
    except VerifierError as exc:
        raise in_option_names(exc) from None


def in_option_names(exc: VerifierError, extra: dict[str, str] | None = None) -> VerifierError:
    """The same message, with Conv2d's parameter names replaced by the options (and ``extra`` names).

    A layer's repr quoted in the message (``Conv2d(256, 64, kernel_size=(1, 1), ...)``) is left as it is.

    >>> print(in_option_names(VerifierError("groups must divide in_channels: in_channels=6 is not divisible")))
    --groups must divide --in: --in 6 is not divisible
    """
    names = {**OPTIONS, **(extra or {})}
    message = str(exc)
    for name, option in names.items():
        if message.startswith(name):
            message = option + message[len(name) :]
            break
    pieces = re.split(r"(Conv2d\((?:[^()]|\([^()]*\))*\))", message)
    for k in range(0, len(pieces), 2):  # even pieces are outside any quoted repr
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"):
            pieces[k] = re.sub(rf"(?<![\w-]){name}=", f"{OPTIONS[name]} ", pieces[k])
            pieces[k] = re.sub(rf"(?<![\w-]){name}\b", OPTIONS[name], pieces[k])
    return VerifierError("".join(pieces))
