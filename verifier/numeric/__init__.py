"""The NumPy engine: ``torch.nn.functional``'s conv2d, batch_norm and relu, and the bottleneck at full size.

Read it in this order:

1. :mod:`~verifier.numeric.reference`: the definition in numbers, as plain loops that share nothing with the rest;
2. :mod:`~verifier.numeric.conv`: ``conv2d``, the same sums as matrix products, by three schemes;
3. :mod:`~verifier.numeric._guards`: the checks around them (dtypes, NaN, overflow bounds, plans, memory);
4. :mod:`~verifier.numeric.normalization` and :mod:`~verifier.numeric.activations`: batch_norm and relu;
5. :mod:`~verifier.numeric.blocks`: the bottleneck, plain and folded (its parameters in
   :mod:`~verifier.numeric.params`).

>>> import numpy as np
>>> from verifier.numeric import conv2d
>>> x = np.ones((1, 256, 4, 4), np.float32)
>>> conv2d(x, np.ones((64, 256, 1, 1), np.float32)).shape      # 256 maps in, 64 maps out
(1, 64, 4, 4)
"""

from __future__ import annotations

from . import reference
from .activations import relu
from .blocks import FoldedBottleneck, bottleneck_forward
from .conv import conv2d
from .normalization import batch_norm, fold_batch_norm
from .params import BatchNormParams, BottleneckParams, bottleneck_input, bottleneck_params

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
