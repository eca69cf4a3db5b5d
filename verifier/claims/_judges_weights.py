"""Judges of the statements about weights and filters.

"Filter" has one meaning here (see :data:`verifier.claims.FILTER_POLICY`): the 1x1xC_in stack of weights that
makes one output map. Filters are counted as the derived output maps' weight sets; weights as the distinct
weight symbols the derived maps contain; the closed forms of the spec are checked against those counts.
"""

from __future__ import annotations

from .. import _claim_facts as facts
from ._judging import Figures, Reading, Result, agree, agree_closed_form
from ._wording import counted, how_many

__all__ = [
    "answer_what_is_w",
    "judge_1x1xc_filter",
    "judge_1x1xcx64",
    "judge_64x256_filters",
    "judge_256_weights_per_output",
    "judge_c_parameters",
    "judge_different_filter_per_channel",
    "judge_different_weights",
    "judge_how_256_weights",
    "judge_input_has_256",
    "judge_not_64_filters",
    "judge_one_parameter_per_input_map",
    "judge_randomly_selected",
    "judge_same_weights_for_all",
    "judge_single_parameter",
    "judge_single_parameter_assumed",
    "judge_subscript_of_yn",
]


def _filters() -> tuple[int, list[int], int]:
    """The top layer's filters (derived weight sets), the weights in each, and the distinct weights in all."""
    conv = facts.reduce_layer()
    sets = facts.filter_sets(conv)
    weights = len(set().union(*sets))
    agree_closed_form("weights of the top layer", conv.weight_count, weights)
    agree_closed_form("filters of the top layer", conv.weight_shape[0], len(sets))
    return len(sets), [len(s) for s in sets], weights


def judge_one_parameter_per_input_map(fig: Figures) -> Result:
    parts, ok, figures = [], True, {}
    for conv in (facts.reduce_layer(), facts.expand_layer()):
        d = facts.derive(conv, (1, 1))
        counts = [len(ws) for o in range(d.output_maps) for ws in d.at(o).values()]
        agree_closed_form(f"weights of {conv.in_channels}->{conv.out_channels}", conv.weight_count, sum(counts))
        ok = ok and set(counts) == {1}
        figures[f"{conv.in_channels}->{conv.out_channels}"] = {"weights_per_input_map": sorted(set(counts))}
        parts.append(
            f"in every filter of {conv.in_channels}->{conv.out_channels}, each input map is multiplied by "
            f"{counted(counts, 'weight')}"
        )
    return (Reading("one weight per input map in each 1x1xC_in filter", ok, "; ".join(parts) + "."),), figures


def answer_what_is_w(fig: Figures) -> Result:
    conv = facts.expand_layer()
    d = facts.derive(conv, (1, 1))
    off_row = sum(1 for n in range(d.output_maps) for w in d.weights_of(n) if w[0] != n)
    off_col = sum(1 for n in range(d.output_maps) for (i, _, _), ws in d.at(n).items() for w in ws if w[1] != i)
    answer = (
        "The weight w^n_i, written w_(n,i) in the answer, is the one that multiplies input map x_i in output map "
        f"y_n. In the derived maps of {conv.in_channels}->{conv.out_channels}, {off_row} weights of y_n come from "
        f"another output map's row of the weight tensor and {off_col} multiply another input map than their "
        f"column; the maps hold {len(set().union(*map(d.weights_of, range(d.output_maps)))):,} different weights "
        f"({d.output_maps} x {conv.in_channels} = {d.output_maps * conv.in_channels:,})."
    )
    return (Reading("answer", off_row == off_col == 0, answer),), {"off_row": off_row, "off_column": off_col}


