"""The private SymPy shortcuts build exactly what SymPy's public constructors build, or are not used.

Each shortcut of :mod:`verifier.symbolic._sympy_fast` (symbols sharing one assumptions record, arrays stored
without re-sympifying, sums assembled in canonical order) is compared with SymPy's public constructor on the
same input, and each probe is shown to refuse a shortcut whose object would differ. A scan of the package's
source shows no other module touches a private attribute of a third-party object.
"""

from __future__ import annotations

import ast
import builtins
import pickle
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

from verifier.symbolic import _sympy_fast as fast
from verifier.symbolic import tensors


@pytest.mark.parametrize("maker", ["shared", "xnew"])
def test_both_symbol_makers_give_sympys_symbols(maker: str) -> None:
    make = fast._shared_assumption_symbol() if maker == "shared" else fast._xnew_symbol
    assert make is not None  # the installed SymPy keeps its assumptions as the shared maker expects
    for name in ("w_{0,0}", "x_{3,1,2}", "b_{7}"):
        made, sympys = make(name), sp.Symbol(name)
        assert type(made) is sp.Symbol and made == sympys and hash(made) == hash(sympys)
        assert made.name == name and made.is_commutative is True and made.is_real is None
        for slot in ("_assumptions0", "_assumptions_orig", "_args"):
            assert getattr(made, slot) == getattr(sympys, slot)
        assert sp.expand((made + 1) ** 2 - sympys**2) == 2 * sympys + 1


def test_the_module_uses_the_shared_maker_when_sympy_allows_it() -> None:
    assert fast.new_symbol is not fast._xnew_symbol


def _first_call_differs(monkeypatch: pytest.MonkeyPatch, slot: int) -> None:
    """Make SymPy's assumption records differ, in one of the three, on the first request only."""
    real = sp.Symbol._canonical_assumptions
    calls = []

    def canonical(**assumptions: Any) -> Any:
        records = list(real(**assumptions))
        if not calls:
            records[slot] = {"commutative": True, "real": True} if slot else sp.core.assumptions.StdFactKB({})
        calls.append(1)
        return tuple(records)

    monkeypatch.setattr(sp.Symbol, "_canonical_assumptions", staticmethod(canonical))


@pytest.mark.parametrize("slot", [0, 1])
def test_a_maker_whose_symbols_differ_from_sympys_in_any_record_is_not_used(
    monkeypatch: pytest.MonkeyPatch, slot: int
) -> None:
    # the probe then equals SymPy's symbol by name and hash, yet one of its records differs: refuse it
    _first_call_differs(monkeypatch, slot)
    assert fast._shared_assumption_symbol() is None


def test_a_sympy_without_the_records_keeps_its_public_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sp.Symbol, "_canonical_assumptions")
    assert fast._shared_assumption_symbol() is None


@pytest.mark.parametrize("name", ["w_{0,0,0,0}", "x_{12,3,4}", "b_{7}", "q"])
def test_fast_symbols_are_sympys_symbols(name):
    made, plain = fast.new_symbol(name), sp.Symbol(name)
    assert made == plain and hash(made) == hash(plain)
    assert sp.srepr(made) == sp.srepr(plain)
    assert made.assumptions0 == plain.assumptions0
    assert made.is_commutative is True and made.is_positive is None and made.is_real is None
    assert pickle.loads(pickle.dumps(made)) == plain
    assert sp.expand((made + plain) ** 2) == 4 * plain**2  # they combine as one symbol
    assert made.subs(plain, 3) == 3


def test_querying_one_fast_symbol_leaves_the_others_unchanged():
    a, b = fast.new_symbol("a_{1}"), fast.new_symbol("a_{2}")
    assert a.is_positive is None and a.is_integer is None  # queries fill the shared record with unknowns only
    assert b.is_positive is None and b == sp.Symbol("a_{2}")
    assert sp.Symbol("c", positive=True).is_positive is True  # a symbol with assumptions keeps its own


