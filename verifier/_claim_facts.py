"""What the claims read off the derivations: each layer's output maps split into weight-times-input products.

The symbolic engine derives every output map of a conv; :func:`derive` splits each map into the products
it sums, so a claim can count, for every output map, the input maps it reads and the weights that multiply
each one. :func:`expansion_ranks` gives exact ranks of the bottom layer's outputs before and after the
block's nonlinear steps, on plain NumPy products. :func:`engine_output` runs the NumPy engine on arrays built
from two numbers, a path that shares nothing with the spec's shape rules.

>>> d = derive(reduce_layer(), (1, 1))
>>> d.output_maps, len(d.input_maps_read(0)), len(d.weights_of(0))
(64, 256, 256)
>>> rank_mod_p(np.array([[1, 2], [2, 4]]))
1
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from . import numeric, symbolic
from .spec import Bottleneck, Conv2d
from .symbolic.linalg import rank_lower_bound

__all__ = [
    "Derived",
    "block",
    "derive",
    "engine_depends_only_on_pixel",
    "engine_output",
    "expand_layer",
    "expansion_ranks",
    "filter_sets",
    "index",
    "maps_out",
    "pixel_function_inputs",
    "rank_mod_p",
    "reduce_layer",
    "stage_input",
    "weight_tensor",
]

# The input of the bottleneck in the thread's figure: ResNet-50's first stage on a 224x224 image.
_STAGE_SIZE = (56, 56)
# Random data for the rank checks: a fixed seed, small integers so that every product is exact.
_SEED = 20160701
_PIXELS = 320  # more pixels than the widest layer has maps, so a full rank of 256 is possible


@dataclass(frozen=True)
class Derived:
    """A conv's output maps as derived by the symbolic engine, split into weight-times-input products.

    ``maps[(o, (row, col))]`` maps each input position (i, h, w) that the output reads to the OIHW indices
    of the weights multiplying it; ``biases`` counts terms that are not products (the bias).
    """

    conv: Conv2d
    input_size: tuple[int, int]
    maps: dict[tuple[int, tuple[int, int]], dict[tuple[int, int, int], list[tuple[int, ...]]]]
    biases: int

    def at(self, o: int, position: tuple[int, int] = (0, 0)) -> dict[tuple[int, int, int], list[tuple[int, ...]]]:
        return self.maps[(o, position)]

    @property
    def output_maps(self) -> int:
        """Distinct output channels derived."""
        return len({o for o, _ in self.maps})

    def input_maps_read(self, o: int, position: tuple[int, int] = (0, 0)) -> set[int]:
        return {i for i, _, _ in self.at(o, position)}

    def weights_of(self, o: int, position: tuple[int, int] = (0, 0)) -> set[tuple[int, ...]]:
        return {w for ws in self.at(o, position).values() for w in ws}


def _flatten(expr: Any, kind: type[Any]) -> Iterator[Any]:
    """The operands of nested (possibly unevaluated) sums or products."""
    if isinstance(expr, kind):
        for arg in expr.args:
            yield from _flatten(arg, kind)
    else:
        yield expr


def _split(
    expr: Any, w_index: dict[Any, tuple[int, ...]], x_index: dict[Any, tuple[int, ...]]
) -> tuple[dict[tuple[int, int, int], list[tuple[int, ...]]], int]:
    """Each input symbol of ``expr`` with the weights that multiply it, and the count of other terms."""
    products: dict[tuple[int, int, int], list[tuple[int, ...]]] = {}
    others = 0
    terms = expr.args if type(expr) is sympy.Add else tuple(_flatten(expr, sympy.Add))
    for term in terms:
        if type(term) is sympy.Mul and len(term.args) == 2:  # the common case: one weight times one input
            a, b = term.args
            w, x = (a, b) if a in w_index else (b, a)
            if w in w_index and x in x_index:
                products.setdefault(x_index[x], []).append(w_index[w])  # type: ignore[arg-type]
                continue
        factors = list(_flatten(term, sympy.Mul))
        ws = [w_index[f] for f in factors if f in w_index]
        xs = [x_index[f] for f in factors if f in x_index]
        rest = [f for f in factors if f not in w_index and f not in x_index]
        if len(ws) == 1 and len(xs) == 1 and not rest:
            i, h, w = xs[0]
            products.setdefault((i, h, w), []).append(ws[0])
        elif not xs:
            others += 1
        else:
            raise RuntimeError(f"an output map has a term that is not one weight times one input: {term}")
    return products, others


def index(array: Any) -> dict[Any, tuple[int, ...]]:
    """Each entry of a SymPy array (a symbol) with its index, in row-major order.

    Indexing a SymPy array entry by entry costs ~0.1 ms per entry (seconds at full width), so the
    entries are read in one pass: the dense array's flat storage where there is one, else a reshape.
    """
    if isinstance(array, sympy.ImmutableDenseNDimArray):
        flat = list(array._array)
    else:
        flat = list(sympy.Array(array).reshape(len(array)))
    return dict(zip(flat, itertools.product(*(range(n) for n in array.shape)), strict=True))


@functools.cache
def derive(conv: Conv2d, input_size: tuple[int, int]) -> Derived:
    """Derive every output map of ``conv`` on an ``input_size`` (H, W) input with the symbolic engine."""
    w_index = index(weight_tensor(conv))
    inputs = symbolic.input_tensor(conv.in_channels, *input_size)
    x_index = index(inputs)
    ho, wo = conv.output_size(*input_size)
    maps = {}
    biases = 0
    for r, c in itertools.product(range(ho), range(wo)):
        # the default symbols are the tensors' own, so the engine need not convert operands on every call
        for o, expr in enumerate(symbolic.output_maps(conv, (r, c), input_size)):
            products, others = _split(expr, w_index, x_index)
            maps[(o, (r, c))] = products
            biases += others
    return Derived(conv, input_size, maps, biases)


@functools.cache
def weight_tensor(conv: Conv2d) -> Any:
    """The symbolic engine's OIHW weight tensor of ``conv``."""
    return symbolic.weight_tensor(conv)


