"""Bad usage of every subcommand exits 2 with one line on stderr naming the option and value, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from verifier.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in this process; argparse's own errors leave through SystemExit, the rest as a status."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _assert_bad_usage(argv: list[str], fragments: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(argv, capsys)
    assert status == 2, (argv, status, err)
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("verifier"), err
    assert "error:" in lines[0]
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# Each case: the command line, then what its one-line message must contain (the option or parameter and the value).
ARGPARSE_CASES = [
    (["--nope"], ("unrecognized arguments", "--nope")),
    (["nosuchcommand"], ("invalid choice", "'nosuchcommand'")),
    *[([name, "--nope"], ("unrecognized arguments", "--nope")) for name in SUBCOMMANDS if name != "count"],
    (["count", "resnet50", "--nope"], ("unrecognized arguments", "--nope")),
    (["derive", "--in", "1.5"], ("--in", "'1.5'")),
    (["derive", "--map", "x"], ("--map", "'x'")),
    (["count"], ("MODEL",)),
    (["count", "bottleneck", "--planes", "1.5"], ("--planes", "'1.5'")),
    (["count", "resnet50", "--seed", "x"], ("--seed", "'x'")),
    (["count", "resnet50", "--batch", "two"], ("--batch", "'two'")),
    (["run", "--batch", "x"], ("--batch", "'x'")),
    (["run", "--dtype", "float16"], ("--dtype", "'float16'", "float32", "float64")),
    (["run", "--seed", "x"], ("--seed", "'x'")),
]

VALIDATION_CASES = [
    (["prove", "--theorem", "nope"], ("theorem", "'nope'", "all-inputs", "bottleneck-budget")),
    (["claims", "--id", "nope"], ("claim", "nope", "n1-times-n2")),
    (["derive", "--in", "0"], ("--in", "got 0")),
    (["derive", "--out", "0"], ("--out", "got 0")),
    (["derive", "--map", "999"], ("--map", "999", "0..63")),
    (["derive", "--map", "-1"], ("--map", "-1")),
    (["derive", "--kernel", "0"], ("--kernel", "got 0")),
    (["derive", "--kernel", "1,2,3"], ("--kernel", "'1,2,3'")),
    (["derive", "--kernel", "1.5"], ("--kernel", "'1.5'")),
    (["derive", "--stride", "0"], ("--stride", "got 0")),
    (["derive", "--dilation", "0"], ("--dilation", "got 0")),
    (["derive", "--padding", "full"], ("--padding", "'full'", "same", "valid")),
    (["derive", "--padding", "-1"], ("--padding", "-1")),
    (["derive", "--groups", "3"], ("groups", "256", "3")),
    (["derive", "--input", "0x1"], ("--input", "'0x1'")),
    (["derive", "--input", "3"], ("--input", "'3'")),
    (["derive", "--position", "a"], ("--position", "'a'")),
    (["derive", "--position", "99,99"], ("--position", "(99, 99)", "outside")),
    (["count", "foo"], ("MODEL", "'foo'", "resnet50", "bottleneck", "conv")),
    (["count", "conv"], ("--in", "--out")),
    (["count", "conv", "--in", "0", "--out", "4"], ("in_channels", "got 0")),
    (["count", "conv", "--in", "4", "--out", "-1"], ("out_channels", "got -1")),
    (["count", "conv", "--in", "4", "--out", "4", "--kernel", "0"], ("kernel_size", "got 0")),
    (["count", "conv", "--in", "4", "--out", "4", "--stride", "0"], ("stride", "got 0")),
    (["count", "conv", "--in", "4", "--out", "4", "--padding", "-1"], ("padding", "got -1")),
    (["count", "conv", "--in", "4", "--out", "4", "--groups", "3"], ("groups", "in_channels=4", "groups=3")),
    (["count", "conv", "--in", "4", "--out", "4", "--kernel", "9", "--input", "3x3"], ("input height 3", "9")),
    (["count", "conv", "--in", "4", "--out", "4", "--planes", "3"], ("--planes", "conv")),
    (["count", "resnet50", "--input", "0x0"], ("--input", "'0x0'")),
    (["count", "resnet50", "--input", "abc"], ("--input", "'abc'")),
    (["count", "resnet50", "--batch", "0"], ("--batch", "got 0")),
    (["count", "resnet50", "--depth", "0"], ("--depth", "got 0")),
    (["count", "resnet50", "--variant", "v3"], ("--variant", "'v3'")),
    (["count", "resnet50", "--in", "7"], ("--in", "resnet50")),
    (["count", "basic", "--groups", "2"], ("--groups", "basic")),
    (["count", "bottleneck", "--in", "0"], ("in_channels", "got 0")),
    (["count", "bottleneck", "--input", "0"], ("--input", "'0'")),
    (["run", "--batch", "0"], ("batch", "got 0")),
    (["run", "--batch", "-1"], ("batch", "got -1")),
    (["run", "--batch", "1000000"], ("(1000000, 256, 56, 56)", "needs about", "nothing was allocated")),
    (["run", "--size", "100000"], ("(1, 256, 100000, 100000)", "needs about", "nothing was allocated")),
    (["run", "--size", "0"], ("size", "got 0")),
    (["run", "--repeats", "0"], ("repeats", "got 0")),
]


@pytest.mark.parametrize(
    ("argv", "fragments"), ARGPARSE_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_unparseable_command_lines_exit_2_with_one_line(
    argv: list[str], fragments: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    _assert_bad_usage(argv, fragments, capsys)


@pytest.mark.parametrize(
    ("argv", "fragments"), VALIDATION_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_bad_values_exit_2_naming_the_option_and_value(
    argv: list[str], fragments: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    _assert_bad_usage(argv, fragments, capsys)
    status, _, err = _run([*argv, "--json"], capsys)
    assert status == 2 and len(err.splitlines()) == 1 and "Traceback" not in err


def test_help_of_every_subcommand_exits_0_and_lists_json(capsys: pytest.CaptureFixture[str]) -> None:
    for name in SUBCOMMANDS:
        status, out, err = _run([name, "--help"], capsys)
        assert status == 0 and err == ""
        assert f"usage: verifier {name}" in out and "--json" in out


def test_a_real_process_exits_2_with_one_line_and_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "verifier", "count", "resnet50", "--variant", "v3", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["verifier count: error: --variant must be v1 or v1.5, got 'v3'"]


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["run", "--seed", "-1"], ("seed", "got -1")),
        (["count", "bottleneck", "--execute", "--seed", "-1", "--input", "4x4"], ("seed", "got -1")),
        (["count", "bottleneck", "--planes", "0"], ("--planes", "got 0")),
        (["count", "basic", "--planes", "-2"], ("--planes", "got -2")),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_bad_seeds_and_widths_are_bad_usage(
    argv: list[str], fragments: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    _assert_bad_usage(argv, fragments, capsys)
