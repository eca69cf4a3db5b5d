"""Counts read off derived expressions: free symbols, multiplications, and coefficients of a linear form.

>>> import sympy as sp
>>> a, b, x, y = sp.symbols("a b x y")
>>> count_multiplications(a*x + b*y + 1)
2
>>> count_free_symbols([a*x, b*x])
3
>>> linear_coefficients(3 + a*x + b*y, [x, y])
(3, {x: a, y: b})
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sympy as sp
from sympy.core.mul import Mul

from .. import _validate as check
from ..errors import VerifierError, VerifierTypeError
from ..spec import Conv2d
from .derive import axis_taps
from .tensors import check_conv

__all__ = [
    "count_free_symbols",
    "count_multiplications",
    "derived_macs",
    "free_symbols",
    "linear_coefficients",
]


def _chunks(obj: Any) -> Iterable[Sequence[sp.Basic]]:
    """The expressions in ``obj`` as sequences: an array's flat entries at once, a lone expression alone."""
    if isinstance(obj, sp.Basic) and not isinstance(obj, sp.NDimArray):
        yield (obj,)
    elif obj is None:
        return
    elif isinstance(obj, sp.NDimArray):
        yield obj._array  # the flat entries
    elif isinstance(obj, (list, tuple)):
        if all(isinstance(item, sp.Basic) and not isinstance(item, sp.NDimArray) for item in obj):
            yield obj  # a flat list of expressions: one chunk
        else:
            for item in obj:
                yield from _chunks(item)
    else:
        raise VerifierError(f"expected a SymPy expression, array, or a list of them, got {type(obj).__name__}")


def free_symbols(obj: Any) -> set[sp.Symbol]:
    """The set of symbols in an expression, an array, or nested lists of them.

    >>> import sympy as sp
    >>> sorted(free_symbols([sp.Symbol("a") * sp.Symbol("x"), sp.Integer(2)]), key=str)
    [a, x]
    """
    out: set[sp.Symbol] = set()
    symbol = sp.Symbol
    for chunk in _chunks(obj):
        out.update([leaf for leaf in chunk if type(leaf) is symbol])  # a tensor of symbols: one C-level pass
        stack = [leaf for leaf in chunk if type(leaf) is not symbol]
        while stack:  # sums, products and powers bind no variable: walk them; ask anything else
            node = stack.pop()
            if type(node) in _PLAIN_NODES:
                args = node.args
                out.update([a for a in args if type(a) is symbol])
                stack.extend(a for a in args if type(a) is not symbol and not a.is_Number)
            elif not node.is_Number:
                out |= node.free_symbols
    return out


_PLAIN_NODES = (sp.Add, sp.Mul, sp.Pow)


def count_free_symbols(obj: Any) -> int:
    """How many distinct symbols occur in an expression, an array, or nested lists of them.

    >>> from verifier.symbolic import weight_tensor
    >>> count_free_symbols(weight_tensor(Conv2d(3, 2, 1)))
    6
    """
    return len(free_symbols(obj))


def count_multiplications(expr: Any) -> int:
    """Binary multiplications needed to evaluate ``expr`` as written: a product of n factors costs n - 1.

    A positive integer power ``x**n`` costs n - 1; sums, symbols and numbers cost nothing. Arrays and lists
    are summed over their entries.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> count_multiplications(2*x*y + x**3)
    4
    """
    total = 0
    stack = [leaf for chunk in _chunks(expr) for leaf in chunk if not leaf.is_Atom]
    while stack:
        node = stack.pop()
        args = node.args
        if isinstance(node, Mul):
            total += len(args) - 1
        elif isinstance(node, sp.Pow) and node.exp.is_Integer and node.exp > 1:
            total += int(node.exp) - 1
            args = (node.base,)
        for arg in args:
            if arg.is_Atom:
                continue
            if type(arg) is Mul:  # the common term of a sum, counted here rather than pushed and popped
                factors = arg.args
                total += len(factors) - 1
                for factor in factors:
                    if not factor.is_Atom:
                        stack.append(factor)
            else:
                stack.append(arg)
    return total


