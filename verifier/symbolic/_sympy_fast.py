"""SymPy's private constructors, in one place: the speed behind full-width derivations, and nothing else.

Deriving the bottleneck at full width makes hundreds of thousands of symbols, arrays of them and sums of
products. SymPy's public constructors (``Symbol(name)``, ``ImmutableDenseNDimArray(entries, shape)``,
``Add(*terms)``) check and canonicalise every argument; for distinct plain symbols that work changes nothing,
so the shortcuts here build the same objects directly from SymPy's private API.

Every shortcut is probed when this module loads against the public constructor it replaces, and is used only
if the probe gives an identical object (equal, same hash, same stored state); otherwise the public
constructor is used. No other module of the package touches a private attribute of SymPy (a test scans the
source for it): :mod:`~verifier.symbolic.tensors` and :mod:`~verifier.symbolic.derive` read as the
mathematics and call :func:`new_symbol`, :func:`symbol_array` and :func:`canonical_sum`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import sympy as sp
from sympy.core.add import Add
from sympy.core.mul import Mul

__all__ = ["SymbolArray", "canonical_sum", "new_symbol", "symbol_array"]


# -- symbols ----------------------------------------------------------------------------------------
def _xnew_symbol(name: str) -> sp.Symbol:
    """``Symbol(name)`` without SymPy's argument cache: equal (``==``, hash) to it, and faster by the thousand."""
    return sp.Symbol.__xnew__(sp.Symbol, name)


_SLOTS = ("name", "_assumptions", "_assumptions_orig", "_assumptions0", "_args", "_mhash")


def _shared_assumption_symbol() -> Callable[[str], sp.Symbol] | None:
    """A maker of plain symbols that shares one assumptions record, as SymPy's own constructor does.

    SymPy caches the canonical assumptions of ``Symbol(name)`` and gives every plain symbol the same
    records; this sets them directly, skipping the per-symbol lookup (about 2.5x faster). It is used only
    if a probe symbol made this way has exactly the state SymPy's constructor gives (otherwise None).
    """
    try:
        records, original, canonical = sp.Symbol._canonical_assumptions()
        sorted_canonical = tuple(sorted(canonical.items()))
        new = sp.Expr.__new__
        symbol = sp.Symbol

        def make(name: str) -> sp.Symbol:
            obj = new(symbol)
            obj.name = name
            obj._assumptions = records
            obj._assumptions_orig = original
            obj._assumptions0 = sorted_canonical
            return obj

        probe, reference = make("w_{0,0}"), _xnew_symbol("w_{0,0}")
        same = all(getattr(probe, slot) == getattr(reference, slot) for slot in _SLOTS)
        if same and probe == reference and hash(probe) == hash(reference):
            return make
    except Exception:  # a SymPy whose internals differ: keep its public constructor
        return None
    return None


def _xnew_if_identical() -> Callable[[str], sp.Symbol]:
    """:func:`_xnew_symbol` when it gives SymPy's symbol, else the public ``sp.Symbol``."""
    try:
        probe, reference = _xnew_symbol("w_{0,0}"), sp.Symbol("w_{0,0}")
        if probe == reference and hash(probe) == hash(reference) and probe.assumptions0 == reference.assumptions0:
            return _xnew_symbol
    except Exception:  # a SymPy without __xnew__
        pass
    public: Callable[[str], sp.Symbol] = sp.Symbol
    return public


#: ``new_symbol(name)`` equals ``sp.Symbol(name)``: a plain commutative symbol with no other assumptions.
new_symbol: Callable[[str], sp.Symbol] = _shared_assumption_symbol() or _xnew_if_identical()


# -- arrays -----------------------------------------------------------------------------------------
_SHORT = 64  # arrays with more entries than this are abbreviated in their repr


class SymbolArray(sp.ImmutableDenseNDimArray):  # type: ignore[misc]
    """A SymPy ``ImmutableDenseNDimArray`` whose integer indexing and ``tolist`` are fast at full width.

    SymPy's generic indexing parses every index symbolically, which is slow for tens of thousands of
    entries; integer tuples here go straight to the flat list. Everything else is SymPy's.
    """

    @classmethod
    def _of_symbols(cls, flat: tuple[sp.Symbol, ...], shape: tuple[int, ...]) -> SymbolArray:
        """The array SymPy's constructor builds from ``flat`` and ``shape``, without its per-entry work.

        SymPy flattens and sympifies every entry, which takes longer than creating the symbols; these
        entries are symbols already, in row-major order, so they are stored as they are.
        """
        dims = sp.Tuple(*(sp.Integer(n) for n in shape))
        entries = sp.Tuple(*flat, sympify=False)
        self = sp.Basic.__new__(cls, entries, dims)
        self._shape = dims
        self._array = list(flat)
        self._rank = len(shape)
        self._loop_size = math.prod(shape)
        return self  # type: ignore[no-any-return]

    def __getitem__(self, index: Any) -> Any:
        if type(index) is tuple and len(index) == self.rank():
            flat = 0
            for i, n in zip(index, self.shape, strict=True):
                if type(i) is not int or not 0 <= i < n:
                    return super().__getitem__(index)
                flat = flat * n + i
            return self._array[flat]
        return super().__getitem__(index)

    def __repr__(self) -> str:
        """SymPy's nested form when short; for a full-width tensor, its shape and first and last entries.

        >>> from verifier.symbolic import symbol_grid
        >>> symbol_grid("w", (64, 256, 1, 1))
        SymbolArray(shape=(64, 256, 1, 1), 16384 entries: w_{0,0,0,0}, w_{0,1,0,0}, w_{0,2,0,0}, ..., w_{63,255,0,0})
        """
        entries = self._array
        if len(entries) <= _SHORT:
            return str(super().__repr__())
        head = ", ".join(str(e) for e in entries[:3])
        return f"SymbolArray(shape={self.shape}, {len(entries)} entries: {head}, ..., {entries[-1]})"

    def tolist(self) -> list[Any]:
        """Nested lists, as SymPy's ``tolist``."""
        items: list[Any] = list(self._array)
        for n in reversed(self.shape[1:]):
            items = [items[k : k + n] for k in range(0, len(items), n)]
        return items


