"""Make the page helpers importable from markdown-exec blocks and every figure reproducible.

Pages run Python at build time (```python exec="on"``` blocks); they import ``sitekit`` from this folder.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import sys
import time
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

# One BLAS thread: the pages make many small NumPy calls, and on a busy machine a second thread per call
# costs far more in contention than it saves (a 256 x 3136 SVD: 0.1 s alone, several seconds contended).
# Set before NumPy is first imported; an explicit setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

HERE = str(Path(__file__).resolve().parent)
log = logging.getLogger("mkdocs.hooks.runtime")


def on_startup(**_: Any) -> None:
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from sitekit import figures

    figures.configure()


def on_config(config: Any, **_: Any) -> Any:
    on_startup()
    return config


# With VERIFIER_DOCS_TIMING=1 the build logs how long each page took to generate (its exec blocks run while
# its Markdown is converted, between these two events).
_started: dict[str, float] = {}


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    _started[page.file.src_uri] = time.perf_counter()
    return markdown


_MD_LINK = re.compile(r'href="([^":#?]+\.md)(#[^"]*)?"')


def on_page_content(html: str, page: Any, files: Any, **_: Any) -> str:
    html = _resolve_md_links(html, page, files)
    if os.environ.get("VERIFIER_DOCS_TIMING"):
        seconds = time.perf_counter() - _started.get(page.file.src_uri, time.perf_counter())
        log.info("page %s generated in %.1f s", page.file.src_uri, seconds)
    return html


def _resolve_md_links(html: str, page: Any, files: Any) -> str:
    """Turn links to other pages' Markdown files into their URLs.

    mkdocs does this for links written in a page, but not for links in what a markdown-exec block prints
    (``[theorem 6](theorems.md#expansion-rank)``), which would otherwise reach the reader as broken links.
    A link to a file that does not exist is an error.
    """

    def replace(match: re.Match[str]) -> str:
        target, fragment = match.group(1), match.group(2) or ""
        src = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), target))
        file = files.get_file_from_path(src)
        if file is None:
            raise PluginError(f"{page.file.src_uri} links to {target}, which is not a page of the site")
        return f'href="{file.url_relative_to(page.file)}{fragment}"'

    return _MD_LINK.sub(replace, html)
