"""Proofs about the command line's plumbing: the console entry, versions, and a reader that leaves early."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import verifier
from verifier import VerifierError
from verifier.cli import SUBCOMMANDS, main


def test_python_dash_m_prints_the_package_version() -> None:
    done = subprocess.run([sys.executable, "-m", "verifier", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.split() == ["verifier", verifier.__version__]


def test_a_reader_that_closes_the_pipe_early_gets_no_traceback() -> None:
    # `verifier count resnet50 | head -1`: the report is longer than the pipe's reader wants.
    with subprocess.Popen(
        [sys.executable, "-m", "verifier", "count", "resnet50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as producer:
        assert producer.stdout is not None and producer.stderr is not None
        first = producer.stdout.readline()
        producer.stdout.close()
        err = producer.stderr.read().decode()
        producer.wait(timeout=120)
    assert first.startswith(b"verifier count resnet50")
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert producer.returncode == 0


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
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
    (["derive", "--input", "3x"], ("--input", "'3x'")),
    (["derive", "--position", "a"], ("--position", "'a'")),
    (["derive", "--position", "99,99"], ("--position", "(99, 99)", "outside")),
    (["count", "foo"], ("MODEL", "'foo'", "resnet50", "bottleneck", "conv")),
    (["count", "conv"], ("--in", "--out")),
    (["count", "conv", "--in", "0", "--out", "4"], ("--in must", "got 0")),
    (["count", "conv", "--in", "4", "--out", "-1"], ("--out must", "got -1")),
    (["count", "conv", "--in", "4", "--out", "4", "--kernel", "0"], ("--kernel must", "got 0")),
    (["count", "conv", "--in", "4", "--out", "4", "--stride", "0"], ("stride", "got 0")),
    (["count", "conv", "--in", "4", "--out", "4", "--padding", "-1"], ("padding", "got -1")),
    (["count", "conv", "--in", "4", "--out", "4", "--groups", "3"], ("--groups", "--in 4", "--groups 3")),
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
    (["run", "--input", "100000"], ("(1, 256, 100000, 100000)", "needs about", "nothing was allocated")),
    (["run", "--input", "0"], ("--input", "got '0'")),
    (["run", "--repeats", "0"], ("repeats", "got 0")),
]


# -- one exit status per outcome, one line per failure ------------------------------------------------------------
def _reads_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    status, out, err = _run(argv, capsys)
    assert status == 0, (argv, err)
    data: dict[str, Any] = json.loads(out)
    return data


def _failing_command(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    from verifier.commands import claims

    def execute(args: Any, progress: Any) -> Any:
        raise exc

    monkeypatch.setattr(claims, "execute", execute)


class _FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


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


@pytest.mark.parametrize(
    "argv",
    [
        ["claims", "--id", "n2-maps"],
        ["prove", "--theorem", "parameter-count"],
        ["derive", "--in", "4", "--out", "2"],
        ["count", "bottleneck"],
    ],
    ids=lambda v: v[0],
)
def test_json_works_before_and_after_the_subcommand(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    before = _reads_json(["--json", *argv], capsys)
    after = _reads_json([*argv, "--json"], capsys)

    def timeless(value: Any) -> Any:  # seconds differ from run to run; nothing else may
        if isinstance(value, dict):
            return {k: timeless(v) for k, v in value.items() if k != "seconds"}
        if isinstance(value, list):
            return [timeless(v) for v in value]
        return value

    assert timeless(before) == timeless(after)


@pytest.mark.parametrize("json_first", [True, False], ids=["json-first", "json-last"])
@pytest.mark.parametrize(
    ("argv", "option"),
    [(["derive", "--full"], "--full"), (["derive", "--latex"], "--latex"), (["prove", "--proofs"], "--proofs")],
)
def test_an_option_of_the_text_report_next_to_json_is_bad_usage(
    argv: list[str], option: str, json_first: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    full = ["--json", *argv] if json_first else [*argv, "--json"]
    _assert_bad_usage(full, (option, "text report only", "--json"), capsys)


def test_what_the_text_options_add_is_in_the_json_already(capsys: pytest.CaptureFixture[str]) -> None:
    layer = ["--in", "4", "--out", "2", "--kernel", "3", "--padding", "1", "--input", "3x3"]
    status, out, _ = _run(["derive", *layer, "--json"], capsys)
    data = json.loads(out)
    assert status == 0

    def products(text: str) -> set[tuple[str, str]]:  # (weight index, input index) of every w*x shown
        return set(re.findall(r"w_\{([\d,]+)\}\W*x_\{([\d,]+)\}", text))

    for flags, key in ((["--full"], "expression"), (["--full", "--latex"], "latex")):
        status, text, _ = _run(["derive", *layer, *flags], capsys)
        shown = products(text)
        assert status == 0 and len(shown) == 4 * 3 * 3  # every product of the centre pixel: 4 maps x 3 x 3 taps
        assert shown == products(data[key])
    status, out, _ = _run(["prove", "--theorem", "parameter-count", "--json"], capsys)
    proof = json.loads(out)["theorems"][0]["proof"]
    status, text, _ = _run(["prove", "--theorem", "parameter-count", "--proofs"], capsys)
    flat = " ".join(text.split())  # the text report wraps long lines
    assert proof and all(" ".join(line.split()) in flat for line in proof)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_main_job_options_next_to_a_subcommand_are_bad_usage(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_bad_usage(["--skip-run", name], ("--skip-run", "main job only", f"verifier {name}"), capsys)


@pytest.mark.parametrize(
    ("exc", "status", "line"),
    [
        (RuntimeError("boom"), 3, "verifier: internal error: RuntimeError: boom (run with --debug or VERIFIER_DEBUG=1"),
        (ZeroDivisionError("division by zero"), 3, "verifier: internal error: ZeroDivisionError: division by zero"),
        (KeyboardInterrupt(), 130, "verifier: interrupted"),
        (VerifierError("x must be 1, got 2"), 2, "verifier claims: error: x must be 1, got 2"),
    ],
    ids=["internal", "internal-2", "interrupt", "usage"],
)
def test_every_outcome_has_its_status_and_one_line(
    exc: BaseException, status: int, line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _failing_command(monkeypatch, exc)
    monkeypatch.delenv("VERIFIER_DEBUG", raising=False)
    got, out, err = _run(["claims"], capsys)
    assert (got, out) == (status, "")
    assert len(err.splitlines()) == 1 and err.startswith(line), err


@pytest.mark.parametrize(("argv", "env"), [(["--debug", "claims"], ""), (["claims", "--debug"], ""), (["claims"], "1")])
def test_the_traceback_is_shown_only_when_asked_for(
    argv: list[str], env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _failing_command(monkeypatch, RuntimeError("boom"))
    monkeypatch.setenv("VERIFIER_DEBUG", env)
    status, _, err = _run(argv, capsys)
    assert status == 3
    assert err.startswith("Traceback (most recent call last):") and "RuntimeError: boom" in err


def test_a_failed_write_to_stdout_is_one_line_and_status_74(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from verifier.cli import EXIT_STATUSES

    monkeypatch.setattr(sys, "stdout", _FullDisk())
    errors = io.StringIO()
    monkeypatch.setattr(sys, "stderr", errors)
    assert main(["claims", "--id", "n2-maps"]) == 74
    assert errors.getvalue().splitlines() == [
        "verifier: error: could not write the report to stdout: [Errno 28] No space left on device"
    ]
    assert 74 in EXIT_STATUSES and EXIT_STATUSES[74] != EXIT_STATUSES[1]


def test_a_closed_stderr_does_not_stop_the_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from verifier.progress import Progress

    monkeypatch.setattr(sys, "stderr", None)  # what `2>&-` leaves
    progress = Progress()
    progress.step("working")
    progress.done()
    assert main(["claims", "--id", "n2-maps"]) == 0
    assert "n2-maps" in capsys.readouterr().out
    _failing_command(monkeypatch, RuntimeError("boom"))
    assert main(["claims"]) == 3  # the one line has nowhere to go, and nothing crashes


def test_progress_stops_reporting_when_its_stream_fails() -> None:
    from verifier.progress import Progress

    progress = Progress(enabled=True, stream=_FullDisk())
    progress.step("working")  # no exception: the work matters more than its progress line
    assert progress.enabled is False


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_real_processes_with_a_full_disk_and_a_closed_stderr() -> None:
    command = [sys.executable, "-m", "verifier", "claims", "--id", "n2-maps"]
    with open("/dev/full", "w") as full:
        result = subprocess.run(command, cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 74
    assert result.stderr.splitlines() == [
        "verifier: error: could not write the report to stdout: [Errno 28] No space left on device"
    ]
    closed = subprocess.run(
        [*command, "--json"], cwd=ROOT, stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2), timeout=120
    )
    assert closed.returncode == 0 and json.loads(closed.stdout)["claims"][0]["id"] == "n2-maps"


@pytest.mark.parametrize("argv", [["--version"], ["count", "--help"]])
def test_help_and_version_on_a_full_disk_are_one_line_and_status_74(argv: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "verifier", *argv], cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True
        )
    prog = "verifier" if argv == ["--version"] else "verifier count"
    assert (result.returncode, result.stderr.splitlines()) == (
        74,
        [f"{prog}: error: could not write to stdout: [Errno 28] No space left on device"],
    )


def test_an_interrupt_while_the_package_loads_is_one_line_and_status_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.abc

    import verifier_cli
    from verifier.cli import EXIT_STATUSES

    class Interrupted(importlib.abc.MetaPathFinder):  # Ctrl-C arriving while verifier.cli is imported
        def find_spec(self, name: str, *args: object) -> None:
            if name == "verifier.cli":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "verifier.cli")
    monkeypatch.setattr(sys, "meta_path", [Interrupted(), *sys.meta_path])
    assert verifier_cli.main() == verifier_cli.INTERRUPTED == 130
    assert EXIT_STATUSES[130].startswith("interrupted")
    assert capsys.readouterr() == ("", "verifier: interrupted\n")


def test_the_exit_statuses_are_listed_alike_in_help_and_readme(capsys: pytest.CaptureFixture[str]) -> None:
    from verifier.cli import EXIT_STATUSES

    status, out, _ = _run(["--help"], capsys)
    assert status == 0
    listed = dict(re.findall(r"^  (\d+)\s+(.+)$", out.split("exit statuses:")[1], re.M))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- exit-statuses -->")[1].split("<!-- /exit-statuses -->")[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M))
    assert {int(k): v for k, v in listed.items()} == EXIT_STATUSES == {int(k): v for k, v in rows.items()}
    assert {0, 1, 2, 3, 130} <= set(EXIT_STATUSES)


def test_the_licence_is_the_one_the_metadata_names_and_is_packaged() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 The verifier authors" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
