"""The engine's functional ops under one name, as ``torch.nn.functional`` gathers PyTorch's.

Each op lives in a module of its own: :mod:`~verifier.numeric.conv` (``conv2d``),
:mod:`~verifier.numeric.normalization` (``batch_norm``, ``fold_batch_norm``) and
:mod:`~verifier.numeric.activations` (``relu``); the loops that define them are in
:mod:`~verifier.numeric.reference`.
"""

from __future__ import annotations

from .activations import relu
from .conv import conv2d
from .normalization import batch_norm, fold_batch_norm

__all__ = ["batch_norm", "conv2d", "fold_batch_norm", "relu"]