def judge_same_weights_for_all(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    sets = facts.filter_sets(conv)
    shared = len(set.intersection(*map(set, sets)))
    return (
        Reading(
            "one set of weights w_i shared by every output map",
            len(set(sets)) == 1,
            f"the {len(sets)} derived output maps have {len(set(sets))} different sets of weights, and "
            f"{shared} weights are common to all of them.",
        ),
    ), {"weight_sets": len(set(sets)), "common_to_all": shared}


def judge_subscript_of_yn(fig: Figures) -> Result:
    conv = facts.expand_layer()
    d = facts.derive(conv, (1, 1))
    off = sum(1 for n in range(d.output_maps) for w in d.weights_of(n) if w[0] != n)
    total = sum(len(d.weights_of(n)) for n in range(d.output_maps))
    return (
        Reading(
            "the n of w_(n,i) is the index of the output map y_n",
            off == 0,
            f"of the {total:,} weights in the {d.output_maps} derived output maps, {off} sit outside the row of the "
            "weight tensor named by the output map's own index n.",
        ),
    ), {"weights": total, "outside_own_row": off}


def judge_different_weights(fig: Figures) -> Result:
    sets = facts.filter_sets(facts.reduce_layer())
    union = set().union(*sets)
    shared = sum(len(s) for s in sets) - len(union)
    return (
        Reading(
            "different weights for different outputs",
            shared == 0,
            f"the {len(sets)} derived output maps use {len(union):,} weights in all and share {shared} of them.",
        ),
    ), {"weights": len(union), "shared": shared}


def judge_randomly_selected(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    read = [len(d.input_maps_read(o)) for o in range(d.output_maps)]
    weights = [len(d.weights_of(o)) for o in range(d.output_maps)]
    for count in (min(read), max(read)):
        agree(fig, f"all-inputs/{conv.in_channels}->{conv.out_channels}/inputs_per_map", count)
    return (
        Reading(
            "each output map reads 64 of the 256 input maps, chosen at random, with 64 weights",
            max(read) == 64 and max(weights) == 64,
            f"each of the {d.output_maps} derived output maps reads {how_many(read, conv.in_channels, 'input maps')} "
            f"with {counted(weights, 'weight')}, one per input map read.",
        ),
    ), {"inputs_read_min": min(read), "inputs_read_max": max(read), "weights_per_map": max(weights)}


def judge_input_has_256(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    read = {i for o in range(d.output_maps) for i in d.input_maps_read(o)}
    agree_closed_form("input maps of the block", facts.block().in_channels, len(read))
    return (
        Reading(
            "the top layer's input has 256 maps",
            len(read) == 256,
            f"the derived output maps of the top layer read {len(read)} distinct input maps.",
        ),
    ), {"read": len(read)}


def judge_256_weights_per_output(fig: Figures) -> Result:
    filters, per_filter, _ = _filters()
    return (
        Reading(
            "256 weights per output channel, 64 channels",
            set(per_filter) == {256} and filters == 64,
            f"the top layer's {filters} derived output maps have {counted(per_filter, 'weight')} each.",
        ),
    ), {"weights_per_output": sorted(set(per_filter)), "output_maps": filters}


def judge_how_256_weights(fig: Figures) -> Result:
    filters, per_filter, weights = _filters()
    return (
        Reading(
            "64 filters cannot hold 256 weights per output channel",
            max(per_filter) < 256,
            f"the top layer has {filters} filters, one per output map, and they hold "
            f"{counted(per_filter, 'weight')} each: {weights:,} weights, {weights // max(filters, 1)} per output map.",
        ),
    ), {"filters": filters, "weights_per_filter": sorted(set(per_filter)), "weights": weights}


def judge_single_parameter_assumed(fig: Figures) -> Result:
    filters, per_filter, _ = _filters()
    return (
        Reading(
            "a 1x1 filter holds a single parameter",
            set(per_filter) == {1},
            f"each of the top layer's {filters} 1x1 filters holds {counted(per_filter, 'parameter')}, "
            "one per input map.",
        ),
    ), {"filters": filters, "parameters_per_filter": sorted(set(per_filter))}


def judge_single_parameter(fig: Figures) -> Result:
    readings, figures = judge_single_parameter_assumed(fig)
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    per_pair = [len(ws) for o in range(d.output_maps) for ws in d.at(o).values()]
    because = readings[0].because + (
        f" What dontloo calls a 1x1 filter here, one input map's share of a filter, is a weight w_(o,i): "
        f"{counted(per_pair, 'parameter')}."
    )
    return (Reading(readings[0].meaning, readings[0].holds, because),), {
        **figures,
        "parameters_per_weight": sorted(set(per_pair)),
    }


def judge_not_64_filters(fig: Figures) -> Result:
    filters, _, _ = _filters()
    maps = facts.derive(facts.reduce_layer(), (1, 1)).output_maps
    return (
        Reading(
            "the top layer does not have 64 filters (it has 64 output channels instead)",
            filters != 64,
            f"the top layer has {maps} output maps and {filters} filters, one 1x1x"
            f"{facts.reduce_layer().in_channels} filter per output map.",
        ),
    ), {"filters": filters, "output_maps": maps}


def judge_64x256_filters(fig: Figures) -> Result:
    filters, _, weights = _filters()
    said = 64 * 256
    return (
        Reading(
            "the top layer has 64*256 filters",
            filters == said,
            f"the top layer has {filters} filters; 64*256 = {said:,} is "
            + ("the number of its weights" if weights == said else f"not its number of weights either ({weights:,})")
            + ", which dontloo counts as filters.",
        ),
    ), {"filters": filters, "weights": weights, "said": said}


def judge_different_filter_per_channel(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    reads = [len(d.input_maps_read(o)) for o in range(d.output_maps)]
    distinct = [len({tuple(ws) for ws in d.at(o).values()}) for o in range(d.output_maps)]
    per_pair = [len(ws) for o in range(d.output_maps) for ws in d.at(o).values()]
    return (
        Reading(
            "a different filter is applied to each input channel",
            max(reads) == 1,
            f"each of the {d.output_maps} filters spans {how_many(reads, conv.in_channels, 'input maps')}; what "
            f"meets one input map is {counted(per_pair, 'weight')} of the filter "
            f"({counted(distinct, 'distinct weight')} per filter).",
        ),
        Reading(
            "the results are added up and passed through an activation to make one output map",
            set(reads) == {conv.in_channels} and d.biases == 0,
            f"each derived output map is one sum over {how_many(reads, conv.in_channels, 'input maps')}, with "
            f"{d.biases} bias terms; BatchNorm and ReLU follow.",
        ),
    ), {"input_maps": conv.in_channels, "output_maps": d.output_maps}


def judge_1x1xc_filter(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    inputs = facts.pixel_function_inputs(conv, (1, 1))
    d = facts.derive(conv, (2, 2))
    spans = [{(h, w) for _, h, w in d.at(o, (1, 1))} for o in range(d.output_maps)]
    maps = [len({i for i, _, _ in d.at(o, (1, 1))}) for o in range(d.output_maps)]
    offsets = {w[2:] for o in range(d.output_maps) for ws in d.at(o, (1, 1)).values() for w in ws}
    kh, kw = (len({u for u, _ in offsets}), len({v for _, v in offsets}))
    agree_closed_form("shape of a filter", conv.weight_shape[1:], (max(maps), kh, kw))
    holds = all(s == {(1, 1)} for s in spans) and set(maps) == {256} and (kh, kw) == (1, 1)
    return (
        Reading(
            "each filter is 1x1 in space and spans all C = 256 input maps",
            holds,
            f"on a 2x2 input, each derived output value at pixel (1, 1) reads input positions "
            f"{sorted(set().union(*spans))} only, through {kh}x{kw} kernel offsets, and "
            f"{how_many(maps, conv.in_channels, 'input maps')} ({len(inputs)} input values for all filters "
            f"together){': a 1x1xC filter' if holds else ''}.",
        ),
    ), {"filter_shape": [kh, kw, max(maps)]}


def judge_c_parameters(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    per_filter = [len(d.weights_of(o)) for o in range(d.output_maps)]
    agree_closed_form("parameters per filter", conv.param_count // conv.out_channels, per_filter[0])
    return (
        Reading(
            "C parameters per 1x1 filter (no bias, as in ResNet)",
            set(per_filter) == {conv.in_channels} and d.biases == 0,
            f"each derived output map of the top layer contains {counted(per_filter, 'weight symbol')} (C = "
            f"{conv.in_channels}) and {d.biases} bias terms (with a bias, a filter would have C + 1 parameters).",
        ),
    ), {"per_filter": sorted(set(per_filter)), "C": conv.in_channels}


def judge_1x1xcx64(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    symbols = len({w for o in range(d.output_maps) for w in d.weights_of(o)}) + d.biases
    agree(fig, "parameter-count/conv1/derived", symbols)
    agree_closed_form("parameters of the top layer", conv.param_count, symbols)
    formula = 1 * 1 * conv.in_channels * 64
    return (
        Reading(
            "1x1xCx64 parameters for the layer",
            symbols == formula,
            f"the top layer's derived output maps contain {symbols:,} distinct parameter symbols; "
            f"1*1*{conv.in_channels}*64 = {formula:,}.",
        ),
    ), {"symbols": symbols, "formula": formula}