def linear_coefficients(
    expr: sp.Expr, variables: Iterable[sp.Symbol] | frozenset[sp.Symbol]
) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """Split an expression that is linear in ``variables`` into (constant, {variable: coefficient}).

    Read off the terms of the sum, without differentiating; the coefficient of each variable is the
    derivative of ``expr`` by it. Variables that do not occur are left out of the dict. Pass a (frozen)set
    when calling it on many expressions with the same variables.

    >>> import sympy as sp
    >>> b, w, x = sp.symbols("b w x")
    >>> linear_coefficients(b + w*x, [x])
    (b, {x: w})

    Raises:
        VerifierError: when a term is not linear in ``variables`` (a product of two of them, a power).
    """
    if not isinstance(expr, sp.Basic):  # SymPy would parse a string, running it as code
        raise VerifierTypeError(f"expr must be a SymPy expression, got {expr!r} ({type(expr).__name__})")
    wanted = variables if isinstance(variables, (set, frozenset)) else set(variables)
    constant: list[sp.Expr] = []
    coeffs: dict[sp.Symbol, sp.Expr] = {}
    repeated: dict[sp.Symbol, list[sp.Expr]] = {}  # variables met in more than one term: summed at the end

    def add(variable: sp.Symbol, coefficient: sp.Expr) -> None:
        """Record a coefficient of a variable already in ``coeffs`` (met in an earlier term)."""
        repeated.setdefault(variable, [coeffs[variable]]).append(coefficient)

    for term in sp.Add.make_args(expr):
        factors: tuple[Any, ...] = term.args if type(term) is Mul else (term,)
        if len(factors) == 2 and factors[0].is_Atom and factors[1].is_Atom:  # the common case: w * x
            a, b = factors
            if a in wanted:
                if b in wanted:
                    raise VerifierError(f"expression is not linear in the variables: term {term}")
                known = len(coeffs)
                coeffs.setdefault(a, b)  # one lookup for the usual first meeting
                if len(coeffs) == known:
                    add(a, b)
            elif b in wanted:
                known = len(coeffs)
                coeffs.setdefault(b, a)
                if len(coeffs) == known:
                    add(b, a)
            else:
                constant.append(term)
            continue
        hit = None
        rest = []
        for factor in factors:
            if factor in wanted:
                if hit is not None:
                    raise VerifierError(f"expression is not linear in the variables: term {term}")
                hit = factor
            else:
                if not factor.is_Atom and factor.free_symbols & wanted:
                    raise VerifierError(f"expression is not linear in the variables: term {term}")
                rest.append(factor)
        if hit is None:
            constant.append(term)
        else:
            coefficient = rest[0] if len(rest) == 1 else sp.Mul(*rest)
            if hit in coeffs:
                add(hit, coefficient)
            else:
                coeffs[hit] = coefficient
    for variable, parts in repeated.items():
        coeffs[variable] = sp.Add(*parts)
    return sp.Add(*constant), coeffs


def derived_macs(conv: Conv2d, input_size: Sequence[int]) -> int:
    """Products in the derived output maps over every map and position of one sample (padded zeros left out).

    Each map's products are the taps :func:`~verifier.symbolic.taps` lists, which factor as
    (C_in/groups) x (rows inside) x (columns inside); the total sums them over every output position.
    Frameworks count the padded zeros too (:meth:`Conv2d.macs`); without padding the two agree.

    >>> derived_macs(Conv2d(1, 1, 3, padding=1), (3, 3))   # 4 corners x 4 + 4 edges x 6 + centre 9
    49
    >>> Conv2d(1, 1, 3, padding=1).macs((1, 3, 3))
    81
    """
    check_conv(conv)
    h, w = check.pair_at_least("input_size", input_size, 1)
    ho, wo = conv.output_size(h, w)
    (top, _), (left, _) = conv.padding_amounts
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_pair, conv.stride_pair, conv.dilation_pair
    rows = sum(len(axis_taps(r, h, top, kh, sh, dh)) for r in range(ho))
    cols = sum(len(axis_taps(c, w, left, kw, sw, dw)) for c in range(wo))
    return conv.out_channels * conv.in_per_group * rows * cols
