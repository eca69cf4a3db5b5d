"""The derived output maps equal a plain loop over the zero-padded input, for any Conv2d."""

from __future__ import annotations

import ast
import itertools
import random
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from _arrays import peak_bytes_of_refusal as _peak_bytes_of_refusal
from _arrays import pretend_available
from hypothesis import given, settings
from hypothesis import strategies as st

import verifier
from verifier import Conv2d, VerifierError, VerifierTypeError
from verifier import symbolic as sym
from verifier.numeric import conv2d
from verifier.symbolic import (
    bias_vector,
    derive,
    input_tensor,
    output_map,
    output_maps,
    output_tensor,
    taps,
    tensors,
    weight_tensor,
)


def reference_map(conv, o, position, size, w, b, x):
    """Plain loops over an input padded with explicit zeros, summed by SymPy's ordinary constructor."""
    (top, bottom), (left, right) = conv.padding_amounts
    h, wd = size
    ch = conv.in_channels
    padded = [[[sp.Integer(0)] * (wd + left + right) for _ in range(h + top + bottom)] for _ in range(ch)]
    for c in range(ch):
        for r in range(h):
            for q in range(wd):
                padded[c][r + top][q + left] = x[c][r][q]
    kh, kw = conv.kernel_pair
    sh, sw = conv.stride_pair
    dh, dw = conv.dilation_pair
    group = o // (conv.out_channels // conv.groups)
    per = conv.in_channels // conv.groups
    total = sp.Integer(0) if b is None else b[o]
    for i in range(per):
        for u in range(kh):
            for v in range(kw):
                value = padded[group * per + i][position[0] * sh + u * dh][position[1] * sw + v * dw]
                total = total + w[o][i][u][v] * value
    return total


def symbols_as_lists(conv, size):
    w = weight_tensor(conv).tolist()
    b = None if not conv.bias else bias_vector(conv).tolist()
    x = input_tensor(conv.in_channels, *size).tolist()
    return w, b, x


@st.composite
def convs(draw):
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    same = draw(st.booleans())
    if same:
        conv = Conv2d(cin, cout, kernel, padding="same", dilation=dilation, groups=groups, bias=draw(st.booleans()))
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        conv = Conv2d(cin, cout, kernel, stride, padding, dilation, groups, draw(st.booleans()))
    extent = [d * (k - 1) + 1 for k, d in zip(conv.kernel_pair, conv.dilation_pair, strict=True)]
    size = (draw(st.integers(extent[0], extent[0] + 3)), draw(st.integers(extent[1], extent[1] + 3)))
    return conv, size


@settings(max_examples=60, deadline=None)
@given(convs(), st.data())
def test_every_output_map_equals_the_loop_over_the_zero_padded_input(case, data):
    conv, size = case
    ho, wo = conv.output_size(*size)
    o = data.draw(st.integers(0, conv.out_channels - 1))
    pos = (data.draw(st.integers(0, ho - 1)), data.draw(st.integers(0, wo - 1)))
    w, b, x = symbols_as_lists(conv, size)
    assert output_map(conv, o, pos, size) == reference_map(conv, o, pos, size, w, b, x)


