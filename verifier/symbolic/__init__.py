"""The SymPy engine: tensors of symbols, derived output maps, counts by construction and exact ranks.

>>> from verifier import symbolic
>>> from verifier.spec import Conv2d
>>> symbolic.output_map(Conv2d(2, 1, 1, bias=False), 0, (0, 0), (1, 1))
w_{0,0,0,0}*x_{0,0,0} + w_{0,1,0,0}*x_{1,0,0}
"""

from __future__ import annotations

from .counting import count_free_symbols, count_multiplications, derived_macs, free_symbols, linear_coefficients
from .derive import Tap, output_map, output_maps, output_tensor, taps
from .linalg import jacobian, rank_lower_bound
from .tensors import SymbolArray, bias_vector, input_tensor, symbol_grid, weight_tensor

__all__ = [
    "SymbolArray",
    "Tap",
    "bias_vector",
    "count_free_symbols",
    "count_multiplications",
    "derived_macs",
    "free_symbols",
    "input_tensor",
    "jacobian",
    "linear_coefficients",
    "output_map",
    "output_maps",
    "output_tensor",
    "rank_lower_bound",
    "symbol_grid",
    "taps",
    "weight_tensor",
]
