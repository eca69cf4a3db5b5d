"""The documentation site: it builds strictly, serves everything itself, and every page renders in Chromium.

The browser tests drive Debian's ``chromium`` through Python playwright (never ``playwright install``). They
visit each page of a freshly built site served on 127.0.0.1 and fail on any formula KaTeX did not render, any
figure that did not load, any console error and any request to another host. With ``VERIFIER_SCREENSHOTS=DIR``
they also save a full-page PNG of every page into DIR.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import _site_build
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = Path(os.environ.get("VERIFIER_CHROMIUM", "/usr/bin/chromium"))
# No host but 127.0.0.1 resolves: a request elsewhere fails at once, and the visit reports it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# A desktop window and a phone. At the desktop width no display formula may be wider than its box; at the phone
# width a formula may scroll inside its own box, but no page may scroll sideways.
WIDTHS = {"desktop": 1280, "phone": 390}
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.glob("*.md"))


def page_path(md: str) -> str:
    """Where mkdocs puts a page (directory URLs): index.md -> '', counting.md -> 'counting/'."""
    return "" if md == "index.md" else md.removesuffix(".md") + "/"


@pytest.fixture(scope="session")
def site() -> Path:
    """The site built with ``mkdocs build --strict`` (any warning fails the build), once per test run."""
    return _site_build.wait()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    """The built site served over HTTP on 127.0.0.1 (a free port), as its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from the Debian package, launched through playwright."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's chromium package "
            "(apt-get install chromium) or VERIFIER_CHROMIUM=/path/to/chromium; they never skip.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


# Everything a page must satisfy once loaded, measured by the page itself.
_INSPECT = r"""
() => {
  const inside = (node, selector) => node.parentElement && node.parentElement.closest(selector);
  const math = Array.from(document.querySelectorAll('.arithmatex'));
  const unrendered = math.filter(el => !el.querySelector('.katex, .katex-error'))
    .map(el => el.textContent.slice(0, 80));
  const errors = Array.from(document.querySelectorAll('.katex-error'))
    .map(el => el.getAttribute('title') || el.textContent)
    .concat(Array.from(document.querySelectorAll('.katex-html [style*="color"]'))
      .filter(el => el.style.color === 'rgb(204, 0, 1)')  // katex-render.js's errorColor, #cc0001
      .filter(el => !(el.parentElement && el.parentElement.closest('[style*="rgb(204, 0, 1)"]')))
      .map(el => 'unknown command ' + el.textContent));
  const zeroWidth = Array.from(document.querySelectorAll('.katex'))
    .filter(el => el.getBoundingClientRect().width === 0).map(el => el.textContent.slice(0, 80));
  const rawTex = [];
  const pattern = new RegExp([
    String.raw`\\\(|\\\)|\\\[|\\\]`,                                          // \( \) \[ \] left as text
    String.raw`\$\$|\$[^\s$][^$]*\$`,                                         // $$ or $...$ left as text
    String.raw`\\(?:frac|sum|mathbf|cdot|begin|end|left|right|text|qquad)\b`,  // TeX commands
  ].join('|'));
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (inside(node, 'pre, code, script, style, .katex, .md-clipboard')) continue;
    if (pattern.test(node.textContent)) rawTex.push(node.textContent.trim().slice(0, 80));
  }
  const images = Array.from(document.images);
  const brokenImages = images.filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src);
  const figures = Array.from(document.querySelectorAll('article figure svg, article figure img'));
  const emptyFigures = figures.filter(el => {
    const r = el.getBoundingClientRect();
    return r.width === 0 || r.height === 0 || (el.tagName === 'svg' && el.querySelectorAll('path, use').length === 0);
  }).length;
  // layout: the page may not scroll sideways; a display formula wider than its box is reported with the width
  const root = document.documentElement;
  const sideways = root.scrollWidth - root.clientWidth;
  const wideFormulas = Array.from(document.querySelectorAll('div.arithmatex'))
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => `${el.scrollWidth}px in ${el.clientWidth}px: ${el.textContent.trim().slice(0, 60)}`);
  return {sideways, wideFormulas,
          formulas: math.length, unrendered, errors, zeroWidth, rawTex,
          images: images.length, brokenImages, figures: figures.length, emptyFigures};
}
"""