@settings(max_examples=15, deadline=None)
@given(convs(), st.integers(0, 2**32 - 1))
def test_exact_numbers_give_the_loops_integer_and_rational_value(case, seed):
    conv, size = case
    rng = random.Random(seed)
    w = np.array(
        [Fraction(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(int(np.prod(conv.weight_shape)))], dtype=object
    ).reshape(conv.weight_shape)
    x = np.array([rng.randint(-9, 9) for _ in range(conv.in_channels * size[0] * size[1])], dtype=object).reshape(
        conv.in_channels, *size
    )
    b = [sp.Rational(rng.randint(-9, 9), 7) for _ in range(conv.out_channels)] if conv.bias else None
    ho, wo = conv.output_size(*size)
    for o in range(conv.out_channels):
        for r in range(ho):
            for c in range(wo):
                got = output_map(conv, o, (r, c), size, weight=w, bias=b, input=x)
                ref = reference_map(
                    conv,
                    o,
                    (r, c),
                    size,
                    [[[[sp.Rational(v.numerator, v.denominator) for v in row] for row in k] for k in f] for f in w],
                    b,
                    [[[sp.Integer(v) for v in row] for row in ch] for ch in x],
                )
                assert got == ref and isinstance(got, sp.Rational)


def test_canonical_sums_equal_what_sympy_builds_term_by_term_whatever_the_names():
    conv = Conv2d(5, 3, 2, padding=1, groups=1)
    size = (3, 3)
    for wname, xname, bname in [("w", "x", "b"), ("z", "a", "m"), ("alpha", "beta", "c")]:
        wt, xt, bt = weight_tensor(conv, wname), input_tensor(5, 3, 3, xname), bias_vector(conv, bname)
        for o in range(3):
            got = output_map(conv, o, (1, 2), size, weight=wt, bias=bt, input=xt)
            ref = reference_map(conv, o, (1, 2), size, wt.tolist(), bt.tolist(), xt.tolist())
            assert got == ref
            assert got.args == ref.args  # the same canonical object, not merely an equal one


def test_repeated_symbols_fall_back_to_sympys_own_sum():
    a, y = sp.symbols("a y")
    conv = Conv2d(2, 1, 1, bias=False)
    got = output_map(conv, 0, (0, 0), (1, 1), weight=[[[[a]], [[a]]]], input=[[[y]], [[y]]])
    assert got == 2 * a * y


def test_a_full_width_map_is_the_sum_over_all_256_input_maps():
    conv = Conv2d(256, 64, 1, bias=False)
    maps = output_maps(conv, (0, 0), (1, 1))
    assert len(maps) == 64
    assert all(len(m.args) == 256 for m in maps)
    x = [row[0][0] for row in input_tensor(256, 1, 1).tolist()]
    w = weight_tensor(conv).tolist()
    for o in (0, 17, 63):
        assert maps[o] == sp.Add(*[w[o][i][0][0] * x[i] for i in range(256)])
        assert [sp.diff(maps[o], x[i]) for i in (0, 100, 255)] == [w[o][i][0][0] for i in (0, 100, 255)]


def test_output_tensor_stacks_every_map_at_every_position():
    conv = Conv2d(2, 3, 2, stride=1, padding=0)
    t = output_tensor(conv, (3, 4))
    assert t.shape == (3, 2, 3)
    assert t[2, 1, 0] == output_map(conv, 2, (1, 0), (3, 4))


def test_taps_skip_exactly_the_padded_positions():
    conv = Conv2d(1, 1, 3, padding=1)
    corner = taps(conv, 0, (0, 0), (4, 4))
    centre = taps(conv, 0, (1, 1), (4, 4))
    assert len(corner) == 4 and len(centre) == 9
    assert all(0 <= t.h < 4 and 0 <= t.w < 4 for t in corner)


def test_positions_entirely_in_padding_leave_only_the_bias():
    conv = Conv2d(2, 1, 1, padding=1)
    assert output_map(conv, 0, (0, 0), (1, 1)) == bias_vector(conv)[0]
    assert output_map(Conv2d(2, 1, 1, padding=1, bias=False), 0, (0, 0), (1, 1)) == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"o": 4}, VerifierError, r"o must be an output map index 0\.\.3 .* got 4"),
        ({"o": -1}, VerifierError, r"o must be an int >= 0, got -1"),
        ({"o": 1.0}, VerifierTypeError, r"o must be an int >= 0, got 1\.0"),
        ({"position": (5, 0)}, VerifierError, r"position \(5, 0\) is outside the 2x2 output"),
        ({"position": 3}, VerifierError, r"position must be a pair \(row, col\), got 3"),
        ({"input_size": (0, 2)}, VerifierError, r"input_size must be a positive int or a pair of them, got \(0, 2\)"),
        ({"weight": [[1, 2]]}, VerifierError, r"weight must have shape \(4, 3, 1, 1\), got shape \(1, 2\)"),
        ({"input": "x"}, VerifierError, r"input must have shape \(3, 2, 2\)"),
        ({"bias": [1, 2, 3, 4]}, VerifierError, r"bias was given but Conv2d\(3, 4.*has bias=False"),
        ({"weight": np.full((4, 3, 1, 1), "a", dtype=object)}, VerifierTypeError, r"weight entries must be"),
    ],
)
def test_bad_arguments_name_the_parameter_and_the_value(kwargs, error, match):
    args = {"o": 0, "position": (0, 0), "input_size": (2, 2)}
    args.update(kwargs)
    conv = Conv2d(3, 4, 1, bias=False)
    with pytest.raises(error, match=match):
        output_map(conv, args.pop("o"), args.pop("position"), args.pop("input_size"), **args)


