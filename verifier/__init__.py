"""verifier: proofs, not assertions, of how a 1x1 convolution changes the number of feature maps.

>>> import verifier as v
>>> conv = v.Conv2d(256, 64, 1, bias=False)
>>> conv.param_count
16384
"""

from __future__ import annotations

from .errors import VerifierError, VerifierTypeError
from .spec import Add, BasicBlock, BatchNorm2d, Bottleneck, Conv2d, Layer, LayerRow, ReLU

__version__ = "0.1.0"

__all__ = [
    "Add",
    "BasicBlock",
    "BatchNorm2d",
    "Bottleneck",
    "Conv2d",
    "Layer",
    "LayerRow",
    "ReLU",
    "VerifierError",
    "VerifierTypeError",
    "__version__",
]
