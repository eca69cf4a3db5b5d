"""The SymPy engine refuses bad input with the project's error, and its derivations agree with the NumPy engine.

Valid convs are drawn at random; every output map at every position, derived symbolically and then
evaluated on integers, must equal the NumPy engine's integer result exactly (zero tolerance). A scan of
the package's source proves no function hands a string to SymPy's parser or to ``eval``/``exec``.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import verifier
from verifier import Conv2d, VerifierError, VerifierTypeError
from verifier import symbolic as sym
from verifier.numeric import conv2d

FAST = settings(max_examples=25, deadline=None)
PACKAGE = Path(verifier.__file__).resolve().parent
CONV = Conv2d(2, 3, 1)


# -- no parsing of strings, anywhere ----------------------------------------------------------------------
#: Functions that turn a string into code or into a SymPy expression by parsing it.
SYMPY_PARSERS = {"sympify", "parse_expr", "parse_latex", "parse_mathematica"}
#: Built-ins that run code; as attributes only of ``builtins`` (``re.compile`` is harmless).
BUILTIN_RUNNERS = {"eval", "exec", "compile", "__import__"}
PARSERS = SYMPY_PARSERS | BUILTIN_RUNNERS


def _parser_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls of a parser (by name or attribute), and calls of ``S(...)`` on anything but a number literal."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            name, owner = func.id, None
        elif isinstance(func, ast.Attribute):
            name, owner = func.attr, func.value.id if isinstance(func.value, ast.Name) else ""
        else:
            continue
        if name in SYMPY_PARSERS or (name in BUILTIN_RUNNERS and owner in (None, "builtins")):
            found.append((node.lineno, name))
        elif name == "S" and not all(
            isinstance(arg, ast.Constant) and isinstance(arg.value, (int, float)) for arg in node.args
        ):
            found.append((node.lineno, "S"))
    return found


def _imported_parsers(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.extend((node.lineno, a.name) for a in node.names if a.name in PARSERS or a.name == "S")
    return found


def test_no_module_parses_strings_or_evaluates_code() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10 and PACKAGE / "spec.py" in files
    offenders = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        hits = _parser_calls(tree) + _imported_parsers(tree)
        if hits:
            offenders[str(path.relative_to(PACKAGE))] = hits
    assert offenders == {}


def test_the_scan_would_catch_each_kind_of_parser_call() -> None:
    source = "\n".join(
        [
            "import sympy as sp",
            "from sympy import sympify",
            "sp.sympify(user)",
            "eval(user)",
            "exec(user)",
            "sp.S(user)",
            "sp.parsing.sympy_parser.parse_expr(user)",
            "sp.S(2)",  # a number literal is harmless
            "re.compile(pattern)",  # so is a regular expression
            "builtins.compile(user, 'f', 'exec')",
        ]
    )
    tree = ast.parse(source)
    assert [name for _, name in _parser_calls(tree)] == ["sympify", "eval", "exec", "S", "parse_expr", "compile"]
    assert [name for _, name in _imported_parsers(tree)] == ["sympify"]


@pytest.mark.parametrize("name", ["1x", "x y", "__import__('os')", "x+1", "", "x_1", "w'"])
def test_symbol_names_are_plain_identifiers_only(name: str) -> None:
    message = f"name must be a letter followed by letters or digits, or a LaTeX command like '\\gamma', got {name!r}"
    with pytest.raises(VerifierError, match=re.escape(message)):
        sym.weight_tensor(CONV, name=name)
    with pytest.raises(VerifierError, match=re.escape(message)):
        sym.input_tensor(1, 1, 1, name=name)


@pytest.mark.parametrize("name", [3, None, b"w", ["w"]])
def test_symbol_names_must_be_strings(name: Any) -> None:
    with pytest.raises(VerifierTypeError, match=re.escape(f"name must be a str, got {name!r} ({type(name).__name__})")):
        sym.weight_tensor(CONV, name=name)


# -- bad arguments -------------------------------------------------------------------------------------
@pytest.mark.parametrize("conv", ["conv", None, 3, (2, 3, 1)])
def test_every_entry_point_wants_a_conv_spec(conv: Any) -> None:
    message = f"conv must be a verifier.Conv2d, got {conv!r} ({type(conv).__name__})"
    for call in (
        lambda: sym.weight_tensor(conv),
        lambda: sym.bias_vector(conv),
        lambda: sym.output_map(conv, 0, (0, 0), (1, 1)),
        lambda: sym.output_maps(conv, (0, 0), (1, 1)),
        lambda: sym.output_tensor(conv, (1, 1)),
        lambda: sym.taps(conv, 0, (0, 0), (1, 1)),
        lambda: sym.derived_macs(conv, (1, 1)),
    ):
        with pytest.raises(VerifierTypeError, match=re.escape(message)):
            call()


@FAST
@given(
    parameter=st.sampled_from(["channels", "height", "width"]),
    value=st.one_of(st.integers(max_value=0), st.floats(), st.booleans(), st.text(max_size=2), st.none()),
)
def test_input_tensor_sizes_must_be_positive_ints(parameter: str, value: Any) -> None:
    sizes: dict[str, Any] = {"channels": 1, "height": 1, "width": 1, parameter: value}
    with pytest.raises(VerifierError) as info:
        sym.input_tensor(**sizes)
    assert str(info.value).startswith(f"{parameter} must be a positive int, got {value!r}")


@FAST
@given(o=st.integers(-5, 10), row=st.integers(-2, 4), col=st.integers(-2, 4))
def test_output_map_indices_are_checked_and_named(o: int, row: int, col: int) -> None:
    conv = Conv2d(2, 3, 2)  # a 2x2 kernel on a 3x4 input: 2x3 outputs
    call = lambda: sym.output_map(conv, o, (row, col), (3, 4))  # noqa: E731
    if o < 0:
        message = f"o must be an int >= 0, got {o}"
    elif o > 2:
        message = f"o must be an output map index 0..2 of {conv!r}, got {o}"
    elif row < 0:
        message = f"position[0] must be an int >= 0, got {row}"
    elif col < 0:
        message = f"position[1] must be an int >= 0, got {col}"
    elif row > 1 or col > 2:
        message = f"position {(row, col)} is outside the 2x3 output of {conv!r} on a 3x4 input (rows 0..1, cols 0..2)"
    else:
        assert len(sp.Add.make_args(call())) == 2 * 2 * 2 + 1
        return
    with pytest.raises(VerifierError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("position", [(0, 0, 0), "ab", 0, None, (0,)])
def test_a_position_must_be_a_pair(position: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"position must be a pair (row, col), got {position!r}")):
        sym.output_map(CONV, 0, position, (1, 1))


@pytest.mark.parametrize("size", [(0, 1), -1, (1, 2, 3), "3x3", 1.5])
def test_an_input_size_must_be_positive(size: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("input_size must be a positive int or a pair of them, got")):
        sym.output_map(CONV, 0, (0, 0), size)
    with pytest.raises(VerifierError, match=re.escape("input_size must be a positive int or a pair of them, got")):
        sym.derived_macs(CONV, size)


def test_a_kernel_larger_than_the_input_is_refused() -> None:
    message = "input height 2 (padded to 2) is smaller than the dilated kernel's extent 3"
    with pytest.raises(VerifierError, match=re.escape(message)):
        sym.output_map(Conv2d(1, 1, 3), 0, (0, 0), (2, 2))


@pytest.mark.parametrize("bad", ["1", True, None, 1j, [1]])
@pytest.mark.parametrize("which", ["weight", "bias", "input"])
def test_supplied_entries_must_be_exact_numbers_or_expressions(bad: Any, which: str) -> None:
    values: dict[str, Any] = {
        "weight": np.ones((3, 2, 1, 1), dtype=object),
        "bias": np.ones(3, dtype=object),
        "input": np.ones((2, 1, 1), dtype=object),
    }
    target = values[which]
    target.flat[0] = bad
    message = f"{which} entries must be int, Fraction or SymPy numbers/expressions, got {bad!r} ({type(bad).__name__})"
    with pytest.raises(VerifierError, match="^" + re.escape(message)):
        sym.output_map(CONV, 0, (0, 0), (1, 1), **values)


@pytest.mark.parametrize(
    ("which", "value", "shape"),
    [("weight", [[1, 2]], "(3, 2, 1, 1)"), ("bias", [1, 2], "(3,)"), ("input", [[[1]]], "(2, 1, 1)")],
)
def test_supplied_tensors_must_have_the_conv_shape(which: str, value: Any, shape: str) -> None:
    with pytest.raises(VerifierError, match=re.escape(f"{which} must have shape {shape}")):
        sym.output_map(CONV, 0, (0, 0), (1, 1), **{which: value})


def test_a_bias_for_a_conv_without_one_is_refused() -> None:
    conv = Conv2d(2, 3, 1, bias=False)
    with pytest.raises(VerifierError, match=re.escape(f"bias was given but {conv!r} has bias=False")):
        sym.output_map(conv, 0, (0, 0), (1, 1), bias=[1, 2, 3])


def test_rank_input_must_be_a_2d_integer_matrix() -> None:
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers: invalid literal")):
        sym.rank_lower_bound([["a"]])
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers, got 3 dimensions")):
        sym.rank_lower_bound([[[1]]])
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers, got 1 dimensions")):
        sym.rank_lower_bound([])


def test_counting_wants_sympy_objects() -> None:
    for value in (3, "x", 2.5, {"x": 1}):
        message = f"expected a SymPy expression, array, or a list of them, got {type(value).__name__}"
        with pytest.raises(VerifierError, match=re.escape(message)):
            sym.count_multiplications(value)
        with pytest.raises(VerifierError, match=re.escape(message)):
            sym.count_free_symbols([sp.Symbol("x"), value])


def test_a_nonlinear_term_is_refused_by_name() -> None:
    x, y = sp.symbols("x y")
    for expr in (x**2, x * y + 1, sp.sin(x)):
        with pytest.raises(VerifierError, match=re.escape("expression is not linear in the variables: term")):
            sym.linear_coefficients(expr, [x, y])


# -- valid convs: derived maps evaluated exactly equal the NumPy engine ---------------------------------------
@st.composite
def small_convs(draw: Any) -> tuple[Conv2d, tuple[int, int]]:
    groups = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if draw(st.booleans()):
        stride: Any = 1
        padding: Any = draw(st.sampled_from(["same", "valid", 1, (0, 2)]))
    else:
        stride = (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    conv = Conv2d(
        groups * draw(st.integers(1, 2)),
        groups * draw(st.integers(1, 2)),
        (kh, kw),
        stride,
        padding,
        dilation,
        groups,
        draw(st.booleans()),
    )
    (top, bottom), (left, right) = conv.padding_amounts
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - top - bottom), 5))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - left - right), 5))
    return conv, (h, w)


def _numeric_args(conv: Conv2d) -> dict[str, Any]:
    return {"stride": conv.stride, "padding": conv.padding, "dilation": conv.dilation, "groups": conv.groups}


@settings(max_examples=30, deadline=None)
@given(case=small_convs(), seed=st.integers(0, 2**32 - 1))
def test_every_derived_map_evaluated_exactly_equals_the_numeric_engine(
    case: tuple[Conv2d, tuple[int, int]], seed: int
) -> None:
    conv, (h, w) = case
    rng = np.random.default_rng(seed)
    x = rng.integers(-50, 51, (conv.in_channels, h, w))
    weight = rng.integers(-50, 51, conv.weight_shape)
    bias = rng.integers(-50, 51, conv.out_channels) if conv.bias else None
    numeric = conv2d(x, weight, bias, **_numeric_args(conv))
    assert numeric.shape == conv.output_shape((conv.in_channels, h, w))
    values = {"weight": weight, "bias": bias, "input": x}
    evaluated = sym.output_tensor(conv, (h, w), **values)
    assert evaluated.tolist() == numeric.tolist()
    # The symbolic derivation, with the numbers substituted afterwards, gives the same.
    substitution = dict(zip(sym.weight_tensor(conv)._array, [sp.Integer(int(v)) for v in weight.ravel()], strict=True))
    substitution |= dict(
        zip(sym.input_tensor(conv.in_channels, h, w)._array, map(sp.Integer, x.ravel().tolist()), strict=True)
    )
    if bias is not None:
        substitution |= dict(zip(sym.bias_vector(conv)._array, map(sp.Integer, bias.tolist()), strict=True))  # type: ignore[union-attr]
    ho, wo = numeric.shape[1:]
    for o, r, c in itertools.product(range(conv.out_channels), range(ho), range(wo)):
        derived = sym.output_map(conv, o, (r, c), (h, w))
        assert derived.xreplace(substitution) == int(numeric[o, r, c]), (conv, o, r, c)


@settings(max_examples=30, deadline=None)
@given(case=small_convs())
def test_each_derived_map_has_one_product_per_tap_inside_the_image(case: tuple[Conv2d, tuple[int, int]]) -> None:
    conv, (h, w) = case
    (top, _), (left, _) = conv.padding_amounts
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_pair, conv.stride_pair, conv.dilation_pair
    ho, wo = conv.output_size(h, w)
    total = 0
    for o, r, c in itertools.product(range(conv.out_channels), range(ho), range(wo)):
        expr = sym.output_map(conv, o, (r, c), (h, w))
        inside = [
            (u, v)
            for u in range(kh)
            for v in range(kw)
            if 0 <= r * sh - top + u * dh < h and 0 <= c * sw - left + v * dw < w
        ]
        products = conv.in_per_group * len(inside)
        total += products
        assert sym.count_multiplications(expr) == products
        assert sym.count_free_symbols(expr) == 2 * products + (1 if conv.bias else 0)
        group = o // conv.out_per_group
        channels = {int(s.name.split("{")[1].split(",")[0]) for s in expr.free_symbols if s.name.startswith("x_")}
        assert channels <= set(range(group * conv.in_per_group, (group + 1) * conv.in_per_group))
        assert len(sym.taps(conv, o, (r, c), (h, w))) == products
    assert sym.derived_macs(conv, (h, w)) == total


@FAST
@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 5),
    rank=st.integers(0, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_rank_modulo_a_prime_equals_sympys_rational_rank_on_small_matrices(
    rows: int, cols: int, rank: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    k = min(rank, rows, cols)
    matrix = rng.integers(-9, 10, (rows, k)) @ rng.integers(-9, 10, (k, cols)) if k else np.zeros((rows, cols), int)
    assert sym.rank_lower_bound(matrix) == sp.Matrix(matrix.tolist()).rank()
    assert sym.rank_lower_bound(matrix.tolist()) == sym.rank_lower_bound(matrix.astype(object))


@settings(max_examples=30, deadline=None)
@given(case=small_convs())
def test_taps_list_exactly_the_enumerated_products_of_each_map(case: tuple[Conv2d, tuple[int, int]]) -> None:
    conv, (h, w) = case
    (top, _), (left, _) = conv.padding_amounts
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_pair, conv.stride_pair, conv.dilation_pair
    ho, wo = conv.output_size(h, w)
    for o, r, c in itertools.product(range(conv.out_channels), range(ho), range(wo)):
        group = o // conv.out_per_group
        expected = [
            (o, i, u, v, group * conv.in_per_group + i, r * sh - top + u * dh, c * sw - left + v * dw)
            for i in range(conv.in_per_group)
            for u in range(kh)
            for v in range(kw)
            if 0 <= r * sh - top + u * dh < h and 0 <= c * sw - left + v * dw < w
        ]
        got = [(t.o, t.i, t.u, t.v, t.channel, t.h, t.w) for t in sym.taps(conv, o, (r, c), (h, w))]
        assert got == expected
        assert all(type(v) is int for tap in got for v in tap)


def test_symbols_mixed_with_exact_and_float_numbers_keep_every_coefficient() -> None:
    from fractions import Fraction

    conv = Conv2d(2, 1, 1, bias=False)
    w0, w1 = sym.weight_tensor(conv)[0, 0, 0, 0], sym.weight_tensor(conv)[0, 1, 0, 0]
    exact = sym.output_map(conv, 0, (0, 0), (1, 1), input=[[[Fraction(2, 3)]], [[Fraction(-5, 7)]]])
    assert exact == sp.Rational(2, 3) * w0 - sp.Rational(5, 7) * w1
    floats = sym.output_map(conv, 0, (0, 0), (1, 1), input=[[[0.5]], [[-2.25]]])
    assert floats == sp.Float(0.5) * w0 + sp.Float(-2.25) * w1
    assert floats.coeff(w0) == sp.Float(0.5) and floats.coeff(w1) == sp.Float(-2.25)


@settings(max_examples=30, deadline=None)
@given(case=small_convs())
def test_derived_maps_are_the_very_expressions_sympy_builds_term_by_term(case: tuple[Conv2d, tuple[int, int]]) -> None:
    conv, (h, w) = case
    weights, inputs = sym.weight_tensor(conv), sym.input_tensor(conv.in_channels, h, w)
    bias = sym.bias_vector(conv)
    ho, wo = conv.output_size(h, w)
    for o, r, c in itertools.product(range(conv.out_channels), range(ho), range(wo)):
        products = [
            weights[t.o, t.i, t.u, t.v] * inputs[t.channel, t.h, t.w] for t in sym.taps(conv, o, (r, c), (h, w))
        ]
        built = sp.Add(*products, *([bias[o]] if bias is not None else []))  # SymPy's own canonical construction
        derived = sym.output_map(conv, o, (r, c), (h, w))
        assert derived.args == built.args and derived == built and hash(derived) == hash(built)
        assert all(node.is_commutative is True for node in sp.preorder_traversal(derived))


@pytest.mark.parametrize("position", [(7, 7), (8, 8), (0, 9), (9, 0)])
def test_canonical_order_holds_where_indices_gain_a_digit(position: tuple[int, int]) -> None:
    conv = Conv2d(12, 2, 3, bias=True)  # inputs x_{11,10,9}, weights w_{1,11,2,2}: names whose string order differs
    weights, inputs, bias = sym.weight_tensor(conv), sym.input_tensor(12, 12, 12), sym.bias_vector(conv)
    assert bias is not None
    for o in range(2):
        taps = sym.taps(conv, o, position, (12, 12))
        built = sp.Add(bias[o], *[weights[t.o, t.i, t.u, t.v] * inputs[t.channel, t.h, t.w] for t in taps])
        derived = sym.output_map(conv, o, position, (12, 12))
        assert derived.args == built.args and derived == built


def test_a_single_product_map_is_sympys_own_product() -> None:
    conv = Conv2d(3, 3, 1, groups=3, bias=False)  # depthwise 1x1: each map is one product
    for o in range(3):
        derived = sym.output_map(conv, o, (0, 1), (2, 2))
        built = sym.weight_tensor(conv)[o, 0, 0, 0] * sym.input_tensor(3, 2, 2)[o, 0, 1]
        assert derived.args == built.args and derived == built
        assert derived.is_commutative is True and all(a.is_commutative for a in derived.args)


@pytest.mark.parametrize(("position", "name", "value"), [((-1, 0), "position[0]", -1), ((0, -3), "position[1]", -3)])
def test_a_negative_position_names_its_coordinate(position: tuple[int, int], name: str, value: int) -> None:
    with pytest.raises(VerifierError, match="^" + re.escape(f"{name} must be an int >= 0, got {value}") + "$"):
        sym.output_map(CONV, 0, position, (1, 1))


def test_numpy_integers_and_sympy_rationals_among_supplied_values_count_exactly() -> None:
    conv = Conv2d(2, 2, 1)
    weights = np.empty((2, 2, 1, 1), dtype=object)
    weights[...] = [[[[np.int64(3)]], [[sp.Rational(1, 2)]]], [[[np.int32(-2)]], [[sp.Integer(5)]]]]
    inputs = np.empty((2, 1, 1), dtype=object)
    inputs[...] = [[[np.int16(7)]], [[sp.Rational(-4, 3)]]]
    bias = [np.int64(1), sp.Rational(1, 3)]
    maps = sym.output_maps(conv, (0, 0), (1, 1), weight=weights, bias=bias, input=inputs)
    assert maps == (
        1 + 3 * 7 + sp.Rational(1, 2) * sp.Rational(-4, 3),
        sp.Rational(1, 3) - 2 * 7 + 5 * sp.Rational(-4, 3),
    )
    assert maps == tuple(
        sym.output_map(conv, o, (0, 0), (1, 1), weight=weights, bias=bias, input=inputs) for o in range(2)
    )


def test_symbols_mixed_with_numbers_keep_the_bias() -> None:
    conv = Conv2d(2, 2, 1)
    w = sym.weight_tensor(conv)
    b = sym.bias_vector(conv)
    assert b is not None
    for o in range(2):
        derived = sym.output_map(conv, o, (0, 0), (1, 1), input=[[[2]], [[-3]]])
        assert derived == b[o] + 2 * w[o, 0, 0, 0] - 3 * w[o, 1, 0, 0]
    given = sym.output_maps(conv, (0, 0), (1, 1), bias=[7, sp.Symbol("beta")], input=[[[1]], [[1]]])
    assert given == (7 + w[0, 0, 0, 0] + w[0, 1, 0, 0], sp.Symbol("beta") + w[1, 0, 0, 0] + w[1, 1, 0, 0])


# -- strings never reach SymPy's parser; non-finite and non-integer values are refused -------------------------
POISON = "__import__('builtins').__dict__.__setitem__('VERIFIER_POISONED', 1) or x"


def _public_callables() -> list[tuple[str, Any]]:
    import inspect

    import verifier.claims
    import verifier.crosscheck
    import verifier.models
    import verifier.numeric
    import verifier.theorems

    modules = [
        verifier,
        sym,
        verifier.numeric,
        verifier.models,
        verifier.crosscheck,
        verifier.theorems,
        verifier.claims,
    ]
    found = []
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            exception = inspect.isclass(obj) and issubclass(obj, BaseException)
            # check_all and judge_all take no user values, and would run every check
            if callable(obj) and not exception and name not in ("check_all", "judge_all"):
                found.append((f"{module.__name__}.{name}", obj))
    return found


def test_no_public_function_evaluates_a_string_it_is_given() -> None:
    import builtins
    import contextlib
    import inspect

    calls = 0
    for _, func in _public_callables():
        try:
            parameters = inspect.signature(func).parameters.values()
        except (TypeError, ValueError):
            continue
        required = [
            p for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        width = max(1, len(required))
        for fill in (sp.Symbol("x"), [sp.Symbol("x")], 1):
            for k in range(width):
                with contextlib.suppress(Exception):  # any refusal is fine; running the string is not
                    func(*[POISON if i == k else fill for i in range(width)])
                calls += 1
    assert calls > 100
    assert not hasattr(builtins, "VERIFIER_POISONED")


@pytest.mark.parametrize(
    "call",
    [lambda: sym.linear_coefficients(POISON, [sp.Symbol("x")]), lambda: sym.jacobian([POISON], [sp.Symbol("x")])],
)
def test_linear_forms_refuse_strings_by_type(call: Any) -> None:
    with pytest.raises(VerifierTypeError, match=re.escape("expr must be a SymPy expression, got ")):
        call()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), sp.nan, sp.oo, sp.zoo, np.float32("nan")])
@pytest.mark.parametrize("which", ["weight", "bias", "input"])
def test_non_finite_supplied_values_are_refused(bad: Any, which: str) -> None:
    values: dict[str, Any] = {
        "weight": np.ones((3, 2, 1, 1), dtype=object),
        "bias": np.ones(3, dtype=object),
        "input": np.ones((2, 1, 1), dtype=object),
    }
    values[which].flat[-1] = bad
    with pytest.raises(VerifierError, match="^" + re.escape(f"{which} entries must be finite, got ")):
        sym.output_tensor(CONV, (1, 1), **values)


@pytest.mark.parametrize("rows", [[[0.5]], [[1, 2], [3.25, 4]], [["2"]], [[sp.Rational(1, 2)]]])
def test_rank_refuses_non_integers_instead_of_truncating_them(rows: Any) -> None:
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers: ")):
        sym.rank_lower_bound(rows)


def test_rank_accepts_integers_in_any_clothing() -> None:
    assert sym.rank_lower_bound([[2.0, 4.0], [1.0, 2.0]]) == 1
    assert sym.rank_lower_bound(sp.Matrix([[1, 0], [0, 1]])) == 2
    assert sym.rank_lower_bound([[sp.Integer(3), 0], [0, 10**30]]) == 2


def test_a_ragged_matrix_is_refused_with_the_projects_error() -> None:
    with pytest.raises(VerifierError, match=re.escape("rows must be a 2-D matrix of integers: ")):
        sym.rank_lower_bound([[1, 2], [3]])


# -- names are matched whole ------------------------------------------------------------------------------------
@FAST
@given(
    name=st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,4}", fullmatch=True), st.sampled_from(["\\gamma", "\\beta"])),
    tail=st.sampled_from(["\n", " ", "\t", "\r\n", "\x00", "_"]),
)
def test_a_name_with_anything_after_it_is_refused(name: str, tail: str) -> None:
    assert sym.input_tensor(1, 1, 1, name=name)[0, 0, 0] == sp.Symbol(f"{name}_{{0,0,0}}")
    with pytest.raises(VerifierError, match=re.escape(f"got {name + tail!r}")):
        sym.input_tensor(1, 1, 1, name=name + tail)


# -- refusals come before the tap lists are built ---------------------------------------------------------------
def _peak_bytes_of_refusal(call: Any) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(VerifierError, match="needs about"):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


BIG = Conv2d(1, 1, 10**9, bias=False)


@pytest.mark.parametrize(
    "call",
    [
        lambda: sym.output_map(BIG, 0, (0, 0), (10**9, 10**9)),
        lambda: sym.taps(BIG, 0, (0, 0), (10**9, 10**9)),
        lambda: sym.output_map(Conv2d(1, 1, (1, 10**9), bias=False), 0, (0, 0), (10**5, 10**9)),
    ],
    ids=["output_map", "taps", "output_map-wide"],
)
def test_a_huge_kernel_is_refused_with_the_estimate_before_its_taps_are_listed(call: Any) -> None:
    assert _peak_bytes_of_refusal(call) < 2**20


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 6),
    s=st.integers(1, 3),
    d=st.integers(1, 3),
    p=st.integers(0, 3),
    size=st.integers(1, 9),
    data=st.data(),
)
def test_the_counted_taps_are_the_listed_taps(k: int, s: int, d: int, p: int, size: int, data: Any) -> None:
    from verifier.symbolic.derive import _tap_count

    conv = Conv2d(2, 1, k, stride=s, padding=p, dilation=d, bias=False)
    try:
        ho, wo = conv.output_size(size, size)
    except VerifierError:
        return
    pos = (data.draw(st.integers(0, ho - 1)), data.draw(st.integers(0, wo - 1)))
    # the plain definition: every (channel, u, v) whose input row and column land inside the image
    inside = [
        (i, u, v)
        for i in range(2)
        for u in range(k)
        for v in range(k)
        if 0 <= pos[0] * s - p + u * d < size and 0 <= pos[1] * s - p + v * d < size
    ]
    assert _tap_count(conv, pos, (size, size)) == len(inside)
    assert [(t.i, t.u, t.v) for t in sym.taps(conv, 0, pos, (size, size))] == inside


def test_derive_on_the_command_line_refuses_a_huge_kernel_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    from verifier.cli import main

    assert main(["derive", "--kernel", "1000000000"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "needs about" in err and "MemoryError" not in err