def test_a_non_conv_is_refused_by_name():
    with pytest.raises(VerifierTypeError, match=r"conv must be a verifier.Conv2d, got 3 \(int\)"):
        output_map(3, 0, (0, 0), (1, 1))  # type: ignore[arg-type]


def test_weight_and_input_are_conv2ds_names_and_no_other_names_are_taken():
    conv = Conv2d(2, 1, 1, bias=False)
    w, x = [[[[2]], [[3]]]], [[[5]], [[7]]]
    assert output_map(conv, 0, (0, 0), (1, 1), weight=w, input=x) == 2 * 5 + 3 * 7
    for wrong in ("weights", "inputs"):
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{wrong}'"):
            output_map(conv, 0, (0, 0), (1, 1), **{wrong: w})


# -- hardening: bad input, edge cases and attacks ------------------------------------------------------
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


# -- refusals come before the tap lists are built ---------------------------------------------------------------
BIG = Conv2d(1, 1, 10**9, bias=False)


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


# -- shortcuts, each against the plain route ------------------------------------------------------------
@pytest.mark.parametrize("groups", [1, 2])
def test_integer_sums_equal_the_fraction_route(groups):
    conv = Conv2d(4, 2, 3, padding=1, groups=groups)
    rng = np.random.default_rng(7)
    w = rng.integers(-(2**70) // 2**10, 2**60, size=conv.weight_shape).astype(object) * (2**20)  # beyond int64
    x = rng.integers(-9, 10, size=(4, 3, 3)).astype(object)
    b = [int(v) for v in rng.integers(-5, 5, size=2)]
    whole = output_maps(conv, (0, 2), (3, 3), weight=w, bias=b, input=x)
    halves = output_maps(  # a denominator anywhere takes the Fraction route; * 2 / 2 restores the value
        conv,
        (0, 2),
        (3, 3),
        weight=w,
        bias=[Fraction(2 * v, 2) + Fraction(1, 2) - Fraction(1, 2) for v in b],
        input=np.vectorize(lambda v: Fraction(v), otypes=[object])(x) + Fraction(1, 3) - Fraction(1, 3),
    )
    symbolic = output_maps(conv, (0, 2), (3, 3))
    values = {
        **dict(zip(tensors.flat_symbols("w", conv.weight_shape), w.ravel(), strict=True)),
        **dict(zip(tensors.flat_symbols("x", (4, 3, 3)), x.ravel(), strict=True)),
        **dict(zip(tensors.flat_symbols("b", (2,)), b, strict=True)),
    }
    by_substitution = tuple(e.xreplace({k: sp.Integer(int(v)) for k, v in values.items()}) for e in symbolic)
    assert whole == halves == by_substitution
    assert all(type(e) is sp.Integer or e.is_Integer for e in whole)


def test_user_symbols_still_take_the_checked_route():
    conv = Conv2d(2, 1, 1, bias=False)
    a = sp.Symbol("a", commutative=False)
    maps = output_maps(conv, (0, 0), (1, 1), weight=[[[[a]], [[a]]]])
    assert maps == (sp.Add(a * sp.Symbol("x_{0,0,0}"), a * sp.Symbol("x_{1,0,0}")),)


# -- size limits: refused with the estimate before anything is built ----------------------------------
def _no_memory(monkeypatch):
    """Pretend 1 MiB is available: every estimate above the small-work threshold is then refused."""
    from verifier import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 20)
    monkeypatch.setattr(memory, "SMALL", 0)


def _captured(monkeypatch):
    """Record every estimate the derivation hands to the memory guard, in bytes, with its advice."""
    seen = []

    def record(nbytes, what, *, advice="", available=None):
        seen.append((nbytes, what, advice))

    monkeypatch.setattr(derive, "ensure_fits", record)
    return seen


def test_a_huge_weight_tensor_is_refused_with_its_estimate():
    with pytest.raises(VerifierError, match=r"6,400,000,000 symbols w_\{\.\.\.\} .* needs about 1\.5 TiB"):
        weight_tensor(Conv2d(100_000_000, 64, 1))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: output_maps(c, (0, 0), (1, 1)),
        lambda c: output_tensor(c, (1, 1)),
        lambda c: output_map(c, 0, (0, 0), (1, 1), input=[[[1]]] * c.in_channels),
        lambda c: output_map(c, 0, (0, 0), (1, 1)),
    ],
    ids=["output_maps", "output_tensor", "output_map with values", "output_map"],
)
def test_every_derivation_checks_its_size_before_building(call, monkeypatch):
    _no_memory(monkeypatch)
    conv = Conv2d(300, 300, 1)
    tensors.flat_symbols.cache_clear()
    with pytest.raises(
        VerifierError, match=r"(deriving|a tensor of) .* needs about .* nothing was allocated: .*(fewer|smaller)"
    ):
        call(conv)


