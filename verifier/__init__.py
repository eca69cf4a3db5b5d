"""verifier: proofs, not assertions, of how a 1x1 convolution changes the number of feature maps.

``import verifier as v`` is the REPL workflow: specs (:class:`Conv2d`, :class:`Bottleneck`, whole
networks through :func:`resnet`), the symbolic engine (:mod:`verifier.symbolic`), the NumPy engine
(:mod:`verifier.numeric`), the theorems and the thread's claims.

>>> import verifier as v
>>> conv = v.Conv2d(256, 64, 1, bias=False)
>>> conv.param_count
16384
>>> v.output_map(v.Conv2d(3, 2, 1, bias=False), 0, (0, 0), (1, 1))
w_{0,0,0,0}*x_{0,0,0} + w_{0,1,0,0}*x_{1,0,0} + w_{0,2,0,0}*x_{2,0,0}
>>> v.get_theorem("maps-equal-filters").title
'Output maps = filters'
"""

from __future__ import annotations

from . import claims, crosscheck, models, numeric, symbolic, theorems
from .claims import CLAIMS, Claim, get_claim, judge_all
from .errors import VerifierError, VerifierTypeError
from .layers import AdaptiveAvgPool2d, Flatten, Linear, MaxPool2d
from .models import MODEL_NAMES, ResNet, resnet
from .spec import Add, BasicBlock, BatchNorm2d, Bottleneck, Conv2d, Layer, LayerRow, ReLU
from .symbolic import bias_vector, input_tensor, output_map, output_maps, weight_tensor
from .theorems import THEOREMS, Theorem, Verdict, check_all, get_theorem

__version__ = "0.1.0"

__all__ = [
    "CLAIMS",
    "MODEL_NAMES",
    "THEOREMS",
    "AdaptiveAvgPool2d",
    "Add",
    "BasicBlock",
    "BatchNorm2d",
    "Bottleneck",
    "Claim",
    "Conv2d",
    "Flatten",
    "Layer",
    "LayerRow",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "ResNet",
    "Theorem",
    "Verdict",
    "VerifierError",
    "VerifierTypeError",
    "__version__",
    "bias_vector",
    "check_all",
    "claims",
    "crosscheck",
    "get_claim",
    "get_theorem",
    "input_tensor",
    "judge_all",
    "models",
    "numeric",
    "output_map",
    "output_maps",
    "resnet",
    "symbolic",
    "theorems",
    "weight_tensor",
]
