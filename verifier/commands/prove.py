"""`verifier prove`: not built yet; the module that builds it replaces this placeholder."""

from __future__ import annotations

import argparse

from ..errors import VerifierError
from ..progress import Progress
from ..report import Report

HELP = "(not built yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This subcommand takes no options yet."""


def execute(args: argparse.Namespace, progress: Progress) -> Report:
    raise VerifierError("this subcommand is not built yet")