@pytest.fixture(scope="session")
def tabs(browser: Any) -> Iterator[Any]:
    """One browsing context for every page visit: after the first page its cache holds the theme's scripts,
    styles and fonts, as a reader's browser does (a fresh context per page took twice as long)."""
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, color_scheme="light")
    try:
        yield context
    finally:
        context.close()


def visit(
    tabs: Any, url: str, widths: Sequence[int] = (1280,), shots: Path | None = None, typeset_ms: int = 10_000
) -> dict[int, dict[str, Any]]:
    """Load ``url`` in a new tab at the first width, then look at it at each width in turn (the window resized).

    For each width: what :data:`_INSPECT` found, plus the page's console errors, the requests to hosts other
    than 127.0.0.1 (the browser resolves no other host) and the requests that failed. With ``shots``, a
    full-page PNG per width is saved as ``shots-<width>.png``.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    console: list[str] = []
    offsite: list[str] = []
    failed: list[str] = []
    seen: dict[int, dict[str, Any]] = {}
    page = tabs.new_page()
    try:
        page.set_viewport_size({"width": widths[0], "height": 900})
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
        page.on("request", lambda r: offsite.append(r.url) if not _local(r.url) else None)
        page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
        page.goto(url, wait_until="load")
        # KaTeX typesets after load; what it leaves unrendered is reported below, not here
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.arithmatex'))"
                ".every(el => el.querySelector('.katex, .katex-error'))",
                timeout=typeset_ms,
            )
        page.evaluate("() => document.fonts.ready.then(() => true)")
        for width in widths:
            page.set_viewport_size({"width": width, "height": 900})
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            seen[width] = page.evaluate(_INSPECT)
            if shots is not None:
                shots.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}-{width}.png", full_page=True)
    finally:
        page.close()
    for found in seen.values():
        found.update(console=console, offsite=offsite, failed=[f for f in failed if f.split(" ")[0] not in offsite])
    return seen


def _local(url: str) -> bool:
    return url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1"


def problems(found: dict[str, Any]) -> dict[str, Any]:
    """The non-empty complaints in a :func:`visit` result."""
    keys = ("unrendered", "errors", "zeroWidth", "rawTex", "brokenImages", "console", "offsite", "failed")
    out = {k: found[k] for k in keys if found[k]}
    if found["emptyFigures"]:
        out["emptyFigures"] = found["emptyFigures"]
    return out


# -- the build ---------------------------------------------------------------------------------------------


def test_every_page_is_built_and_listed_in_the_navigation(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    for md in PAGES:
        assert (site / page_path(md) / "index.html").is_file(), f"{md} was not built"
        if md != "index.md":
            assert f'href="{page_path(md)}"' in home, f"{md} is not in the navigation"


def test_katex_is_served_from_the_site_and_not_kept_in_the_repository(site: Path) -> None:
    katex = site / "assets" / "katex"
    css = (katex / "katex.min.css").read_text(encoding="utf-8")
    woff2 = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css))
    assert woff2, "katex.min.css names no WOFF2 font"
    missing = sorted(f for f in woff2 if not (katex / f).is_file())
    assert not missing, f"fonts the stylesheet asks for are not in the site: {missing}"
    assert (katex / "katex.min.js").is_file() and (katex / "contrib" / "auto-render.min.js").is_file()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not [f for f in tracked.splitlines() if "katex" in f.lower() and not f.startswith("docs/")], (
        "KaTeX's files belong in node_modules (npm ci), not in the repository"
    )


def test_no_page_asks_another_host_for_anything(site: Path) -> None:
    loads = re.compile(
        r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=\"(https?:)?//|"
        r"<link\b[^>]*\bhref=\"(https?:)?//|url\((['\"]?)(https?:)?//",
        re.I,
    )
    offenders = []
    for path in sorted(site.rglob("*")):
        if "_probe" in path.parts:  # the deliberately broken page of the browser checks' own test
            continue
        if path.suffix in (".html", ".css") and loads.search(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(path.relative_to(site).as_posix())
    assert not offenders, f"pages that would load from another host: {offenders}"


def test_every_link_within_the_site_reaches_a_page_and_its_anchor(site: Path) -> None:
    """Links written by the pages' code (theorem anchors from the claims page, for instance) included."""
    href = re.compile(r'<a\b[^>]*\bhref="([^"]*)"')
    ids: dict[Path, set[str]] = {}

    def anchors(page: Path) -> set[str]:
        if page not in ids:
            ids[page] = set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))
        return ids[page]

    broken = []
    checked = 0
    for page in sorted(site.rglob("*.html")):
        if "_probe" in page.parts:
            continue
        for link in href.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", link) or link.startswith("//"):
                continue  # another site: a link, not a request
            path, _, fragment = link.partition("#")
            base = site if path.startswith("/") else page.parent  # the 404 page links from the site's root
            target = (base / path.lstrip("/")).resolve() if path else page
            if target.is_dir() or path.endswith("/"):
                target = target / "index.html"
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {link} (no such page)")
            elif fragment and fragment not in anchors(target):
                broken.append(f"{page.relative_to(site)} -> {link} (no such anchor)")
    assert checked > 100, f"only {checked} internal links found: the link scan is not seeing the pages"
    assert not broken, "\n".join(broken)


