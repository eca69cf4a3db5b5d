"""The theorems that settle the thread, one module per theorem: its statement, its checks and its proof.

A :class:`Theorem` states one fact about convolutions. :meth:`Theorem.check` returns a :class:`Verdict`
whose :class:`Step` s say what was shown and how: ``proved`` (derived for all sizes from the one definition
of a convolution), ``checked`` (computed exactly at named sizes) or ``cited`` (a named lemma applied to a
computed instance). Given a layer, a theorem about layers is checked at that layer; one whose statement does not
apply to it (a 3x3 layer is not a matrix product) is "skipped" with the reason.

One module per theorem holds its statement, its checks and the proof it runs: :mod:`.all_inputs`,
:mod:`.maps_equal_filters`, :mod:`.parameter_count`, :mod:`.mac_count`, :mod:`.conv1x1_is_matmul`,
:mod:`.expansion_rank`, :mod:`.linear_collapse`, :mod:`.batchnorm_fold`, :mod:`.bottleneck_budget`. The
objects they share are in :mod:`._core`; the derived maps several of them read, in :mod:`._shared`.

>>> t = get_theorem("parameter-count")
>>> t
Theorem(3, 'parameter-count': Parameter count)
>>> v = t.check()
>>> v.status
'holds'
"""

from __future__ import annotations

from ..errors import VerifierError, VerifierTypeError
from ..progress import Progress
from ..spec import Conv2d
from ..symbolic import proofs
from . import (
    _core,
    _shared,
    all_inputs,
    batchnorm_fold,
    bottleneck_budget,
    conv1x1_is_matmul,
    expansion_rank,
    linear_collapse,
    mac_count,
    maps_equal_filters,
    parameter_count,
)
from ._core import Findings, NotApplicable, Step, Theorem, Verdict, validate_layer

__all__ = [
    "THEOREMS",
    "Findings",
    "NotApplicable",
    "Step",
    "Theorem",
    "Verdict",
    "check_all",
    "check_at_layer",
    "clear_cache",
    "get_theorem",
    "validate_layer",
]

THEOREMS: tuple[Theorem, ...] = (
    all_inputs.THEOREM,
    maps_equal_filters.THEOREM,
    parameter_count.THEOREM,
    mac_count.THEOREM,
    conv1x1_is_matmul.THEOREM,
    expansion_rank.THEOREM,
    linear_collapse.THEOREM,
    batchnorm_fold.THEOREM,
    bottleneck_budget.THEOREM,
)

_BY_ID = {t.id: t for t in THEOREMS}


def get_theorem(id: str) -> Theorem:
    """The theorem with this id.

    >>> get_theorem("mac-count").number
    4

    Raises:
        VerifierError: for an unknown id; the message lists the valid ones.
    """
    if not isinstance(id, str) or id not in _BY_ID:
        raise VerifierError(f"unknown theorem id {id!r}; valid ids: {', '.join(_BY_ID)}")
    return _BY_ID[id]


def check_all(progress: Progress | None = None, layer: Conv2d | None = None) -> list[tuple[Theorem, Verdict]]:
    """Check every theorem in order, reporting each to ``progress``; verdicts are cached.

    With ``layer``, each theorem about one layer is checked at that layer, and the others are skipped
    (:func:`check_at_layer`), as ``verifier prove --layer`` and ``pytest --verifier-layer`` do.

    >>> [t.id for t, v in check_all()][:3]
    ['all-inputs', 'maps-equal-filters', 'parameter-count']
    """
    if progress is not None and not isinstance(progress, Progress):
        raise VerifierTypeError(f"progress must be a verifier.progress.Progress or None, got {progress!r}")
    if layer is not None:
        validate_layer(layer)
    out = []
    for theorem in THEOREMS:
        if progress is not None:
            progress.step(f"theorem {theorem.number}/{len(THEOREMS)}: {theorem.title}")
        out.append((theorem, check_at_layer(theorem, layer)))
    return out


def check_at_layer(theorem: Theorem, layer: Conv2d | None) -> Verdict:
    """``theorem.check(layer)``, except that at a layer a theorem whose statement is not about one layer is skipped.

    :meth:`Theorem.check` would check such a theorem at the thread's sizes whatever the layer; a report about
    the user's layer says instead that the layer does not bear on it. :func:`check_all`, ``verifier prove
    --layer`` and ``pytest --verifier --verifier-layer`` all check through this function.

    >>> check_at_layer(get_theorem("bottleneck-budget"), Conv2d(512, 128, 1)).status
    'skipped'
    """
    if layer is not None and not theorem.depends_on_layer:
        reason = "its statement is not about one layer, so the layer does not change it (checked without a layer)"
        return Verdict(False, f"Skipped: {reason}", status="skipped")
    return theorem.check() if layer is None else theorem.check(layer)


def clear_cache() -> None:
    """Forget every verdict and derived map, so the next check recomputes them (after a change to the code)."""
    _core._CACHE.clear()
    _shared.clear()
    proofs.clear_cache()
