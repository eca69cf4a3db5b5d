"""Make the page helpers importable from markdown-exec blocks and every figure reproducible.

Pages run Python at build time (```python exec="on"``` blocks); they import ``sitekit`` from this folder.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve().parent)


def on_startup(**_: Any) -> None:
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from sitekit import figures

    figures.configure()


def on_config(config: Any, **_: Any) -> Any:
    on_startup()
    return config
