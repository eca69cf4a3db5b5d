"""The project's one family of exceptions.

Every error a user can cause is a :class:`VerifierError` (a ``ValueError``) or a
:class:`VerifierTypeError` (also a ``TypeError``), and its message names the parameter, the value
received and what is allowed::

    kernel_size must be a positive int or a pair of positive ints, got 0
"""

from __future__ import annotations

__all__ = ["VerifierError", "VerifierTypeError"]


class VerifierError(ValueError):
    """Bad input: the message names the parameter, the value received and what is allowed."""


class VerifierTypeError(VerifierError, TypeError):
    """Bad input of the wrong type (a ``str`` where an ``int`` belongs, a ``bool`` for a size)."""
