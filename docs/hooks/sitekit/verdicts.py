"""Badges and blocks for theorem and claim verdicts."""

from __future__ import annotations

import html
import json
import re
from typing import Any

_CLASS = {
    "true": "vf-true",
    "false": "vf-false",
    "partly true": "vf-partly",
    "answered": "vf-answered",
    "holds": "vf-true",
    "fails": "vf-false",
}


def badge(word: str) -> str:
    """A coloured pill: green for true/holds, red for false/fails, orange for partly true, blue for a question
    answered, grey otherwise."""
    return f'<span class="vf-verdict {_CLASS.get(word, "vf-other")}">{html.escape(word)}</span>'


def details(title: str, value: Any) -> str:
    """A collapsed block holding ``value`` as pretty JSON."""
    body = json.dumps(value, indent=2, default=str)
    indented = "\n".join("    " + line for line in f"```json\n{body}\n```".splitlines())
    return f'\n??? abstract "{title}"\n\n{indented}\n'


def plain(text: str) -> str:
    """Text from the package made safe for Markdown: no accidental emphasis, links or HTML."""
    text = html.escape(text, quote=False)
    for ch in "*_[]`":
        text = text.replace(ch, "\\" + ch)
    return text


def with_math(text: str) -> str:
    """Like :func:`plain`, but the thread's own ``$...$`` and ``$$...$$`` spans stay math, rendered inline;
    spans written back to back (``$n_1$$n_2$``, a product) become one formula."""
    tokens = re.split(r"(\$\$.+?\$\$|\$[^$]+\$)", text)
    out: list[str] = []
    pending: list[str] = []
    for k, token in enumerate(tokens):
        if k % 2:
            pending.append(token.strip("$").strip())
            continue
        if token == "" and 0 < k < len(tokens) - 1:
            continue  # nothing between two formulas: keep collecting
        if pending:
            out.append("$" + " ".join(pending) + "$")
            pending = []
        out.append(plain(token).replace("$", "\\$"))
    if pending:
        out.append("$" + " ".join(pending) + "$")
    return "".join(out)