def _arrays_identical() -> bool:
    """Whether the direct array equals the one SymPy's constructor builds from the same symbols."""
    try:
        flat = tuple(sp.Symbol(f"q_{{{k}}}") for k in range(6))
        fast, public = SymbolArray._of_symbols(flat, (2, 3)), SymbolArray(list(flat), (2, 3))
        return bool(fast == public and hash(fast) == hash(public) and fast.args == public.args)
    except Exception:  # a SymPy whose arrays are stored differently
        return False


_FAST_ARRAYS = _arrays_identical()


def symbol_array(flat: Sequence[sp.Symbol], shape: tuple[int, ...]) -> SymbolArray:
    """The :class:`SymbolArray` of ``shape`` holding the symbols ``flat`` in row-major order."""
    if _FAST_ARRAYS:
        return SymbolArray._of_symbols(tuple(flat), shape)
    return SymbolArray(list(flat), shape)


# -- sums of products -------------------------------------------------------------------------------
def _canonical_sum(pairs: list[tuple[sp.Basic, sp.Basic]], bias: sp.Basic | None) -> sp.Expr | None:
    """bias + sum(a*b) assembled in SymPy's canonical order, or None when SymPy would combine terms.

    For distinct plain symbols SymPy orders a product's factors by name, the products of a sum by their
    factors' names, and a lone symbol before every product; nothing else happens, so the result is the
    same object SymPy's own simplifying constructor would return.
    """
    if len(pairs) == 1 and bias is None:  # a single product (depthwise convs): nothing to order but its factors
        a, b = pairs[0]
        if a.name == b.name:
            return None
        return Mul._from_args((a, b) if a.name < b.name else (b, a), True)
    keyed = []
    for a, b in pairs:
        na, nb = a.name, b.name
        if na == nb:
            return None
        keyed.append((na, nb, a, b) if na < nb else (nb, na, b, a))
    keyed.sort(key=itemgetter(0, 1))
    for prev, nxt in itertools.pairwise(keyed):
        if prev[:2] == nxt[:2]:
            return None
    terms: list[sp.Basic] = [Mul._from_args((a, b), True) for _, _, a, b in keyed]
    if bias is not None:
        terms.insert(0, bias)
    if not terms:
        return sp.Integer(0)
    if len(terms) == 1:
        return terms[0]
    return Add._from_args(terms, True)


def _sums_identical() -> bool:
    """Whether the direct sums equal SymPy's, object for object, on a probe with every branch."""
    try:
        w = [sp.Symbol(f"w_{{{k}}}") for k in range(3)]
        x = [sp.Symbol(f"x_{{{k}}}") for k in range(3)]
        b = sp.Symbol("z_{0}")  # a name after every factor's: the lone symbol must still come first
        for pairs, bias in (([(w[0], x[0])], None), (list(zip(w, x, strict=True)), b), ([(x[2], w[1])], b)):
            fast = _canonical_sum(pairs, bias)
            public = sp.Add(*[p * q for p, q in pairs], *([bias] if bias is not None else []))
            if fast is None or fast != public or fast.args != public.args or hash(fast) != hash(public):
                return False
        return True
    except Exception:  # a SymPy whose Add and Mul are built differently
        return False


_FAST_SUMS = _sums_identical()


def canonical_sum(pairs: list[tuple[sp.Basic, sp.Basic]], bias: sp.Basic | None) -> sp.Expr | None:
    """``bias + sum(a*b)`` built directly, equal object for object to SymPy's ``Add``; None to let SymPy build it.

    ``pairs`` hold plain symbols (made by :func:`new_symbol` or ``sp.Symbol``); None comes back when two of
    them share a name (SymPy would combine terms) or when this SymPy builds sums differently.
    """
    return _canonical_sum(pairs, bias) if _FAST_SUMS else None
