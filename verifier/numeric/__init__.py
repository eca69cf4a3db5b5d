"""The NumPy engine: ``torch.nn.functional``'s conv2d, batch_norm and relu, and the bottleneck at full size.

>>> import numpy as np
>>> from verifier.numeric import conv2d
>>> x = np.ones((1, 256, 4, 4), np.float32)
>>> conv2d(x, np.ones((64, 256, 1, 1), np.float32)).shape      # 256 maps in, 64 maps out
(1, 64, 4, 4)
"""

from __future__ import annotations

from . import reference
from .blocks import (
    BatchNormParams,
    BottleneckParams,
    FoldedBottleneck,
    bottleneck_forward,
    bottleneck_input,
    bottleneck_params,
)
from .functional import batch_norm, conv2d, fold_batch_norm, relu

__all__ = [
    "BatchNormParams",
    "BottleneckParams",
    "FoldedBottleneck",
    "batch_norm",
    "bottleneck_forward",
    "bottleneck_input",
    "bottleneck_params",
    "conv2d",
    "fold_batch_norm",
    "reference",
    "relu",
]
