"""The thread as shipped in the package, split into posts and sentences, each with its author.

The page lists every sentence of the thread: those a claim quotes, and those left out with the reason. The
split is computed from ``verifier/data/thread.md``; only the reasons are written by hand.

>>> [p.author for p in posts()][:3]
['Newstein', 'dontloo', 'Newstein']
>>> sentences()[3].text
'How is this possible?'
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

__all__ = ["LEFT_OUT_REASONS", "Post", "Sentence", "posts", "sentences", "thread_text"]

# A comment ends with its signature: " – Name Mon DD 'YY at HH:MM" (the dash and space as the site prints them).
_SIGNATURE = re.compile(r"^(?P<text>.*?)\s+–\s+(?P<author>.+?) (?P<when>[A-Z][a-z]{2} \d{2} '\d{2} at \d{2}:\d{2})$")
_BULLET = re.compile(r"^\s+•\s*(?P<rest>.*)$")
_NUMBER = re.compile(r"^[\d,]+$")
# Sentences end at . ? ! followed by a space, or at a period glued to the next word ("network.enter"); the
# figure's placeholder text stands alone.
_PLACEHOLDER = "enter image description here"
_SENTENCE_END = re.compile(rf"(?<=[.?!])\s+|(?<=[a-z]\.)(?=[a-z])|(?<={_PLACEHOLDER})\s+")

#: Why each sentence that no claim quotes is left out (checked against the computed split by the tests).
LEFT_OUT_REASONS: dict[str, str] = {
    _PLACEHOLDER: "the placeholder of the figure, which the thread's header describes",
    "@Newstein I made that up, it's not in the paper.": "a remark on where the notation comes from",
    ":P": "a joke",
    "I really think this answer is misleading.": "an opinion about the answer; the statements above check its content",
    "@facuq yea it is, I've made some edit": "agreement with that opinion and a note that the answer was edited",
}


def thread_text() -> str:
    """The thread as captured, shipped inside the package; every claim's quote is a substring of it.

    >>> thread_text().count("dontloo") >= 2
    True
    """
    return resources.files("verifier").joinpath("data", "thread.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Post:
    """A question, an answer or a comment, with its author and its text on one line."""

    kind: str  # "question", "answer" or "comment"
    author: str
    text: str


@dataclass(frozen=True)
class Sentence:
    """One sentence of a post."""

    post: Post
    text: str


def _body() -> list[str]:
    """The lines after the header's ``---``."""
    lines = thread_text().splitlines()
    return lines[lines.index("---") + 1 :]


def _is_signature(lines: list[str], k: int) -> bool:
    """A bare user name followed by the reputation and badge counts, as the site prints a post's author."""
    line = lines[k]
    following = _BULLET.match(lines[k + 1]) if k + 1 < len(lines) else None
    return bool(line.strip()) and not line.startswith(" ") and bool(following and _NUMBER.match(following["rest"]))


@functools.cache
def posts() -> tuple[Post, ...]:
    """The question, the answer and the comments, in the thread's order."""
    lines = _body()
    out: list[Post] = []
    paragraphs: list[str] = []
    pending = ""  # a comment's text when its vote count came first on a line of its own
    for k, line in enumerate(lines):
        bullet = _BULLET.match(line)
        if _is_signature(lines, k):
            out.append(Post("question" if not out else "answer", line.strip(), " ".join(paragraphs)))
            paragraphs = []
        elif bullet and _NUMBER.match(bullet["rest"]):
            continue  # reputation, badges or a comment's votes
        elif bullet or (line.startswith("    ") and line.strip()):
            signed = _SIGNATURE.match(pending + (bullet["rest"] if bullet else line.strip()))
            if signed:
                out.append(Post("comment", signed["author"].replace("\xa0", " "), signed["text"].strip()))
        elif line.strip() and not _NUMBER.match(line.strip()) and not re.fullmatch(r"\d+ Answers\d*", line):
            paragraphs.append(line.strip())
    return tuple(out)


@functools.cache
def sentences() -> tuple[Sentence, ...]:
    """Every sentence of every post, in order."""
    return tuple(Sentence(p, s) for p in posts() for s in _SENTENCE_END.split(p.text) if s.strip())
