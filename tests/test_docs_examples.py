"""The REPL tour on the site and the README's examples run as doctests: what they show is what the package prints."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = ["docs/repl.md", "README.md"]
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _examples(path: Path) -> doctest.DocTest:
    text = path.read_text(encoding="utf-8")
    return doctest.DocTestParser().get_doctest(text, {"__name__": "__docs__"}, path.name, str(path), 0)


@pytest.mark.parametrize("name", FILES)
def test_every_example_prints_what_the_page_shows(name: str) -> None:
    test = _examples(ROOT / name)
    assert test.examples, f"{name} has no >>> examples"
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


def test_the_tour_covers_the_public_api_it_promises() -> None:
    test = _examples(ROOT / "docs" / "repl.md")
    source = "".join(example.source for example in test.examples)
    for name in ("v.Conv2d", "v.Bottleneck", "output_shape", "macs", "param_count"):
        assert name in source, f"the REPL tour no longer shows {name}"


def test_the_runner_reports_a_wrong_example() -> None:
    wrong = doctest.DocTestParser().get_doctest(">>> 1 + 1\n3\n", {}, "wrong", "wrong.md", 0)
    report: list[str] = []
    result = doctest.DocTestRunner(optionflags=FLAGS).run(wrong, out=report.append)
    assert result.failed == 1 and "Expected:\n    3\nGot:\n    2" in "".join(report)