@pytest.mark.parametrize(
    "conv, position, size",
    [
        (Conv2d(700, 8, 1), (0, 0), (1, 1)),
        (Conv2d(40, 6, 3, padding=1, groups=2, bias=True), (0, 4), (5, 5)),
        (Conv2d(30, 4, 3, stride=2, dilation=2, padding=2), (1, 1), (7, 9)),
    ],
)
def test_a_wide_layers_single_map_equals_the_map_of_the_whole_tensors(conv, position, size, monkeypatch):
    every = output_maps(conv, position, size)
    monkeypatch.setattr(derive, "_WHOLE_TENSORS_UP_TO", 0)  # force the symbols-it-reads route
    for o in range(conv.out_channels):
        single = output_map(conv, o, position, size)
        assert single == every[o]
        assert sp.srepr(single) == sp.srepr(every[o])


def test_the_cli_refuses_a_huge_derivation_quickly_and_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "verifier", "derive", "--in", "100000000", "--out", "64", "--map", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    assert "100,000,000 products" in done.stderr and "nothing was allocated" in done.stderr


@pytest.mark.parametrize("bad", [sp.oo, -sp.oo, sp.nan, sp.zoo, sp.Symbol("t") - sp.oo])
@pytest.mark.parametrize("where", ["weight", "bias", "input"])
def test_infinite_and_undefined_sympy_entries_are_refused_by_name(bad, where):
    conv = Conv2d(2, 1, 1)
    given = {"weight": [[[[1]], [[2]]]], "bias": [3], "input": [[[4]], [[5]]]}
    flat = {"weight": lambda v: [[[[v]], [[2]]]], "bias": lambda v: [v], "input": lambda v: [[[v]], [[5]]]}
    given[where] = flat[where](bad)
    with pytest.raises(VerifierError, match=rf"{where} entries must be finite, got"):
        output_map(conv, 0, (0, 0), (1, 1), **given)