@pytest.mark.parametrize("shape", [(1,), (3, 2), (2, 3, 1, 2), (64, 2, 1, 1)])
def test_symbol_array_equals_sympys_array(shape):
    fast = tensors.symbol_grid("g", shape)
    slow = tensors.SymbolArray(list(tensors.flat_symbols("g", shape)), shape)  # through SymPy's constructor
    assert fast == slow and hash(fast) == hash(slow) and fast.args == slow.args
    assert fast == sp.ImmutableDenseNDimArray(list(tensors.flat_symbols("g", shape)), shape)
    assert fast.shape == slow.shape and fast.rank() == slow.rank() and len(fast) == len(slow)
    assert fast.tolist() == slow.tolist()
    assert list(fast) == list(slow)
    assert fast.applyfunc(lambda e: 2 * e) == slow.applyfunc(lambda e: 2 * e)


def test_symbol_array_probe_refuses_a_direct_array_that_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fast.SymbolArray._of_symbols.__func__

    def shuffled(cls: Any, flat: tuple[sp.Symbol, ...], shape: tuple[int, ...]) -> Any:
        return real(cls, tuple(reversed(flat)), shape)

    monkeypatch.setattr(fast.SymbolArray, "_of_symbols", classmethod(shuffled))
    assert fast._arrays_identical() is False
    monkeypatch.setattr(fast, "_FAST_ARRAYS", False)
    public = fast.symbol_array(tensors.flat_symbols("g", (2, 2)), (2, 2))  # the public constructor instead
    assert public.tolist() == [
        [sp.Symbol("g_{0,0}"), sp.Symbol("g_{0,1}")],
        [sp.Symbol("g_{1,0}"), sp.Symbol("g_{1,1}")],
    ]


def test_sum_probe_accepts_this_sympy_and_refuses_a_wrong_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast._sums_identical() is True and fast._FAST_SUMS is True
    real = fast._canonical_sum

    def reversed_terms(pairs: Any, bias: Any) -> Any:
        out = real(pairs, bias)
        return None if out is None else type(out)._from_args(tuple(reversed(out.args)), True)

    monkeypatch.setattr(fast, "_canonical_sum", reversed_terms)
    assert fast._sums_identical() is False
    monkeypatch.setattr(fast, "_FAST_SUMS", False)
    assert fast.canonical_sum([(sp.Symbol("w"), sp.Symbol("x"))], None) is None  # SymPy's Add builds it then


@pytest.mark.parametrize("count", [1, 2, 5])
def test_canonical_sums_are_sympys_sums_object_for_object(count: int) -> None:
    w = [sp.Symbol(f"w_{{{k}}}") for k in range(count)]
    x = [sp.Symbol(f"x_{{{count - k}}}") for k in range(count)]
    for bias in (None, sp.Symbol("b_{0}")):
        pairs = list(zip(w, x, strict=True))
        got = fast.canonical_sum(pairs, bias)
        ref = sp.Add(*[a * b for a, b in pairs], *([] if bias is None else [bias]))
        assert got == ref and got.args == ref.args and hash(got) == hash(ref)


def test_a_repeated_name_is_left_to_sympy() -> None:
    a = sp.Symbol("a")
    assert fast.canonical_sum([(a, a)], None) is None
    assert fast.canonical_sum([(a, sp.Symbol("x")), (a, sp.Symbol("x"))], None) is None


def _private_third_party_attributes(path: Path, own: set[str]) -> list[str]:
    """``obj._name`` accesses in ``path`` whose name the package never defines: another library's privates."""
    dunders = {name for kind in (object, type, int, list, dict, tuple, BaseException) for name in dir(kind)}
    dunders |= {"__name__", "__file__", "__version__", "__all__", "__wrapped__", "__annotations__", "__slots__"}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and node.attr not in own | dunders:
            found.append(f"{path}:{node.lineno}: .{node.attr}")
    return found


def test_private_third_party_attributes_are_used_in_the_fast_module_only() -> None:
    package = Path(fast.__file__).resolve().parent.parent
    fast_path = Path(fast.__file__).resolve()
    others = [p for p in sorted(package.rglob("*.py")) if p.resolve() != fast_path]
    own: set[str] = set(dir(builtins))
    for path in others:  # every name the package itself defines (functions, classes, attributes, variables)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
            elif isinstance(node, ast.alias):
                own.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.arg):
                own.add(node.arg)
    found = [hit for path in others for hit in _private_third_party_attributes(path, own)]
    assert found == []
    in_fast = _private_third_party_attributes(fast_path, own)
    assert any(".__xnew__" in hit for hit in in_fast) and any("._from_args" in hit for hit in in_fast)