@functools.cache
def block() -> Bottleneck:
    return Bottleneck()


def _conv(name: str) -> Conv2d:
    convs = dict(block().convs())
    return convs[name]


def reduce_layer() -> Conv2d:
    """The figure's top layer: 1x1 conv from the block's input width down to its inner width."""
    return _conv("conv1")


def expand_layer() -> Conv2d:
    """The figure's bottom layer: 1x1 conv from the inner width back up to the block's output width."""
    return _conv("conv3")


def stage_input(conv: Conv2d) -> tuple[int, int, int, int]:
    return (1, conv.in_channels, *_STAGE_SIZE)


def maps_out(conv: Conv2d) -> int:
    """The number of output maps by PyTorch's shape rule (the spec)."""
    return conv.output_shape(stage_input(conv))[1]


def _ints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-3, 4, size=shape, dtype=np.int64)


def rank_mod_p(a: np.ndarray) -> int:
    """Rank of an integer matrix over the integers mod a prime: an exact lower bound of its rank over Q."""
    return rank_lower_bound(a)


@functools.cache
def expansion_ranks() -> dict[str, int]:
    """Ranks of the bottom layer's 256 maps over many pixels: linear, after BatchNorm, ReLU, the residual add.

    The linear output is W @ H with W of shape (C_out, C_in); it factors through C_in, so its rank is at
    most C_in, and its rank mod p is an exact lower bound. Later stages are computed on the same data.
    """
    conv = expand_layer()
    rng = np.random.default_rng(_SEED)
    w = _ints(rng, (conv.out_channels, conv.in_channels))
    h = _ints(rng, (conv.in_channels, _PIXELS))
    x = _ints(rng, (conv.out_channels, _PIXELS))  # the block's input, carried by the identity shortcut
    scale = rng.integers(1, 4, size=(conv.out_channels, 1), dtype=np.int64)  # BatchNorm folded: gamma/sigma
    shift = _ints(rng, (conv.out_channels, 1))  # beta - gamma*mu/sigma
    linear = w @ h
    bn = scale * linear + shift
    return {
        "maps": conv.out_channels,
        "pixels": _PIXELS,
        "inner_dimension": conv.in_channels,
        "linear": rank_mod_p(linear),
        "linear_upper_bound": min(w.shape[1], h.shape[0]),
        "after_batchnorm": rank_mod_p(bn),
        "after_relu": rank_mod_p(np.maximum(bn, 0)),
        "block_output": rank_mod_p(np.maximum(bn + x, 0)),
    }


# -- second paths: the NumPy engine on arrays built here, and counts read off the derived maps ----------------


def engine_output(c_in: int, c_out: int, input_size: tuple[int, int] = (1, 1), groups: int = 1) -> np.ndarray:
    """The NumPy engine's 1x1 conv of random integer maps: shape (1, c_out, H, W), exact.

    The arrays are built from the two numbers given, not from a spec, so their shapes are a second path.
    """
    rng = np.random.default_rng(_SEED)
    x = _ints(rng, (1, c_in, *input_size))
    w = _ints(rng, (c_out, c_in // groups, 1, 1))
    out: np.ndarray = numeric.conv2d(x, w, groups=groups)
    return out


def filter_sets(conv: Conv2d) -> list[frozenset[tuple[int, ...]]]:
    """The weights of each derived output map: one filter per map, as the derivation finds them."""
    d = derive(conv, (1, 1))
    return [frozenset(d.weights_of(o)) for o in range(d.output_maps)]


def pixel_function_inputs(conv: Conv2d, position: tuple[int, int] = (0, 0)) -> set[tuple[int, int, int]]:
    """The input values (i, h, w) that the derived output maps at ``position`` read, all maps together."""
    d = derive(conv, (2, 2))
    return {key for o in range(d.output_maps) for key in d.at(o, position)}


def engine_depends_only_on_pixel(conv: Conv2d) -> bool:
    """Whether conv, BatchNorm and ReLU (the NumPy engine) give the same maps at pixel (0, 0) whatever the other
    pixels hold: then the values there are a function of the C_in numbers of that pixel."""
    rng = np.random.default_rng(_SEED + 1)
    c_in, c_out = conv.in_channels, conv.out_channels
    w = _ints(rng, (c_out, c_in, 1, 1)).astype(np.float64)
    mean, var = rng.standard_normal(c_out), rng.uniform(0.5, 2.0, c_out)
    gamma, beta = rng.uniform(0.5, 1.5, c_out), rng.standard_normal(c_out)
    x = _ints(rng, (1, c_in, 2, 2)).astype(np.float64)
    other = x.copy()
    other[:, :, 1:, :] = _ints(rng, (1, c_in, 1, 2))
    other[:, :, 0, 1] = _ints(rng, (1, c_in))

    def block(v: np.ndarray) -> np.ndarray:
        out: np.ndarray = numeric.relu(numeric.batch_norm(numeric.conv2d(v, w), mean, var, gamma, beta))
        return out

    return bool(np.array_equal(block(x)[:, :, 0, 0], block(other)[:, :, 0, 0]))
