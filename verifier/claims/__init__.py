"""The thread's claims, each quoted exactly, attributed to whoever asserts it, and judged by computation.

Every sentence of the thread that states or implies something about convolutions is a :class:`Statement`:
its exact quote, its speaker (for a statement someone reports, the speaker is its source and
``reported_by`` the reporter), its form and the theorems that decide it.

- A statement is judged on its readings (the ways its words can be read, or its parts): all hold, ``"true"``;
  none, ``"false"``; some, ``"partly true"``.
- A question is judged on the belief it implies, stated as its ``reading``; a question that implies no
  belief gets the verdict ``"answered"`` and its computed answer.
- A typo is judged on its meaning, with the typo recorded in ``note``.
- The word "filter" has one meaning, :data:`FILTER_POLICY`, in every claim that uses it.
- A deciding theorem that fails, a check that breaks, or two paths that disagree: ``"could not be checked"``,
  naming what went wrong; the other claims are still judged.

The evidence of each claim is computed from the symbolic engine's derived maps or the NumPy engine, never
from the spec attribute the claim is about; the spec's closed forms are checked against it. The sentences
no claim quotes are listed by :func:`left_out`, each with the reason.

>>> claim = get_claim("64x256-filters")
>>> claim.verdict, claim.speaker
('false', 'dontloo')
>>> claim.quote in thread_text()
True
>>> get_claim("how-64-to-256").verdict
'answered'
"""

from __future__ import annotations

from ..errors import VerifierError
from ..progress import Progress
from ._judging import COULD_NOT_CHECK, JUDGED, VERDICTS, Claim, Disagreement, Reading, Statement
from ._statements import CLAIMS, FILTER_POLICY
from ._thread import LEFT_OUT_REASONS, Sentence, sentences, thread_text

__all__ = [
    "CLAIMS",
    "COULD_NOT_CHECK",
    "FILTER_POLICY",
    "JUDGED",
    "VERDICTS",
    "Claim",
    "Disagreement",
    "Reading",
    "Statement",
    "get_claim",
    "judge_all",
    "left_out",
    "thread_text",
]


def _statement(claim_id: str) -> Statement:
    for s in CLAIMS:
        if s.id == claim_id:
            return s
    valid = ", ".join(s.id for s in CLAIMS)
    raise VerifierError(f"claim_id must be one of {valid}, got {claim_id!r}")


def get_claim(claim_id: str) -> Claim:
    """Judge the statement ``claim_id`` and return it with its verdict.

    >>> get_claim("n2-maps").verdict
    'true'
    >>> get_claim("no-such-claim")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: claim_id must be one of change-dimensionality, ..., got 'no-such-claim'
    """
    return _statement(claim_id).judge()


def judge_all(progress: Progress | None = None) -> list[Claim]:
    """Judge every statement of the thread, in the thread's order.

    >>> claims = judge_all()
    >>> sorted({c.verdict for c in claims})
    ['answered', 'false', 'partly true', 'true']
    """
    out = []
    for k, statement in enumerate(CLAIMS, 1):
        if progress is not None:
            progress.step(f"judging claim {k}/{len(CLAIMS)}: {statement.id}")
        out.append(statement.judge())
    return out


def left_out() -> list[tuple[Sentence, str]]:
    """The thread's sentences that no claim quotes, each with the reason it is left out.

    >>> [(s.post.author, s.text) for s, _ in left_out()][:2]
    [('Newstein', 'enter image description here'), ('dontloo', "@Newstein I made that up, it's not in the paper.")]
    """
    out = []
    for sentence in sentences():
        if not any(s.quote in sentence.text or sentence.text in s.quote for s in CLAIMS):
            out.append((sentence, LEFT_OUT_REASONS.get(sentence.text, "no reason recorded")))
    return out
