"""Run the command line inside the build and capture what it prints, so its page cannot drift from it."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Run:
    """One invocation: the arguments, the exit status and what went to stdout and stderr."""

    argv: tuple[str, ...]
    status: int
    stdout: str
    stderr: str

    @property
    def command(self) -> str:
        return " ".join(("verifier", *self.argv))

    def json(self) -> Any:
        return json.loads(self.stdout)


@functools.cache
def run(*argv: str) -> Run:
    """``verifier ARGV...`` in this process, once per build: theorem checks are cached inside the package,
    and the same invocation on two pages (``verifier run --json`` on the full-size and command-line pages)
    is run once, so both pages show the same output."""
    from verifier import cli

    out, err = io.StringIO(), io.StringIO()
    env = {"COLUMNS": "88"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(argv))
            except SystemExit as exc:  # --help and usage errors leave through argparse
                status = int(exc.code or 0)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Run(tuple(argv), status, out.getvalue(), err.getvalue())


def shorten(value: Any, keep: int = 2, chars: int = 160) -> tuple[Any, bool]:
    """``value`` with every list of records (objects or lists) cut to its first ``keep`` items and every string
    to ``chars`` characters; lists of plain numbers (shapes) stay whole. The flag says whether anything was cut.
    """
    cut = False

    def walk(v: Any) -> Any:
        nonlocal cut
        if isinstance(v, list):
            records = any(isinstance(x, (list, dict)) for x in v)
            if records and len(v) > keep:
                cut = True
                v = v[:keep]
            return [walk(x) for x in v]
        if isinstance(v, str) and len(v) > chars:
            cut = True
            return v[: chars - 1] + "…"
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(value), cut


def pretty(value: Any, indent: str = "") -> str:
    """JSON with two-space indents, but lists of plain values on one line (``[1, 256, 56, 56]``)."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {pretty(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(x, (list, dict)) for x in value):
        return "[\n" + ",\n".join(inner + pretty(x, inner) for x in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def fenced(text: str, lang: str = "text") -> str:
    """A fenced code block that survives any backticks inside ``text``."""
    fence = "````" if "```" in text else "```"
    return f"\n{fence}{lang}\n{text.rstrip()}\n{fence}\n"


def example(*argv: str, as_json: bool = False) -> str:
    """Run ``verifier ARGV`` and show the command with what it printed (JSON pretty-printed, long parts cut)."""
    r = run(*argv)
    if r.status != 0:
        raise RuntimeError(f"{r.command} exited with {r.status}: {r.stderr or r.stdout[:500]}")
    if as_json:
        data, cut = shorten(r.json())
        body = pretty(data)
        assert json.loads(body) == data
        note = (
            "\n\n*Lists of records are cut to their first two items and long strings shortened here; "
            "the command prints them whole.*\n"
            if cut
            else "\n"
        )
        return f"\n`$ {r.command}`\n" + fenced(body, "json") + note
    return fenced(f"$ {r.command}\n{r.stdout}", "console")


def collapsed(title: str, markdown: str, *, open_: bool = False) -> str:
    """``markdown`` inside a collapsible block titled ``title`` (closed unless ``open_``), so long outputs keep
    the reference page short."""
    body = "\n".join(("    " + line) if line.strip() else "" for line in markdown.strip("\n").splitlines())
    marker = "???+" if open_ else "???"
    return f'\n{marker} example "{title}"\n\n{body}\n'
