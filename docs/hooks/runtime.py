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


# The home page says how long the Learn pages take to read: their words, counted once they are rendered.
WORDS_PER_MINUTE = 150
_learn_words: dict[str, int] = {}


def _learn_pages(config: Any) -> list[str]:
    for section in config["nav"] or []:
        if isinstance(section, dict) and "Learn" in section:
            return [next(iter(item.values())) for item in section["Learn"]]
    return []


def _words(html: str) -> int:
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<span class="katex-mathml">.*?</span>', " ", html, flags=re.S)
    return len(re.findall(r"[A-Za-z0-9][\w'’-]*", re.sub(r"<[^>]+>", " ", html)))


def on_post_page(output: str, page: Any, config: Any, **_: Any) -> str:
    if page.file.src_uri in _learn_pages(config):
        article = output[output.find("<article") : output.rfind("</article>")]
        _learn_words[page.file.src_uri] = _words(article)
    return output


def on_post_build(config: Any, **_: Any) -> None:
    pages = _learn_pages(config)
    missing = [md for md in pages if md not in _learn_words]
    if missing:
        raise PluginError(f"the Learn pages {missing} were not rendered: cannot count their words")
    minutes = max(1, round(sum(_learn_words[md] for md in pages) / WORDS_PER_MINUTE / 5) * 5)
    home = Path(config["site_dir"]) / "index.html"
    text = home.read_text(encoding="utf-8")
    if "<!--vf-learn-minutes-->" not in text:
        raise PluginError("the home page lost its <!--vf-learn-minutes--> placeholder")
    home.write_text(text.replace("<!--vf-learn-minutes-->", str(minutes)), encoding="utf-8")


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