class _Lookalike:
    """SymPy's own object, except in one respect: equality, hash or contents (``args``, ``assumptions0``)."""

    def __init__(self, real: Any, differs: str) -> None:
        self.real, self.differs = real, differs

    def __eq__(self, other: object) -> bool:
        return self.differs != "equality" and bool(self.real == other)

    def __hash__(self) -> int:
        return hash(self.real) + (self.differs == "hash")

    @property
    def args(self) -> Any:
        return self.real.args + ((sp.Integer(0),) if self.differs == "contents" else ())

    @property
    def assumptions0(self) -> Any:
        return {**self.real.assumptions0, **({"real": True} if self.differs == "contents" else {})}


@pytest.mark.parametrize("differs", ["nothing", "equality", "hash", "contents"])
def test_each_probe_refuses_an_object_that_differs_from_sympys_in_any_one_respect(
    monkeypatch: pytest.MonkeyPatch, differs: str
) -> None:
    """Every probe asks all three questions: an object that passes two of them and fails one is refused."""
    real_sum, real_array, real_symbol = fast._canonical_sum, fast.SymbolArray._of_symbols.__func__, fast._xnew_symbol

    def lookalike_array(cls: Any, flat: Any, shape: Any) -> Any:
        return _Lookalike(real_array(cls, flat, shape), differs)

    monkeypatch.setattr(fast, "_canonical_sum", lambda pairs, bias: _Lookalike(real_sum(pairs, bias), differs))
    monkeypatch.setattr(fast.SymbolArray, "_of_symbols", classmethod(lookalike_array))
    monkeypatch.setattr(fast, "_xnew_symbol", lambda name: _Lookalike(real_symbol(name), differs))
    accepted = differs == "nothing"
    assert fast._sums_identical() is accepted
    assert fast._arrays_identical() is accepted
    assert (fast._xnew_if_identical() is fast._xnew_symbol) is accepted


def test_sum_probe_refuses_a_bias_placed_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """SymPy puts a lone symbol before every product, whatever its name; a builder that sorts it by name is refused.

    The probe's bias is named to sort after the products' factors, so the two rules give different sums.
    """
    real = fast._canonical_sum

    def first_name(term: Any) -> str:
        return str(term.name) if term.is_Symbol else min(str(f.name) for f in term.args)

    def bias_by_name(pairs: Any, bias: Any) -> Any:
        products = real(pairs, None)
        if bias is None or products is None:
            return real(pairs, bias)
        terms = [*(products.args if products.is_Add else (products,)), bias]
        return sp.Add._from_args(tuple(sorted(terms, key=first_name)), True)

    monkeypatch.setattr(fast, "_canonical_sum", bias_by_name)
    assert fast._sums_identical() is False


def test_every_probe_accepts_the_installed_sympy() -> None:
    """On this SymPy every shortcut builds SymPy's own objects, so each probe says so and each is in use."""
    assert fast._arrays_identical() is True and fast._FAST_ARRAYS is True
    assert fast._sums_identical() is True and fast._FAST_SUMS is True
    assert fast._xnew_if_identical() is fast._xnew_symbol
    assert type(fast.symbol_array(tensors.flat_symbols("g", (2, 3)), (2, 3))) is fast.SymbolArray


def test_a_sympy_without_xnew_keeps_the_public_symbol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sp.Symbol, "__xnew__")
    assert fast._xnew_if_identical() is sp.Symbol


def test_a_probe_that_cannot_build_its_objects_refuses_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("internals changed")

    monkeypatch.setattr(fast.SymbolArray, "_of_symbols", classmethod(broken))
    monkeypatch.setattr(fast, "_canonical_sum", broken)
    assert fast._arrays_identical() is False and fast._sums_identical() is False
