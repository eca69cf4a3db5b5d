"""Judges of the statements about how many maps a 1x1 conv makes, and from what.

Each judge computes its facts from the symbolic engine's derived maps (:mod:`verifier._claim_facts`) or from
the NumPy engine run on arrays built from the quoted numbers, and cross-checks the spec's closed form against
them (:func:`agree_closed_form`): the spec is never the evidence for itself.
"""

from __future__ import annotations

from .. import _claim_facts as facts
from ..spec import Conv2d
from ._judging import Figures, Reading, Result, agree, agree_closed_form
from ._wording import counted, how_many

__all__ = [
    "answer_how_64_to_256",
    "answer_how_256_to_64",
    "answer_reducing",
    "judge_any_number_of_maps",
    "judge_change_dimensionality",
    "judge_linear_combinations",
    "judge_n1_times_n2",
    "judge_n2_maps",
    "judge_output_per_input",
    "judge_redundant",
    "judge_same_for_reduction",
    "judge_same_scalar",
    "judge_size_256_to_64",
    "judge_yn_formula",
    "typo_265",
]


def _maps_two_ways(conv: Conv2d) -> tuple[int, int]:
    """Output maps as the derivation finds them and as the NumPy engine returns them; the closed form must agree."""
    derived = facts.derive(conv, (1, 1)).output_maps
    engine = facts.engine_output(conv.in_channels, conv.out_channels).shape[1]
    agree_closed_form(f"output maps of {conv.in_channels}->{conv.out_channels}", facts.maps_out(conv), derived)
    return derived, engine


def _reads_all(conv: Conv2d) -> tuple[list[int], list[int]]:
    """For each derived output map: how many input maps it reads, and through how many weights."""
    d = facts.derive(conv, (1, 1))
    maps = range(d.output_maps)
    return [len(d.input_maps_read(o)) for o in maps], [len(d.weights_of(o)) for o in maps]


def judge_change_dimensionality(fig: Figures) -> Result:
    found = {}
    for conv in (facts.reduce_layer(), facts.expand_layer()):
        found[conv.in_channels] = _maps_two_ways(conv)
    changed = all(derived != c_in and engine == derived for c_in, (derived, engine) in found.items())
    text = "; ".join(f"{c_in} maps in, {d} out (NumPy engine: {e})" for c_in, (d, e) in found.items())
    return (
        Reading("a 1x1 conv can change the number of maps", changed, f"the bottleneck's two 1x1 convs: {text}."),
    ), {"maps": {str(c): list(v) for c, v in found.items()}}