def test_figures_are_reproducible_byte_for_byte() -> None:
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        from sitekit import diagrams, figures, matrices, spectra

        from verifier.spec import Bottleneck, Conv2d

        figures.configure()
        makers = {
            "bottleneck": lambda: diagrams.bottleneck(Bottleneck(), 56, 56),
            "weight rows": lambda: matrices.one_row_one_map(Conv2d(16, 4, 1, bias=False), row=1, size=4)[0],
            "spectra": lambda: spectra.spectra_figure(spectra.expansion_spectra(size=17)),
        }
        for name, make in makers.items():
            first, second = figures.svg(make(), "caption"), figures.svg(make(), "caption")
            assert first == second, f"the {name} figure differs between two runs"
            assert "<dc:date>" not in first and "<metadata>" not in first, name
            assert "<text" not in first, f"the {name} figure has text that needs a font: glyphs must be paths"
    finally:
        sys.path.remove(str(DOCS / "hooks"))


# -- statements the computation decides ---------------------------------------------------------------------


def page_text(site: Path, md: str) -> str:
    """What a reader reads on a built page: the article's text without scripts, styles, SVG and markup."""
    html = (site / page_path(md) / "index.html").read_text(encoding="utf-8")
    article = html[html.find("<article") : html.rfind("</article>")]
    article = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", article, flags=re.S)
    article = re.sub(r'<span class="katex-mathml">.*?</span>', " ", article, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", article)
    import html as html_module

    return re.sub(r"\s+", " ", html_module.unescape(text)).strip()


def table_rows(site: Path, md: str) -> list[list[str]]:
    """The cells of every table row on a built page, as text."""
    html = (site / page_path(md) / "index.html").read_text(encoding="utf-8")
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


def _sketch(site: Path) -> dict[str, str]:
    pages = ("index.md", "full-size.md", "counting.md", "resnets.md", "derivation.md")
    return {md: page_text(site, md) for md in pages}


def test_a_relu_after_the_expansion_is_said_to_raise_the_rank_not_the_information(site: Path) -> None:
    from verifier.spec import Bottleneck

    block = Bottleneck()
    middle, wide = block.width, block.out_channels
    pages = _sketch(site)
    for md, text in pages.items():
        for wrong in ("until the nonlinearity", "breaks it", "nonlinearity restores"):
            assert wrong not in text, f"{md} says {wrong!r}: a ReLU raises the rank, not the information"
    full = pages["full-size.md"]
    assert f"after a ReLU have rank {wide}" in full, full
    assert f"still a function of the same {middle} numbers per pixel" in full, full
    assert f"{middle} directions carry everything; the other {wide - middle} are zero" in full, full
    assert f"still a function of those {middle} numbers" in pages["index.md"]


def test_the_basic_block_sentence_gives_the_basic_blocks_own_projection_ratio(site: Path) -> None:
    from fractions import Fraction

    from verifier.spec import BasicBlock

    block = BasicBlock()
    c = block.out_channels
    ratio = Fraction(block.conv_weight_count + c * c, block.conv_weight_count)  # plus a 1x1 c -> c projection
    text = page_text(site, "resnets.md")
    sentence = text[text.index("For contrast, basic blocks.") :].split("nowhere near double")[0]
    assert f"by {ratio}" in sentence and "bottleneck" not in sentence, sentence


def test_parameter_counts_say_whether_batchnorm_is_in_them(site: Path) -> None:
    from verifier.spec import BasicBlock, Bottleneck

    block, wide = Bottleneck(), BasicBlock(256, 256)
    assert block.param_count != block.conv_weight_count
    counting = page_text(site, "counting.md")
    assert "parameters (conv weights + BatchNorm)" in counting
    assert "parameters (conv weights, BatchNorm scale and shift)" in counting
    macs, base = wide.macs((1, 256, 56, 56)), block.macs((1, 256, 56, 56))
    assert f"{macs / base:.1f} times fewer multiply-adds" in counting
    assert f"{wide.conv_weight_count / block.conv_weight_count:.1f} times fewer conv weights" in counting
    assert f"{wide.param_count / block.param_count:.1f} times fewer parameters once BatchNorm" in counting
    for md, text in _sketch(site).items():
        for match in re.finditer(re.escape(f"{block.param_count:,}"), text):
            near = text[max(0, match.start() - 300) : match.end() + 300]
            assert "BatchNorm" in near, f"{md}: {block.param_count:,} without saying BatchNorm is counted: {near}"


def test_the_resnet_table_compares_published_multiply_adds_with_multiply_adds(site: Path) -> None:
    rows = table_rows(site, "resnets.md")
    header = next(r for r in rows if "GFLOPs (2 × MACs)" in r)
    names = ("GMACs (10⁹ MACs)", "GFLOPs (2 × MACs)", "published, in GMACs")
    gmacs, gflops, published = (header.index(h) for h in names)
    macs = header.index("MACs")
    checked = 0
    for row in rows:
        if len(row) != len(header) or not row[published].startswith("torchvision: "):
            continue
        n = int(row[macs].replace(",", ""))
        assert row[gmacs] == f"{n / 1e9:.3f}" and row[gflops] == f"{2 * n / 1e9:.3f}", row
        printed = row[published].split()[1]
        digits = len(printed.partition(".")[2])
        assert f"{n / 1e9:.{digits}f}" == printed, f"torchvision's figure is multiply-adds: {row}"
        checked += 1
    assert checked >= 5, rows


def test_the_derivation_figure_is_drawn_at_the_size_of_the_home_diagram(site: Path) -> None:
    from verifier.models import resnet

    rows = {row.name: row for row in resnet("resnet50").rows()}
    side = rows["layer1.0.conv1"].output_shape[-1]
    pages = _sketch(site)
    assert f"The bottleneck at its first stage ({side}×{side} maps)" in pages["index.md"]
    assert f"{side}×{side} pixels as at the block's first stage" in pages["derivation.md"]
    assert "14×14" not in pages["derivation.md"]


def test_the_home_diagram_shows_every_batchnorm_of_the_block() -> None:
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        from sitekit import diagrams

        from verifier.spec import BatchNorm2d, Bottleneck

        block = Bottleneck()
        labels = diagrams.conv_labels(block, 56, 56)
        norms = [row.name for row in block.rows((1, 256, 56, 56)) if isinstance(row.layer, BatchNorm2d)]
        assert sum(label.count("BN") for label in labels.values()) == len(norms) == 3, labels
        assert labels["conv3"].endswith("BN") and "ReLU" not in labels["conv3"], labels
    finally:
        sys.path.remove(str(DOCS / "hooks"))


# -- the browser ---------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("md", PAGES)
def test_page_renders_every_formula_and_figure_and_fits_a_desktop_and_a_phone(tabs: Any, server: str, md: str) -> None:
    shots = os.environ.get("VERIFIER_SCREENSHOTS")
    seen = visit(
        tabs, server + page_path(md), list(WIDTHS.values()), Path(shots) / md.removesuffix(".md") if shots else None
    )
    for width, found in seen.items():
        assert not problems(found), f"{md} at {width} px: {problems(found)}"
        assert found["sideways"] <= 0, f"{md} scrolls sideways by {found['sideways']} px at {width} px"
    desktop = seen[WIDTHS["desktop"]]
    assert not desktop["wideFormulas"], f"{md}: formulas wider than their box on a desktop: {desktop['wideFormulas']}"


@pytest.mark.browser
def test_the_site_has_formulas_and_figures_for_the_browser_checks_to_judge(tabs: Any, server: str) -> None:
    found = visit(tabs, server)[1280]
    assert found["formulas"] >= 2 and found["figures"] >= 1, found


@pytest.mark.browser
def test_the_browser_checks_catch_a_broken_page(tabs: Any, server: str, site: Path) -> None:
    probe = site / "_probe" / "index.html"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(
        """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="../assets/katex/katex.min.css"></head><body><article>
<p><span class="arithmatex">\\(\\frac{1}{\\)</span> and raw $$x^2$$ left as text</p>
<p><span class="arithmatex">\\(\\nosuchcommand{x}\\)</span> <span class="arithmatex">\\(\\frac{1}\\)</span></p>
<p><span class="arithmatex">\\(x\\)</span></p>
<figure><img src="../no-such-figure.png"></figure>
<img src="https://example.invalid/pixel.png">
<script src="../assets/katex/katex.min.js"></script>
<script src="../assets/katex/contrib/auto-render.min.js"></script>
<script src="../javascripts/katex-render.js"></script>
<script>console.error("probe error")</script>
</article></body></html>""",
        encoding="utf-8",
    )
    found = problems(visit(tabs, server + "_probe/", typeset_ms=2_000)[1280])  # one formula never renders
    assert found.get("unrendered") == ["\\(\\frac{1}{\\)"], found  # an open brace hides the closing delimiter
    assert len(found.get("errors", [])) == 2, found
    assert "parse error" in found["errors"][0] and "nosuchcommand" in found["errors"][1], found
    assert found.get("rawTex"), found
    assert found.get("brokenImages"), found
    assert found.get("console") and any("probe error" in c for c in found["console"]), found
    assert found.get("offsite") == ["https://example.invalid/pixel.png"], found


# -- the learning pages ----------------------------------------------------------------------------------------


def _sitekit() -> Any:
    if str(DOCS / "hooks") not in sys.path:
        sys.path.insert(0, str(DOCS / "hooks"))
    import sitekit

    return sitekit


# The asker's questions as the issue lists them, in the thread's order.
ASKED = [
    "Shouldn't it be $n_1$$n_2$",
    "how does one generate 256 feature maps from 64",
    "What is $w^n_i$ ?. Is it just $w_i$",
    "64 $x_i$s are randomly selected from 256 input maps",
    "How can we have 256 weights when there are only 64 filters?",
    "by weights you mean the single parameter in a 1x1 filter",
]


def test_the_home_page_quotes_and_answers_every_question_of_the_asker_in_order(site: Path) -> None:
    _sitekit()
    from sitekit import questions

    thread = (ROOT / "verifier" / "data" / "thread.md").read_text(encoding="utf-8")
    asked = questions.questions()
    assert len(asked) == len(ASKED)
    positions = []
    for q, fragment in zip(asked, ASKED, strict=True):
        assert fragment in q.quote, (fragment, q.quote)
        assert q.quote in thread, f"not verbatim: {q.quote!r}"
        positions.append(thread.index(q.quote))
    assert positions == sorted(positions), "the questions are not in the thread's order"
    html = (site / "index.html").read_text(encoding="utf-8")
    starts = [html.index(f'id="{q.id}"') for q in asked]
    assert starts == sorted(starts)
    for k, q in enumerate(asked):
        end = starts[k + 1] if k + 1 < len(starts) else html.index('id="the-answer-in-three-facts"')
        section = html[starts[k] : end]
        assert "<blockquote>" in section and "The picture behind it:" in section, q.id
        assert f'href="claims/#{q.claim}"' in section and f'href="theorems/#{q.theorem}"' in section, q.id
        assert re.search(r"<strong>[^<]*\d", section), f"{q.id}: no computed number in bold in its answer"


def _products(line: str) -> tuple[list[tuple[int, int]], int]:
    """'2 × 1 + (−1) × 4 + 1 × 1 = −1' as its (weight, input) pairs and its stated result."""
    lhs, rhs = line.replace("\u2212", "-").split("=")
    pairs = [tuple(int(v.strip(" ()")) for v in term.split("×")) for term in lhs.split(" + ")]
    return [(a, b) for a, b in pairs], int(rhs)


def test_every_output_pixel_of_the_worked_example_adds_up_and_matches_a_plain_loop(site: Path) -> None:
    _sitekit()
    from sitekit import worked

    ex = worked.three_to_two()
    x, w = ex.x.tolist(), ex.w.tolist()
    text = page_text(site, "derivation.md")
    lines = re.findall(r"output map (\d) at \((\d), (\d)\): ([^=]+= \S+)", text)
    c_out, c_in, height, width = len(w), len(x), len(x[0]), len(x[0][0])
    assert len(lines) == c_out * height * width, lines
    for o, h, wc, arithmetic in lines:
        o_, h_, w_ = int(o), int(h), int(wc)
        loop = 0
        for i in range(c_in):
            loop += w[o_][i] * x[i][h_][w_]
        pairs, stated = _products(arithmetic)
        assert pairs == [(w[o_][i], x[i][h_][w_]) for i in range(c_in)], arithmetic
        assert stated == loop == sum(a * b for a, b in pairs), arithmetic


def test_the_worked_example_refuses_an_engine_that_disagrees_with_the_derivation(monkeypatch: Any) -> None:
    _sitekit()
    from sitekit import worked

    real = worked.conv2d

    def off_by_one(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        out[0, 0, 0, 0] += 1
        return out

    monkeypatch.setattr(worked, "conv2d", off_by_one)
    with pytest.raises(worked.Disagreement, match="output map 0 at \\(0, 0\\)"):
        worked.make([[[1, 2]], [[3, 4]]], [[1, -1]])


# -- the interactive 1x1 convolution ---------------------------------------------------------------------------

_READ_EXPLORER = r"""
() => {
  const root = document.querySelector('[data-explorer]');
  const cells = el => Array.from(el.querySelectorAll('.vf-cell')).map(c => c.textContent);
  const num = t => Number(t.replace('\u2212', '-'));
  const grids = sel => Array.from(root.querySelectorAll(sel)).map(m => cells(m).map(num));
  return {
    caseId: root.getAttribute('data-case'),
    view: root.getAttribute('data-view'),
    inputs: grids('.vf-ex-layer .vf-in'),
    outputs: grids('.vf-ex-outmap'),
    weights: Array.from(root.querySelectorAll('.vf-ex-weight')).map(w => ({
      o: Number(w.dataset.filter), i: Number(w.dataset.input), value: num(w.textContent),
      active: w.classList.contains('vf-active')})),
    reading: root.querySelectorAll('.vf-ex-layer .vf-in.vf-reading').length,
    markedInputs: Array.from(root.querySelectorAll('.vf-ex-layer .vf-in .vf-mark'))
      .map(c => [Number(c.dataset.h), Number(c.dataset.w)]),
    activeOutput: Array.from(root.querySelectorAll('.vf-ex-outmap.vf-active, .vf-ex-product-row.vf-active'))
      .map(m => Number(m.dataset.output)),
    productRows: Array.from(root.querySelectorAll('.vf-ex-product-row')).map(r =>
      Array.from(r.querySelectorAll('.vf-ex-product')).map(m => cells(m).map(num))),
    productOutputs: Array.from(root.querySelectorAll('.vf-ex-product-row .vf-out')).map(m => cells(m).map(num)),
    sum: (root.querySelector('.vf-ex-sum-text') || {}).textContent || null,
    aggregate: Array.from(root.querySelectorAll('.vf-ex-aggregate tr')).map(r => r.textContent),
    buttons: root.querySelectorAll('button').length,
    controls: Array.from(root.querySelectorAll(
      '[role=group] > :not(.vf-ex-group-label), .vf-ex-switch, .vf-ex-select, .vf-ex-outmap .vf-cell'))
      .map(e => e.tagName),
  };
}
"""


def _arith(text: str) -> tuple[list[tuple[int, int]], int]:
    return _products(text)


@pytest.mark.browser
def test_the_interactive_convolution_answers_clicks_and_keys_with_the_layers_numbers(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    console: list[str] = []
    offsite: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).hostname in ("127.0.0.1", None):
            r.continue_()
        else:
            offsite.append(r.request.url)
            r.abort()

    try:
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
        page.goto(server + "explorer/", wait_until="networkidle")
        read = lambda: page.evaluate(_READ_EXPLORER)  # noqa: E731
        first = read()
        assert first["caseId"] and first["view"] == "layer", first
        assert len(first["controls"]) > 10 and set(first["controls"]) == {"BUTTON"}, first["controls"]
        c_in, c_out = len(first["inputs"]), len(first["outputs"])
        assert (c_in, c_out) == (4, 2), first

        # every output map on the page is the weighted sum of every input map on the page
        def weight(state: dict[str, Any], o: int, i: int) -> int:
            return next(w["value"] for w in state["weights"] if w["o"] == o and w["i"] == i)

        def check_layer(state: dict[str, Any]) -> None:
            for o, out in enumerate(state["outputs"]):
                for p, value in enumerate(out):
                    assert value == sum(weight(state, o, i) * x[p] for i, x in enumerate(state["inputs"])), (o, p)

        check_layer(first)
        # output map 0 selected: its filter lit, every input map read, the sum at the pixel in numbers
        assert {w["o"] for w in first["weights"] if w["active"]} == {0}
        assert first["reading"] == c_in and first["markedInputs"] == [[0, 0]] * c_in

        page.get_by_role("button", name="output map 1", exact=True).click()
        second = read()
        assert second["activeOutput"] == [1]
        assert {w["o"] for w in second["weights"] if w["active"]} == {1}
        pairs, total = _arith(second["sum"])
        assert pairs == [(weight(second, 1, i), second["inputs"][i][0]) for i in range(c_in)], second["sum"]
        assert total == second["outputs"][1][0] and second["sum"] != first["sum"]

        # a pixel of output map 0, by mouse: the sum follows it
        page.locator('[data-key="px:0:1:2"]').click()
        third = read()
        assert third["activeOutput"] == [0] and third["markedInputs"] == [[1, 2]] * c_in
        pairs, total = _arith(third["sum"])
        width = 3
        assert pairs == [(weight(third, 0, i), third["inputs"][i][1 * width + 2]) for i in range(c_in)]
        assert total == third["outputs"][0][1 * width + 2]

        # the keyboard: arrows move the pixel, Enter presses a focused button
        page.keyboard.press("ArrowDown")
        assert read()["markedInputs"] == [[2, 2]] * c_in
        page.locator('[data-key="out:1"]').focus()
        page.keyboard.press("Enter")
        assert read()["activeOutput"] == [1]

        # the asker's picture: c_in * c_out product maps; each filter's row adds up to its output map
        page.get_by_role("button", name="Show the asker's picture").click()
        asker = read()
        assert asker["view"] == "asker" and len(asker["productRows"]) == c_out
        assert sum(len(row) for row in asker["productRows"]) == c_in * c_out
        for row, out in zip(asker["productRows"], asker["productOutputs"], strict=True):
            assert [sum(vals) for vals in zip(*row, strict=True)] == out
        assert "depthwise" in page.locator("[data-explorer] .vf-ex-note").inner_text()
        if os.environ.get("VERIFIER_SCREENSHOTS"):
            shot = Path(os.environ["VERIFIER_SCREENSHOTS"]) / "explorer-asker-1280.png"
            page.locator("[data-explorer]").screenshot(path=str(shot))
        page.get_by_role("button", name="Show the asker's picture").press("Space")
        assert read()["view"] == "layer"

        # the expansion, 2 -> 4
        page.get_by_role("button", name=re.compile(r"^2 maps → 4")).click()
        grow = read()
        assert (len(grow["inputs"]), len(grow["outputs"])) == (2, 4)
        check_layer(grow)

        # the thread's layer, in counts computed by the package
        from verifier.spec import Conv2d

        conv = Conv2d(256, 64, 1, bias=False)
        page.get_by_role("button", name=re.compile(r"^256 → 64")).click()
        rows = read()["aggregate"]
        assert any(f"{conv.weight_count:,}" in r for r in rows), rows
    finally:
        context.close()
    assert not console, console
    assert not offsite, offsite


def test_the_explorer_script_holds_no_number_or_label_of_its_own() -> None:
    script = (DOCS / "javascripts" / "explorer.js").read_text(encoding="utf-8")
    code = "\n".join(line.split("//")[0] for line in script.splitlines())
    strings = [s for s in re.findall(r'"([^"\\]*)"', code) if s != "use strict"]
    words = [s for s in strings if re.search(r"[a-z]{3,} [a-z]{3,}", s)]
    assert not words, f"labels typed into the script: {words}"
    numbers = set(re.findall(r"(?<![\w.])\d+(?![\w.])", code))
    assert numbers <= {"0", "1", "2"}, f"numbers typed into the script: {numbers}"


def _formulas(html: str) -> list[str]:
    """The TeX of every formula on a built page, outside quotations of the thread."""
    html = re.sub(r"<blockquote>.*?</blockquote>", " ", html, flags=re.S)
    return [
        m.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        for m in re.findall(r'class="arithmatex">(.*?)</(?:span|div)>', html, flags=re.S)
    ]


def test_the_learning_pages_use_one_notation(site: Path) -> None:
    """0-based indices, w_{o,i} for a weight, C_in/C_out for the map counts (the thread's n1/n2 mapped once)."""
    pages = {md: (site / page_path(md) / "index.html").read_text(encoding="utf-8") for md in PAGES}
    # the derivation page's proofs for symbolic sizes are the theorems' own lines: they are checked there
    pages["derivation.md"] = pages["derivation.md"].split('id="for-any-number-of-maps"')[0]
    mine = ["index.md", "derivation.md", "explorer.md", "questions.md", "bottleneck.md", "notation.md"]
    mine += ["counting.md", "full-size.md", "resnets.md", "repl.md"]
    for md in mine:
        for tex in _formulas(pages[md]):
            assert not re.search(r"\bW_\{?o(?!ut)", tex), f"{md}: a weight written W_o,i instead of w_o,i: {tex}"
            assert not re.search(r"[a-z]\s*=\s*1\s*[,}]|\(\s*[a-z],\s*1,", tex), f"{md}: a 1-based index: {tex}"
    # outside the thread's quotes, n1 and n2 appear once: where the home page maps them to C_in and C_out
    uses = {md: [t for t in _formulas(pages[md]) if re.search(r"\bn_\{?[12n]", t)] for md in mine}
    assert {md: u for md, u in uses.items() if u} == {"index.md": ["\\(n_1\\)", "\\(n_2\\)"]}, uses
    assert re.search(r"The thread's .{0,80}n_1.{0,200}C_\{in\}", pages["index.md"], flags=re.S)


def test_the_filter_is_drawn_over_its_stack_of_maps_before_any_heatmap(site: Path) -> None:
    _sitekit()
    from sitekit import worked

    ex = worked.three_to_two()
    html = (site / page_path("derivation.md") / "index.html").read_text(encoding="utf-8")
    drawing = html.index('class="vf-figure vf-stack-figure"')
    assert drawing < html.index('<figure class="vf-figure">\n<svg'), "the weight heatmap comes before the drawing"
    figure = html[drawing : html.index("</figure>", drawing)]
    weights = re.findall(r'class="vf-filter-cell"[^>]*>× ([^<]+)<', figure)
    assert weights == [worked.number(int(v)) for v in ex.w[0]], weights  # one weight per input map, filter 0
    assert figure.count('class="vf-map vf-in"') == ex.conv.in_channels


def test_the_navigation_separates_learning_from_reference_and_home_says_how_long(site: Path) -> None:
    import yaml

    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    sections = {next(iter(s)): [next(iter(item.values())) for item in s[next(iter(s))]] for s in nav}
    assert list(sections) == ["Learn", "Reference"], sections
    assert sections["Learn"][:2] == ["index.md", "derivation.md"]
    reference = {"theorems.md", "claims.md", "counting.md", "api.md", "cli.md", "repl.md", "pytest.md"}
    assert reference <= set(sections["Reference"])
    home = (site / "index.html").read_text(encoding="utf-8")
    minutes = re.search(r'class="vf-learn-minutes">about (\d+) minutes<', home)
    assert minutes and int(minutes.group(1)) > 0, "the home page does not say how long the Learn pages take"


# Each term, and words that define it; where a page first uses the term, the definition is right there.
JARGON = {
    "BatchNorm": "scale",
    "rank": "independent directions",
    "Jacobian": "table of derivatives",
    "depthwise": "on its own",
    "NCHW": "batch, channels, height, width",
    "OIHW": "out, in, height, width",
    "multiply-add": "one multiplication and one addition",
}


def test_the_pages_define_each_term_where_they_first_use_it(site: Path) -> None:
    mine = ["index.md", "derivation.md", "explorer.md", "questions.md", "bottleneck.md", "full-size.md"]
    mine += ["counting.md", "resnets.md", "repl.md"]
    undefined = []
    for md in mine:
        text = page_text(site, md)
        for term, definition in JARGON.items():
            first = re.search(rf"(?<![\w-]){re.escape(term)}", text)
            if first and definition not in text[max(0, first.start() - 200) : first.end() + 250]:
                undefined.append(f"{md}: {term!r} … {text[first.start() : first.end() + 120]!r}")
    assert not undefined, "\n".join(undefined)
