"""Serve KaTeX from the site itself: copy npm's ``katex`` files into ``assets/katex/`` while the site builds.

The files come from ``node_modules/katex/dist`` (``npm ci`` installs the version pinned in package.json), so
the repository holds none of them and no page asks a CDN for anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

DIST = Path(__file__).resolve().parents[2] / "node_modules" / "katex" / "dist"
TARGET = "assets/katex"


def katex_files() -> list[tuple[str, Path]]:
    """(path inside the site, source file) for the script, the stylesheet, auto-render and the WOFF2 fonts."""
    if not (DIST / "katex.min.js").is_file():
        raise PluginError(
            f"KaTeX is missing: {DIST} has no katex.min.js. Run `npm ci` in the repository root "
            "(package.json pins the version the site serves)."
        )
    wanted = [DIST / "katex.min.js", DIST / "katex.min.css", DIST / "contrib" / "auto-render.min.js"]
    fonts = sorted((DIST / "fonts").glob("*.woff2"))
    if not fonts:
        raise PluginError(f"KaTeX's fonts are missing from {DIST / 'fonts'}: run `npm ci` again")
    return [(f"{TARGET}/{path.relative_to(DIST).as_posix()}", path) for path in (*wanted, *fonts)]


def on_files(files: Files, config: Any, **_: Any) -> Files:
    for uri, path in katex_files():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