def judge_size_256_to_64(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    size = facts.stage_input(conv)[2:]
    out = facts.engine_output(conv.in_channels, conv.out_channels, size)
    agree_closed_form("the top layer's output shape", list(conv.output_shape(facts.stage_input(conv))), list(out.shape))
    said = (256, 64)
    maps, spatial = (conv.in_channels, out.shape[1]), (tuple(size), tuple(out.shape[2:]))
    return (
        Reading(
            "size means the number of maps",
            maps == said,
            f"the NumPy engine takes the block's {maps[0]} maps of {size[0]}x{size[1]} to {maps[1]} maps of "
            f"{out.shape[2]}x{out.shape[3]}: the number of maps goes {maps[0]} -> {maps[1]}, each map's height and "
            f"width {'stay' if spatial[0] == spatial[1] else 'change'} ({size[0]}x{size[1]} -> "
            f"{out.shape[2]}x{out.shape[3]}).",
        ),
    ), {"input_maps": maps[0], "output_maps": maps[1], "map_size_in": list(size), "map_size_out": list(out.shape[2:])}


def judge_n2_maps(fig: Figures) -> Result:
    parts, figures, ok = [], {}, True
    for conv in (facts.reduce_layer(), facts.expand_layer()):
        n1, n2 = conv.in_channels, conv.out_channels
        derived, engine = _maps_two_ways(conv)
        filters = len(facts.filter_sets(conv))
        agree(fig, f"maps-equal-filters/{n1}->{n2}/output_maps", derived)
        ok = ok and derived == engine == filters == n2
        figures[f"{n1}->{n2}"] = {"filters": filters, "derived_maps": derived, "engine_maps": engine}
        parts.append(
            f"with n1 = {n1} input maps and {filters} filters (one weight set per derived output map) the "
            f"derivation gives {derived} output maps (NumPy engine: {engine})"
        )
    return (Reading("C_in = n1, C_out = n2 filters", ok, "; ".join(parts) + "."),), figures


def judge_n1_times_n2(fig: Figures) -> Result:
    parts, figures, ok = [], {}, False
    for conv in (facts.reduce_layer(), facts.expand_layer()):
        n1, n2 = conv.in_channels, conv.out_channels
        derived, engine = _maps_two_ways(conv)
        depthwise = facts.engine_output(n1, n1 * n2, groups=n1).shape[1]
        agree(fig, f"maps-equal-filters/{n1}->{n2}/output_maps", derived)
        ok = ok or derived == n1 * n2
        figures[f"{n1}->{n2}"] = {"output_maps": derived, "engine_maps": engine, "n1_times_n2": n1 * n2}
        figures[f"{n1}->{n2}"]["depthwise_maps"] = depthwise
        parts.append(
            f"{n1}->{n2} gives {derived} output maps (NumPy engine: {engine}); n1*n2 = {n1 * n2:,} maps are what a "
            f"different layer gives, a depthwise conv with multiplier {n2} (groups={n1}: NumPy engine {depthwise:,} "
            "maps), which multiplies each input map apart and sums nothing"
        )
    return (Reading("the output has n1*n2 maps", ok, "; ".join(parts) + "."),), figures


def judge_output_per_input(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    n1, n2 = conv.in_channels, conv.out_channels
    per_filter = [sum(len(ws) for ws in d.at(o).values()) for o in range(d.output_maps)]
    products = sum(per_filter)
    maps = d.output_maps
    agree(fig, f"maps-equal-filters/{n1}->{n2}/products_before_the_sum", products)
    return (
        Reading(
            "each filter forms one product per input map",
            set(per_filter) == {n1},
            f"at each pixel, each of the {maps} filters multiplies the {n1} input maps by its own weights, forming "
            f"{counted(per_filter, 'product')} (for n2 = {n2}, n1 = {n1}: {products:,} products per pixel in all).",
        ),
        Reading(
            "those products are separate outputs",
            maps == products,
            f"each filter adds its products into one value per pixel, so the layer outputs {maps} maps, "
            f"{'as many as' if maps == products else 'not'} the {products:,} products per pixel.",
        ),
    ), {"products_per_pixel": products, "output_maps": maps, "products_per_filter": sorted(set(per_filter))}


def answer_how_64_to_256(fig: Figures) -> Result:
    conv = facts.expand_layer()
    derived, engine = _maps_two_ways(conv)
    reads, weights = _reads_all(conv)
    agree(fig, f"all-inputs/{conv.in_channels}->{conv.out_channels}/maps", derived)
    r = facts.expansion_ranks()
    agree(fig, "expansion-rank/outputs_rank", r["linear"])
    answer = (
        f"with {len(facts.filter_sets(conv))} filters of 1x1x{conv.in_channels}: output map o is "
        f"w_(o,0) x_0 + ... + w_(o,{conv.in_channels - 1}) x_{conv.in_channels - 1} at each pixel, and the "
        f"derivation gives {derived} such maps (NumPy engine: {engine}), each reading "
        f"{how_many(reads, conv.in_channels, 'input maps')} through {counted(weights, 'weight')}. The {derived} "
        f"values at a pixel are computed from {len(facts.pixel_function_inputs(conv))} input values: over "
        f"{r['pixels']} random pixels they have rank {r['linear']}."
    )
    holds = derived == engine == conv.out_channels and set(reads) == {conv.in_channels}
    return (Reading("answer", holds, answer),), {"output_maps": derived, "rank": r["linear"]}


def answer_how_256_to_64(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    derived, engine = _maps_two_ways(conv)
    reads, weights = _reads_all(conv)
    answer = (
        f"the top 1x1 conv has {len(facts.filter_sets(conv))} filters, each 1x1x{conv.in_channels}; each filter "
        f"weighs the {conv.in_channels} input values of a pixel and adds them into one value, so the layer makes "
        f"{derived} maps (NumPy engine: {engine}), each reading {how_many(reads, conv.in_channels, 'input maps')} "
        f"through {counted(weights, 'weight')}."
    )
    holds = derived == engine == conv.out_channels and set(reads) == {conv.in_channels}
    return (Reading("answer", holds, answer),), {"output_maps": derived}


def answer_reducing(fig: Figures) -> Result:
    readings, figures = answer_how_256_to_64(fig)
    r = readings[0]
    return (Reading(r.meaning, r.holds, "the same sum as for 64 -> 256: " + r.because),), figures


def judge_same_scalar(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    size = (2, 2)
    d = facts.derive(conv, size)
    derived_positions = sorted({p for _, p in d.maps})
    scalars_per_map = set()
    for o in range(d.output_maps):
        for i in range(conv.in_channels):
            weights: set[tuple[int, ...]] = set()
            for r, c in derived_positions:
                weights.update(d.at(o, (r, c)).get((i, r, c), []))
            scalars_per_map.add(len(weights))
    positions = len(derived_positions)
    return (
        Reading(
            "one scalar per (filter, input map) pair",
            scalars_per_map == {1},
            f"across all {positions} positions of a {size[0]}x{size[1]} input, each filter multiplies every "
            f"element of input map i by {counted(scalars_per_map, 'weight')}, at full width "
            f"({conv.in_channels} input maps, {d.output_maps} filters); each filter has its own scalar per map.",
        ),
    ), {"positions": positions, "distinct_weights_per_filter_and_map": sorted(scalars_per_map)}


def judge_linear_combinations(fig: Figures) -> Result:
    conv = facts.expand_layer()
    d = facts.derive(conv, (1, 1))
    maps = d.output_maps
    reads, _ = _reads_all(conv)
    linear = set(reads) == {conv.in_channels} and d.biases == 0
    return (
        Reading(
            f"{maps} linear combinations of {conv.in_channels} variables",
            linear and maps == conv.out_channels,
            f"the bottom layer's derived maps are {maps} sums of weight times input, each reading "
            f"{how_many(reads, conv.in_channels, 'input maps')} at its pixel, with {d.biases} bias terms.",
        ),
    ), {"said": 265, "output_maps": maps, "variables": conv.in_channels}


def typo_265() -> str:
    """The typo note, computed: 265 has the digits of the bottom layer's output width in another order."""
    maps = facts.expand_layer().out_channels
    same_digits = sorted("265") == sorted(str(maps))
    return (
        f"'265' is read as {maps}: the same digits in another order, and the bottom layer it describes makes {maps} "
        "maps."
        if same_digits
        else f"'265' does not have the digits of the layer's {maps} maps."
    )


def judge_yn_formula(fig: Figures) -> Result:
    conv = facts.expand_layer()
    d = facts.derive(conv, (1, 1))
    said_inputs = 64
    mismatches = 0
    for n in range(d.output_maps):
        # the formula's terms: w_{n,i} x_i for i = 1..64 (0-based here), nothing else
        formula = {(i, 0, 0): [(n, i, 0, 0)] for i in range(said_inputs)}
        if d.at(n) != formula:
            mismatches += 1
    return (
        Reading(
            "y_n before f",
            mismatches == 0 and d.biases == 0,
            f"of the {d.output_maps} derived output maps of {conv.in_channels}->{conv.out_channels}, {mismatches} "
            f"differ from w_(n,1) x_1 + ... + w_(n,{said_inputs}) x_{said_inputs} (the thread counts from 1, "
            f"the code from 0; {d.biases} bias terms); f is BatchNorm then ReLU, with the residual add before the "
            "ReLU in the bottom layer.",
        ),
    ), {"output_maps": d.output_maps, "terms_per_map": said_inputs, "mismatches": mismatches}


def judge_any_number_of_maps(fig: Figures) -> Result:
    c_in = facts.expand_layer().in_channels
    tried = (1, 2, 3, 64, 256, 265, 1000)
    by_engine = {n: facts.engine_output(c_in, n).shape[1] for n in tried}
    derived = {n: facts.derive(Conv2d(c_in, n, 1, bias=False), (1, 1)).output_maps for n in (1, 3, 265)}
    for n in tried:
        agree_closed_form(f"output maps of {c_in}->{n}", facts.maps_out(Conv2d(c_in, n, 1, bias=False)), by_engine[n])
    ok = all(by_engine[n] == n for n in tried) and all(derived[n] == n for n in derived)
    found = ", ".join(f"{n} -> {by_engine[n]}" for n in tried)
    return (
        Reading(
            "C_out is free",
            ok,
            f"from {c_in} input maps, the NumPy engine's 1x1 conv with weight arrays of n filters gives (n -> maps): "
            f"{found}; the derivation gives {', '.join(f'{n} -> {m}' for n, m in derived.items())}.",
        ),
    ), {"filters_tried": list(tried), "engine_maps": [by_engine[n] for n in tried]}


def judge_redundant(fig: Figures) -> Result:
    r = facts.expansion_ranks()
    conv = facts.expand_layer()
    agree(fig, "expansion-rank/outputs_rank", r["linear"])
    agree(fig, "expansion-rank/after_relu_rank", r["after_relu"])
    inputs = facts.pixel_function_inputs(conv)
    positions = {(h, w) for _, h, w in inputs}
    local = facts.engine_depends_only_on_pixel(conv)
    return (
        Reading(
            "redundant = linearly dependent (rank below the number of maps), the conv's output",
            r["linear"] <= r["linear_upper_bound"] < r["maps"],
            f"over {r['pixels']} random pixels the {r['maps']} maps the conv outputs have rank {r['linear']} (at most "
            f"{r['inner_dimension']}, the input width).",
        ),
        Reading(
            "redundant = linearly dependent (rank below the number of maps), after BatchNorm and ReLU",
            r["after_relu"] < r["maps"],
            f"on the same data, after BatchNorm and ReLU, the {r['maps']} maps have rank {r['after_relu']} "
            f"(the block's output, after the residual add and ReLU: rank {r['block_output']}).",
        ),
        Reading(
            "redundant = no more information than the input: the maps at a pixel are a function of C_in numbers",
            len(inputs) == conv.in_channels and len(positions) == 1 and local,
            f"at a pixel, the derived {r['maps']} maps read {len(inputs)} input values, at {len(positions)} "
            f"position(s); BatchNorm and ReLU act per map and per pixel: in the NumPy engine, changing the other "
            f"pixels {'leaves' if local else 'changes'} that pixel's {r['maps']} values after conv, BatchNorm and "
            f"ReLU{' unchanged' if local else ''}. Rank and information are different questions: rank "
            f"{r['after_relu']} after ReLU, and {len(inputs)} input values at the pixel.",
        ),
    ), {**r, "inputs_per_pixel": len(inputs)}


def judge_same_for_reduction(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    reads, _ = _reads_all(conv)
    per_input = [len(ws) for o in range(d.output_maps) for ws in d.at(o).values()]
    agree(fig, f"all-inputs/{conv.in_channels}->{conv.out_channels}/maps", d.output_maps)
    holds = d.output_maps == 64 and set(reads) == {conv.in_channels} and set(per_input) == {1}
    return (
        Reading(
            "the top layer is the same formula with n = 1..64",
            holds,
            f"the top layer has {d.output_maps} derived output maps, each reading "
            f"{how_many(reads, conv.in_channels, 'input maps')}, each through {counted(per_input, 'weight')}"
            + (": the y_n formula with n running over the output maps." if holds else "."),
        ),
    ), {"output_maps": d.output_maps, "inputs_per_map": sorted(set(reads))}
