"""One report structure, several renderings: terminal text, JSON and Markdown.

The CLI, the docs pages and REPL reprs render the same :class:`Report`, so the three cannot disagree.

>>> r = Report("Counts", ok=True, data={"params": 16384})
>>> r.add("A 1x1 conv from 256 to 64 maps.")
>>> r.add(Table(["layer", "params"], [["conv1", 16384]]))
>>> print(r.text())
Counts
======
A 1x1 conv from 256 to 64 maps.
<BLANKLINE>
layer  params
-----  ------
conv1  16,384
<BLANKLINE>
all checks hold
>>> r.json()
'{"params": 16384}'
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Report", "Table", "fmt"]


def fmt(value: Any) -> str:
    """Integers with thousands separators, floats to 4 significant digits, the rest as ``str``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass
class Table:
    """Columns and rows; numeric cells are right-aligned in text and Markdown."""

    columns: list[str]
    rows: list[list[Any]]

    def _cells(self) -> list[list[str]]:
        return [[fmt(cell) for cell in row] for row in self.rows]

    def _numeric(self) -> list[bool]:
        return [
            all(isinstance(row[j], (int, float)) and not isinstance(row[j], bool) for row in self.rows)
            and bool(self.rows)
            for j in range(len(self.columns))
        ]

    def text(self) -> str:
        cells = self._cells()
        widths = [max([len(c)] + [len(r[j]) for r in cells]) for j, c in enumerate(self.columns)]
        right = self._numeric()

        def line(values: list[str]) -> str:
            parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
            return "  ".join(parts).rstrip()

        return "\n".join([line(self.columns), line(["-" * w for w in widths]), *(line(r) for r in cells)])

    def markdown(self) -> str:
        right = self._numeric()
        head = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "|".join("---:" if r else ":---" for r in right) + "|"
        body = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self._cells()]
        return "\n".join([head, rule, *body])


@dataclass
class Report:
    """A titled sequence of paragraphs and tables, an overall verdict, and the JSON payload.

    ``data`` holds exactly the keys of the command's JSON contract; ``blocks`` are for people.
    """

    title: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    blocks: list[str | Table] = field(default_factory=list)

    def add(self, block: str | Table) -> None:
        self.blocks.append(block)

    def json(self, indent: int | None = None) -> str:
        return json.dumps(self.data, indent=indent, default=_json_default)

    def text(self, width: int = 100) -> str:
        out = [self.title, "=" * len(self.title)]
        for block in self.blocks:
            if isinstance(block, Table):
                out.extend(["", block.text(), ""])
            else:
                out.extend(
                    textwrap.fill(p, width, break_long_words=False, break_on_hyphens=False) if p else ""
                    for p in block.splitlines()
                )
        out.extend(["", "all checks hold" if self.ok else "SOME CHECKS FAIL"])
        text = "\n".join(out)
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        return text

    def markdown(self, level: int = 2) -> str:
        out = [f"{'#' * level} {self.title}", ""]
        for block in self.blocks:
            out.extend([block.markdown() if isinstance(block, Table) else block, ""])
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _json_default(value: Any) -> Any:
    """Make NumPy scalars and tuples of them JSON-able without importing NumPy here."""
    for attr in ("item", "tolist"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    raise TypeError(f"cannot put {type(value).__name__} into JSON")
