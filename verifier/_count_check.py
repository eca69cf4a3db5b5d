"""A second count for `verifier count`: every layer recounted from what it computes, not from its closed form.

The closed forms live on the specs (``Conv2d.param_count``, ``Conv2d.macs``, ...). This module counts the same
things another way, reading only a layer's constructor arguments, so that a wrong closed form shows up as a
mismatch:

- a conv's weights are the distinct indices ``(o, i, u, v)`` that the defining sum
  ``y_o(p) = b_o + sum_{i in group(o)} sum_{u, v} w_{o,i,u,v} x_i(p*s + (u, v)*d - pad)`` reads, enumerated one
  by one when there are at most :data:`ENUMERATE_UP_TO` of them, else added up over the sum's index ranges;
- a conv's multiply-adds are the output positions whose window fits in the padded input (enumerated along each
  axis) times the products each output value sums;
- a linear layer's are its ``y_j = b_j + sum_i W[j, i] x_i``; a BatchNorm's are one scale and one shift per map.

>>> from verifier.spec import Conv2d
>>> conv = Conv2d(256, 64, 1, bias=False)
>>> conv_params(conv), conv_macs(conv, (1, 256, 56, 56))
(16384, 51380224)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .layers import Linear
from .spec import BatchNorm2d, Conv2d, LayerRow

__all__ = [
    "ENUMERATE_UP_TO",
    "Recount",
    "conv_macs",
    "conv_output_size",
    "conv_params",
    "layer_counts",
    "recount",
]

#: Convs with at most this many (output map, input map, u, v) index combinations have their weights enumerated
#: one by one; larger ones are counted over the index ranges of the defining sum.
ENUMERATE_UP_TO = 1_000_000


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _inputs_of(conv: Conv2d, o: int) -> range:
    """The input maps that output map ``o`` sums over: those of its group."""
    per_group_out = conv.out_channels // conv.groups
    per_group_in = conv.in_channels // conv.groups
    g = o // per_group_out
    return range(g * per_group_in, (g + 1) * per_group_in)


def _weight_indices(conv: Conv2d) -> Iterable[tuple[int, int, int, int]]:
    """Every (o, i, u, v) the defining sum reads, with i counted within the group (PyTorch's OIHW index)."""
    kh, kw = _pair(conv.kernel_size)
    for o in range(conv.out_channels):
        inputs = _inputs_of(conv, o)
        for i, u, v in itertools.product(inputs, range(kh), range(kw)):
            yield (o, i - inputs.start, u, v)


def conv_params(conv: Conv2d, enumerate_weights: bool = True) -> int:
    """Weights the defining sum reads, plus one bias per output map when the conv has a bias.

    With ``enumerate_weights`` (and at most :data:`ENUMERATE_UP_TO` index combinations) every index is listed
    and the distinct ones counted; otherwise the lengths of the sum's index ranges are multiplied per output map.
    """
    kh, kw = _pair(conv.kernel_size)
    if enumerate_weights and conv.out_channels * conv.in_channels * kh * kw <= ENUMERATE_UP_TO:
        weights = len(set(_weight_indices(conv)))
    else:
        weights = sum(len(_inputs_of(conv, o)) * len(range(kh)) * len(range(kw)) for o in range(conv.out_channels))
    return weights + (conv.out_channels if conv.bias else 0)


def _pads(conv: Conv2d) -> tuple[tuple[int, int], tuple[int, int]]:
    """Zeros before and after, per axis, from the ``padding`` argument as given."""
    kernel, dilation = _pair(conv.kernel_size), _pair(conv.dilation)
    if conv.padding == "valid":
        return (0, 0), (0, 0)
    if conv.padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return (totals[0] // 2, totals[0] - totals[0] // 2), (totals[1] // 2, totals[1] - totals[1] // 2)
    ph, pw = _pair(conv.padding)
    return (ph, ph), (pw, pw)


def _positions(size: int, pads: tuple[int, int], k: int, s: int, d: int) -> int:
    """Window starts along one axis whose last tap still falls inside the padded input."""
    padded = size + pads[0] + pads[1]
    return sum(1 for start in range(0, padded, s) if start + d * (k - 1) < padded)


def conv_output_size(conv: Conv2d, input_shape: Sequence[int]) -> tuple[int, int]:
    """(H_out, W_out): the window positions that fit, counted along each axis."""
    h, w = input_shape[-2:]
    (kh, kw), (sh, sw), (dh, dw) = _pair(conv.kernel_size), _pair(conv.stride), _pair(conv.dilation)
    pads_h, pads_w = _pads(conv)
    return _positions(h, pads_h, kh, sh, dh), _positions(w, pads_w, kw, sw, dw)


def conv_macs(conv: Conv2d, input_shape: Sequence[int]) -> int:
    """Products the defining sum forms on an (N, C, H, W) or (C, H, W) input."""
    n = 1 if len(input_shape) == 3 else input_shape[0]
    kh, kw = _pair(conv.kernel_size)
    ho, wo = conv_output_size(conv, input_shape)
    positions = ho * wo
    products_per_position = sum(len(_inputs_of(conv, o)) * kh * kw for o in range(conv.out_channels))
    return n * positions * products_per_position


def layer_counts(row: LayerRow, enumerate_weights: bool = True) -> tuple[int, int]:
    """(parameters, multiply-adds) of one layer on its input, counted from what the layer computes."""
    layer = row.layer
    if isinstance(layer, Conv2d):
        return conv_params(layer, enumerate_weights), conv_macs(layer, row.input_shape)
    if isinstance(layer, Linear):
        n = row.input_shape[0] if len(row.input_shape) == 2 else 1
        outs, ins = range(layer.out_features), range(layer.in_features)
        small = enumerate_weights and len(outs) * len(ins) <= ENUMERATE_UP_TO
        weights = len(set(itertools.product(outs, ins))) if small else sum(len(ins) for _ in outs)
        return weights + (layer.out_features if layer.bias else 0), n * weights
    if isinstance(layer, BatchNorm2d):
        return (2 * layer.num_features if layer.affine else 0), 0
    return 0, 0  # ReLU, pooling, flatten, the residual add: nothing learned, nothing multiplied and added


@dataclass(frozen=True)
class Recount:
    """The closed forms' totals beside the second count's, and the layers where they differ."""

    params: int
    macs: int
    recounted_params: int
    recounted_macs: int
    differing: tuple[tuple[str, str, Any, Any], ...]  # (layer, quantity, closed form, recount)

    @property
    def agrees(self) -> bool:
        return not self.differing and (self.params, self.macs) == (self.recounted_params, self.recounted_macs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agrees": self.agrees,
            "params": {"closed_form": self.params, "recounted": self.recounted_params},
            "macs": {"closed_form": self.macs, "recounted": self.recounted_macs},
            "differing_layers": [
                {"name": name, "quantity": what, "closed_form": closed, "recounted": again}
                for name, what, closed, again in self.differing
            ],
        }


def recount(rows: Sequence[LayerRow], params: int, macs: int, enumerate_weights: bool = True) -> Recount:
    """Recount every row and compare layer by layer and in total with the closed forms ``params`` and ``macs``.

    ``enumerate_weights=False`` counts over index ranges only (for whole networks, whose tens of millions of
    weights would take seconds to list).
    """
    differing: list[tuple[str, str, Any, Any]] = []
    total_params = total_macs = 0
    for row in rows:
        p, m = layer_counts(row, enumerate_weights)
        total_params += p
        total_macs += m
        for what, closed, again in (("params", row.params, p), ("macs", row.macs, m)):
            if closed != again:
                differing.append((row.name, what, closed, again))
        if isinstance(row.layer, Conv2d):
            closed_size, size = row.output_shape[-2:], conv_output_size(row.layer, row.input_shape)
            if tuple(closed_size) != size:
                differing.append((row.name, "output size", closed_size, size))
    return Recount(params, macs, total_params, total_macs, tuple(differing))
