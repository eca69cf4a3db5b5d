"""Make the package's docstrings read well on the API pages.

The docstrings are written for ``help()`` and doctest: bare ``>>>`` sessions, reST literal markers (``::``)
and reST roles (:class:`Report`). Before mkdocstrings renders them as Markdown, this griffe extension wraps
each ``>>>`` session in a ``pycon`` code fence, turns ``::`` into ``:`` and roles into code spans.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


def fence_doctests(text: str) -> str:
    """Wrap every run of ``>>>`` lines and their output (up to a blank line) in a ``pycon`` fence."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence or not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].strip())
            i += 1
        if out and out[-1].strip():
            out.append("")
        out.extend([f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"])
    return "\n".join(out)


def tidy(text: str) -> str:
    text = _ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1] if m.group(0).count('~') else m.group(1)}`", text)
    text = re.sub(r"(\S)::\s*$", r"\1:", text, flags=re.M)
    return fence_doctests(text)


class DocstringTidy(griffe.Extension):
    """Apply :func:`tidy` to every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **_: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = tidy(obj.docstring.value)
