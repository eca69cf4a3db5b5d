"""pytest's entry point for the proof check: ``pytest --verifier`` (registered as the ``pytest11`` plugin ``verifier``).

pytest loads this module in every run of every project whose environment has the package installed, so it
only declares the options. It imports nothing of the package: importing ``verifier`` pulls in SymPy and
NumPy. Only when ``--verifier`` is given does it load :mod:`verifier.pytest_plugin`, which collects the
items. ``pytest -p no:verifier`` turns the plugin off altogether.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--verifier`` and ``--verifier-layer C_in,C_out,k[,groups]``."""
    group = parser.getgroup("verifier", "verifier's proof check")
    group.addoption(
        "--verifier",
        action="store_true",
        default=False,
        help="collect verifier's proof check: one item per theorem, per claim of the thread and per "
        "cross-check, each named by its id (select with -k), beside whatever else is collected",
    )
    group.addoption(
        "--verifier-layer",
        metavar="C_in,C_out,k[,groups]",
        default=None,
        help="with --verifier: check the theorems whose statement depends on the layer at Conv2d(C_in, C_out, "
        "k, groups=groups), torch.nn.Conv2d's defaults otherwise; theorems that do not apply there are "
        "skipped with the reason. The claims are always judged at the thread's sizes.",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the collecting plugin when ``--verifier`` is given; refuse ``--verifier-layer`` alone."""
    if not config.getoption("verifier"):
        layer = config.getoption("verifier_layer")
        if layer is not None:
            raise pytest.UsageError(f"--verifier-layer {layer} needs --verifier")
        return
    from verifier.pytest_plugin import ProofCheck

    config.pluginmanager.register(ProofCheck.from_config(config), ProofCheck.NAME)