@pytest.mark.parametrize(
    "conv, size", [(Conv2d(6, 4, 3, padding=1, groups=2), (5, 7)), (Conv2d(3, 5, 1, bias=False), (2, 3))]
)
def test_the_estimate_counts_every_symbol_and_product(conv, size, monkeypatch):
    seen = _captured(monkeypatch)
    ho, wo = conv.output_size(*size)
    kh, kw = conv.kernel_pair
    weights = conv.out_channels * (conv.in_channels // conv.groups) * kh * kw
    symbols = weights + conv.in_channels * size[0] * size[1] + conv.out_channels
    per_map = (conv.in_channels // conv.groups) * kh * kw  # every tap, padding included: an upper bound

    output_maps(conv, (0, 0), size)
    output_tensor(conv, size)
    output_map(conv, 1, (0, 0), size, input=np.ones((conv.in_channels, *size), dtype=int).astype(object))
    maps = [conv.out_channels, conv.out_channels * ho * wo, 1]
    assert [n for n, _, _ in seen] == [
        symbols * tensors.SYMBOL_BYTES + m * per_map * derive.PRODUCT_BYTES for m in maps
    ]
    assert all("derive fewer maps" in advice for _, _, advice in seen)
    assert f"({symbols:,} symbols, up to {conv.out_channels * per_map:,} products)" in seen[0][1]


def test_a_single_wide_map_is_estimated_from_its_own_products(monkeypatch):
    conv = Conv2d(300, 2, 3, padding=1, bias=False)
    monkeypatch.setattr(derive, "_WHOLE_TENSORS_UP_TO", 0)
    seen = _captured(monkeypatch)
    output_map(conv, 1, (0, 0), (4, 4))  # a corner: 2 x 2 of the 3 x 3 taps lie inside the image
    products = 300 * 2 * 2
    assert seen == [
        (
            products * (derive.PRODUCT_BYTES + 2 * tensors.SYMBOL_BYTES),
            f"deriving output map 1 of {conv!r} ({products:,} products)",
            "use fewer input channels or a smaller kernel",
        )
    ]


@pytest.mark.parametrize("bias", [True, False])
def test_a_wide_single_map_has_a_bias_exactly_when_the_conv_has(bias, monkeypatch):
    monkeypatch.setattr(derive, "_WHOLE_TENSORS_UP_TO", 0)
    conv = Conv2d(5, 2, 1, bias=bias)
    expr = output_map(conv, 1, (0, 0), (1, 1))
    assert (sp.Symbol("b_{1}") in expr.free_symbols) is bias
    assert expr == output_maps(conv, (0, 0), (1, 1))[1]


def test_the_estimate_uses_both_kernel_sides(monkeypatch):
    seen = _captured(monkeypatch)
    conv = Conv2d(2, 3, (3, 1), bias=False)  # 3 rows by 1 column of taps
    output_maps(conv, (0, 0), (4, 4))
    symbols = 3 * 2 * 3 * 1 + 2 * 4 * 4 + 3  # weights, inputs, and a bias per map (counted with or without)
    assert seen[0][0] == symbols * tensors.SYMBOL_BYTES + 3 * (2 * 3 * 1) * derive.PRODUCT_BYTES
    assert seen[0][2] == "derive fewer maps (output_map derives one) or use fewer channels or a smaller input"


@pytest.mark.parametrize("position", [(0, 3), (2, 0), (2, 3)])
def test_a_position_on_or_past_the_outputs_edge_is_refused(position):
    conv = Conv2d(1, 1, 3)  # a 4x5 input gives a 2x3 output
    with pytest.raises(VerifierError, match=r"position .* is outside the 2x3 output"):
        output_map(conv, 0, position, (4, 5))


def test_halves_everywhere_are_summed_as_halves():
    from fractions import Fraction

    conv = Conv2d(2, 1, 1, bias=False)
    half = Fraction(1, 2)
    value = output_map(conv, 0, (0, 0), (1, 1), weight=[[[[half]], [[3 * half]]]], input=[[[half]], [[5 * half]]])
    assert value == sp.Rational(1, 4) + sp.Rational(15, 4)


# -- the shortcuts give what the plain path gives ----------------------------------------------------------------
def test_entries_of_mixed_exact_types_sum_to_the_value_worked_by_hand() -> None:
    conv = Conv2d(3, 1, 1, bias=False)
    weight = [[[[2]], [[sp.Rational(3, 2)]], [[Fraction(-1, 4)]]]]  # a Python int, a SymPy Rational, a Fraction
    x = [[[5]], [[7]], [[np.int64(8)]]]
    assert output_map(conv, 0, (0, 0), (1, 1), weight=weight, input=x) == sp.Rational(2 * 5 * 4 + 3 * 7 * 2 - 8, 4)


@pytest.mark.parametrize("bias", [True, False])
def test_without_the_canonical_shortcut_sympy_builds_the_same_maps(bias: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The derivation's fallback (SymPy's own Add, used when the shortcut declines) gives equal maps."""
    import verifier.symbolic.derive as derive

    conv = Conv2d(2, 2, 3, padding=1, bias=bias)
    fast = [output_map(conv, o, (0, 1), (3, 3)) for o in range(2)], output_maps(conv, (1, 1), (3, 3))
    monkeypatch.setattr(derive, "canonical_sum", lambda pairs, bias: None)
    plain = [output_map(conv, o, (0, 1), (3, 3)) for o in range(2)], output_maps(conv, (1, 1), (3, 3))
    assert plain == fast
    assert all(len(m.args) == 2 * 6 + bias for m in plain[0])  # top row: 2 maps x (2 rows x 3 columns), plus b_o
    wide = Conv2d(512, 2, 1, bias=bias)  # over 2**18 weight and input symbols: a single map makes only its own
    monkeypatch.undo()
    fast_wide = output_map(wide, 1, (3, 4), (23, 23))
    monkeypatch.setattr(derive, "canonical_sum", lambda pairs, bias: None)
    plain_wide = output_map(wide, 1, (3, 4), (23, 23))
    assert plain_wide == fast_wide and len(plain_wide.args) == 512 + bias


def test_listing_taps_is_refused_with_the_estimate_before_the_list_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend_available(monkeypatch, 64)
    conv = Conv2d(1, 1, 548, bias=False)  # 548 x 548 = 300,304 taps, about 77 MB listed
    with pytest.raises(
        VerifierError, match=r"listing the 300,304 taps of output map 0 of Conv2d\(1, 1, .* needs about"
    ):
        taps(conv, 0, (0, 0), (548, 548))
