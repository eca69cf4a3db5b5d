"""The thread's claims, each quoted exactly and judged by computation.

Every statement of the thread (question, answer and comments) that can be true or false is a
:class:`Statement`: its exact quote, who said it, and the theorems that decide it. Judging a statement
first checks those theorems; only if they all hold does it compute the statement's *readings*: each
way of reading the words, and whether that reading holds for the bottleneck's layers as the symbolic
engine derives them. All readings hold: ``"true"``; none: ``"false"``; some: ``"partly true"``. Where a
deciding theorem reports the same quantity among its figures, the two must agree. If a deciding theorem
fails or cannot be checked, its figures disagree, or the computation breaks, the claim is
``"undecided"`` and says why.

Left out, as they state nothing about convolutions that can be checked: that the answer is misleading
(an opinion, which its author then accepted and edited for), and that the notation was made up.

>>> claim = get_claim("64x256-filters")
>>> claim.verdict
'partly true'
>>> claim.speaker
'dontloo'
>>> claim.quote in thread_text()
True
"""

from __future__ import annotations

import importlib
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from . import _claim_facts as facts
from .errors import VerifierError
from .progress import Progress
from .spec import Conv2d

__all__ = [
    "CLAIMS",
    "UNDECIDED",
    "VERDICTS",
    "Claim",
    "Disagreement",
    "Reading",
    "Statement",
    "get_claim",
    "judge_all",
    "thread_text",
]

VerdictName = Literal["true", "false", "partly true", "undecided"]
VERDICTS: tuple[str, ...] = ("true", "false", "partly true")
UNDECIDED: Literal["undecided"] = "undecided"


def thread_text() -> str:
    """The thread as captured, shipped inside the package; every claim's quote is a substring of it.

    >>> thread_text().count("dontloo") >= 2
    True
    """
    return resources.files("verifier").joinpath("data", "thread.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Reading:
    """One way to read a statement's words, whether it holds, and the computed reason.

    >>> Reading("filter = one 1x1xC kernel", False, "there are 64 of them")
    Reading('filter = one 1x1xC kernel', holds=False)
    """

    meaning: str
    holds: bool
    because: str

    def __repr__(self) -> str:
        return f"Reading({self.meaning!r}, holds={self.holds})"


@dataclass(frozen=True)
class Claim:
    """A statement from the thread with its computed verdict and evidence.

    ``verdict`` is ``"true"``, ``"false"`` or ``"partly true"`` once judged, and ``"undecided"`` when a
    deciding theorem failed or could not be checked (``decided`` is then False).
    """

    id: str
    speaker: str
    quote: str
    verdict: VerdictName
    evidence: str
    theorem_ids: tuple[str, ...]
    readings: tuple[Reading, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict, compare=False)
    seconds: float = field(default=0.0, compare=False)

    @property
    def decided(self) -> bool:
        """Whether every deciding theorem held, so that the verdict was computed."""
        return self.verdict != UNDECIDED

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the contract's keys first, then speaker, theorems, readings and figures."""
        return {
            "id": self.id,
            "quote": self.quote,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "speaker": self.speaker,
            "theorems": list(self.theorem_ids),
            "readings": [{"meaning": r.meaning, "holds": r.holds, "because": r.because} for r in self.readings],
            "figures": dict(self.figures),
        }

    def __repr__(self) -> str:
        quote = self.quote if len(self.quote) <= 60 else self.quote[:57] + "..."
        return f"Claim({self.id!r}, {self.verdict!r}, {self.speaker}: {quote!r})"

    def _repr_markdown_(self) -> str:
        quote = self.quote.replace("\n", " ")
        theorems = ", ".join(f"`{t}`" for t in self.theorem_ids)
        return f"> {quote}\n\n{self.speaker} · **{self.verdict}** · decided by {theorems}\n\n{self.evidence}\n"


Figures = Mapping[str, Mapping[str, Any]]
"""The deciding theorems' figures, by theorem id."""
Judge = Callable[[Figures], tuple[tuple[Reading, ...], dict[str, Any]]]


@dataclass(frozen=True)
class Statement:
    """A statement of the thread, not judged yet: its quote, speaker, deciding theorems and judge.

    >>> s = CLAIMS[0]
    >>> s.quote in thread_text()
    True
    >>> s.judge().decided
    True
    """

    id: str
    speaker: str
    quote: str
    theorem_ids: tuple[str, ...]
    judge_readings: Judge = field(repr=False, compare=False)

    def __repr__(self) -> str:
        quote = self.quote if len(self.quote) <= 60 else self.quote[:57] + "..."
        return f"Statement({self.id!r}, {self.speaker}: {quote!r})"

    def judge(self) -> Claim:
        """Check the deciding theorems, then compute the readings and the verdict they imply."""
        start = time.perf_counter()
        problems, figures_by_theorem = _check_theorems(self.theorem_ids)
        if problems:
            return self._undecided("; ".join(problems), start)
        try:
            readings, figures = self.judge_readings(figures_by_theorem)
            verdict, evidence = _combine(readings), _evidence(readings)
        except Exception as exc:  # a computation that breaks (or disagrees with a theorem) leaves it undecided
            return self._undecided(f"the computation failed ({type(exc).__name__}: {exc})", start)
        return Claim(
            self.id,
            self.speaker,
            self.quote,
            verdict,
            evidence,
            self.theorem_ids,
            readings,
            figures,
            time.perf_counter() - start,
        )

    def _undecided(self, why: str, start: float) -> Claim:
        return Claim(
            self.id,
            self.speaker,
            self.quote,
            UNDECIDED,
            f"Undecided: {why}",
            self.theorem_ids,
            seconds=time.perf_counter() - start,
        )


def _check_theorems(ids: Iterable[str]) -> tuple[list[str], dict[str, Mapping[str, Any]]]:
    """Check the theorems ``ids``: why they cannot decide a claim (each one that fails or cannot be
    checked), and the figures of those that hold."""
    problems: list[str] = []
    figures: dict[str, Mapping[str, Any]] = {}
    try:
        theorems = importlib.import_module("verifier.theorems")
    except ImportError as exc:
        return [f"the theorems could not be loaded ({exc})"], figures
    for tid in ids:
        try:
            verdict = theorems.get_theorem(tid).check()
        except Exception as exc:  # a theorem that cannot be checked leaves the claim undecided, reported
            problems.append(f"theorem {tid!r} could not be checked ({type(exc).__name__}: {exc})")
            continue
        if not verdict.holds:
            problems.append(f"theorem {tid!r} does not hold: {verdict.evidence}")
        else:
            figures[tid] = getattr(verdict, "figures", None) or {}
    return problems, figures


class Disagreement(RuntimeError):
    """A claim's own computation and a deciding theorem's figures report different values."""


def _agree(fig: Figures, path: str, mine: Any) -> None:
    """Raise :class:`Disagreement` if the theorem figure at ``path`` ("theorem/key/key") differs from ``mine``.

    A figure the theorem does not report is not compared: the theorem's ``holds`` already decides it.
    """
    tid, *keys = path.split("/")
    value: Any = fig.get(tid, {})
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return
        value = value[key]
    if value != mine:
        raise Disagreement(f"theorem figure {path} is {value!r} but this claim's derivation gives {mine!r}")


def _combine(readings: tuple[Reading, ...]) -> VerdictName:
    """All readings hold: true; none: false; some: partly true."""
    if not readings:
        raise VerifierError("a claim needs at least one reading to be judged, got none")
    held = [r.holds for r in readings]
    if all(held):
        return "true"
    if not any(held):
        return "false"
    return "partly true"


def _evidence(readings: tuple[Reading, ...]) -> str:
    if len(readings) == 1:
        because = readings[0].because
        return because[:1].upper() + because[1:]
    parts = []
    for r in readings:
        parts.append(f"{'True' if r.holds else 'False'} if {r.meaning}: {r.because}")
    return " ".join(parts)


# -- the judges: one per statement ------------------------------------------------------------------

Result = tuple[tuple[Reading, ...], dict[str, Any]]


def _n2_maps(fig: Figures) -> Result:
    readings = []
    figures: dict[str, Any] = {}
    for conv in (facts.reduce_layer(), facts.expand_layer()):
        n1, n2 = conv.in_channels, conv.out_channels
        maps, filters = facts.maps_out(conv), facts.filters(conv)
        derived = facts.derive(conv, (1, 1)).output_maps
        _agree(fig, f"maps-equal-filters/{n1}->{n2}/output_maps", derived)
        _agree(fig, f"maps-equal-filters/{n1}->{n2}/filters", filters)
        figures[f"{n1}->{n2}"] = {"filters": filters, "output_maps": maps, "derived_maps": derived}
        readings.append(
            Reading(
                f"n1={n1}, n2={n2}",
                maps == derived == filters == n2,
                f"with n1={n1} input maps and {filters} filters the output has {maps} maps (shape rule), "
                f"and the derivation gives {derived} distinct output maps.",
            )
        )
    return _merge(readings), figures


def _counted(values: set[int], noun: str) -> str:
    """'exactly 1 weight' when every case gave one value, else the values seen."""
    if len(values) == 1:
        (n,) = values
        return f"exactly {n:,} {noun}{'' if n == 1 else 's'}"
    return f"{', '.join(map(str, sorted(values)))} {noun}s (differing between cases)"


def _merge(readings: list[Reading]) -> tuple[Reading, ...]:
    """Fold readings that are instances of one meaning into one reading that holds iff all do."""
    return (
        Reading(
            "; ".join(r.meaning for r in readings),
            all(r.holds for r in readings),
            " ".join(r.because[0].upper() + r.because[1:] for r in readings),
        ),
    )


def _n1_times_n2(fig: Figures) -> Result:
    readings = []
    figures: dict[str, Any] = {}
    for conv in (facts.reduce_layer(), facts.expand_layer()):
        n1, n2 = conv.in_channels, conv.out_channels
        maps = facts.derive(conv, (1, 1)).output_maps
        depthwise = Conv2d(n1, n1 * n2, 1, groups=n1, bias=False)
        _agree(fig, f"maps-equal-filters/{n1}->{n2}/output_maps", maps)
        _agree(fig, "maps-equal-filters/depthwise/maps", facts.maps_out(depthwise))
        _agree(fig, "maps-equal-filters/depthwise/weights", depthwise.weight_count)
        figures[f"{n1}->{n2}"] = {
            "output_maps": maps,
            "n1_times_n2": n1 * n2,
            "depthwise_maps": facts.maps_out(depthwise),
            "depthwise_weights": depthwise.weight_count,
            "conv_weights": conv.weight_count,
        }
        readings.append(
            Reading(
                f"n1={n1}, n2={n2}",
                maps == n1 * n2,
                f"{n1}->{n2} gives {maps} output maps, not {n1}*{n2} = {n1 * n2:,}; {n1 * n2:,} maps come from a "
                f"different layer, the depthwise conv with multiplier {n2} (groups={n1}), with as many weights "
                f"({depthwise.weight_count:,}) but no sum over input maps.",
            )
        )
    return _merge(readings), figures


def _products_per_filter(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    n1, n2 = conv.in_channels, conv.out_channels
    per_filter = {sum(len(ws) for ws in d.at(o).values()) for o in range(n2)}
    products = sum(sum(len(ws) for ws in d.at(o).values()) for o in range(n2))
    maps = d.output_maps
    _agree(fig, f"maps-equal-filters/{n1}->{n2}/products_before_the_sum", products)
    return (
        Reading(
            "each filter forms one product per input map",
            per_filter == {n1},
            f"each of the {n2} filters multiplies every one of the {n1} input maps by its own weight: "
            f"{products:,} products in all.",
        ),
        Reading(
            "those products are separate outputs",
            maps == products,
            f"each filter adds its {n1} products into one map, so the layer outputs {maps} maps, not {products:,}.",
        ),
    ), {"products": products, "output_maps": maps, "products_per_filter": sorted(per_filter)}


def _size_256_to_64(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    shape_in = facts.stage_input(conv)
    shape_out = conv.output_shape(shape_in)
    return (
        Reading(
            "size means the number of maps",
            (shape_in[1], shape_out[1]) == (256, 64),
            f"the top layer takes {shape_in[1]} maps to {shape_out[1]}.",
        ),
        Reading(
            "size means each map's height and width",
            shape_in[2:] != shape_out[2:],
            f"each map stays {shape_out[2]}x{shape_out[3]}: a 1x1 conv with stride 1 keeps the spatial size "
            f"({shape_in} -> {shape_out}).",
        ),
    ), {"input_shape": list(shape_in), "output_shape": list(shape_out)}


def _one_parameter_per_input_map(fig: Figures) -> Result:
    readings = []
    figures: dict[str, Any] = {}
    for conv in (facts.reduce_layer(), facts.expand_layer()):
        d = facts.derive(conv, (1, 1))
        counts = {len(ws) for o in range(conv.out_channels) for ws in d.at(o).values()}
        figures[f"{conv.in_channels}->{conv.out_channels}"] = {"weights_per_input_map": sorted(counts)}
        readings.append(
            Reading(
                f"{conv.in_channels}->{conv.out_channels}",
                counts == {1},
                f"in every filter of {conv.in_channels}->{conv.out_channels}, each input map is multiplied by "
                f"{_counted(counts, 'weight')}.",
            )
        )
    return _merge(readings), figures


def _same_scalar(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    size = (2, 2)
    d = facts.derive(conv, size)
    ho, wo = conv.output_size(*size)
    scalars_per_map = set()
    for o in range(conv.out_channels):
        for i in range(conv.in_channels):
            weights: set[tuple[int, ...]] = set()
            for r, c in itertools.product(range(ho), range(wo)):
                weights.update(d.at(o, (r, c)).get((i, r, c), []))
            scalars_per_map.add(len(weights))
    positions = ho * wo
    return (
        Reading(
            "one scalar per (filter, input map) pair",
            scalars_per_map == {1},
            f"across all {positions} positions of a {size[0]}x{size[1]} input, each filter multiplies every "
            f"element of input map i by {_counted(scalars_per_map, 'weight')}, at full width "
            f"({conv.in_channels} input maps, {conv.out_channels} filters); each filter has its own scalar "
            "per map, and the products are then summed over the input maps.",
        ),
    ), {"positions": positions, "distinct_weights_per_filter_and_map": sorted(scalars_per_map)}


def _linear_combinations_265(fig: Figures) -> Result:
    conv = facts.expand_layer()
    d = facts.derive(conv, (1, 1))
    maps = d.output_maps
    linear = all(d.input_maps_read(o) == set(range(conv.in_channels)) for o in range(maps))
    said = 265
    typo = sorted(str(said)) == sorted(str(maps)) and said != maps
    return (
        Reading(
            f"as written, {said} combinations",
            maps == said and linear,
            f"the bottom layer makes {maps} linear combinations of {conv.in_channels} maps, not {said}.",
        ),
        Reading(
            f"{said} as a typo for {maps}",
            typo and linear and d.biases == 0,
            f"{said} has the digits of {maps} in another order, and each of the {maps} output maps is a linear "
            f"combination of all {conv.in_channels} input maps at the same pixel (no bias in the block's convs).",
        ),
    ), {"said": said, "output_maps": maps, "variables": conv.in_channels}


def _yn_formula(fig: Figures) -> Result:
    conv = facts.expand_layer()
    d = facts.derive(conv, (1, 1))
    said_inputs = 64
    mismatches = 0
    for n in range(conv.out_channels):
        # the formula's terms: w_{n,i} x_i for i = 1..64 (0-based here), nothing else
        formula = {(i, 0, 0): [(n, i, 0, 0)] for i in range(said_inputs)}
        if d.at(n) != formula:
            mismatches += 1
    return (
        Reading(
            "y_n before f",
            mismatches == 0 and d.biases == 0,
            f"for every n = 1..{conv.out_channels}, the derived output map of {conv.in_channels}->"
            f"{conv.out_channels} is exactly w_(n,1) x_1 + ... + w_(n,{said_inputs}) x_{said_inputs} "
            f"({mismatches} maps differ; the block's convs have no bias); f is BatchNorm then ReLU, with the "
            "residual add before the ReLU in the bottom layer.",
        ),
    ), {"output_maps": conv.out_channels, "terms_per_map": said_inputs, "mismatches": mismatches}


def _any_number_of_maps(fig: Figures) -> Result:
    c_in = facts.expand_layer().in_channels
    tried = (1, 2, 3, 64, 256, 265, 1000)
    by_shape = {n: facts.maps_out(Conv2d(c_in, n, 1, bias=False)) for n in tried}
    derived = {n: facts.derive(Conv2d(c_in, n, 1, bias=False), (1, 1)).output_maps for n in (1, 3, 265)}
    ok = all(by_shape[n] == n for n in tried) and all(derived[n] == n for n in derived)
    return (
        Reading(
            "C_out is free",
            ok,
            f"from {c_in} input maps, 1x1 convs with {', '.join(map(str, tried))} filters give exactly that many "
            f"output maps (shape rule; derived maps for {', '.join(map(str, derived))}): the number of output "
            "maps is the number of filters, chosen freely.",
        ),
    ), {"filters_tried": list(tried), "output_maps": [by_shape[n] for n in tried]}


def _redundant(fig: Figures) -> Result:
    r = facts.expansion_ranks()
    _agree(fig, "expansion-rank/outputs_rank", r["linear"])
    _agree(fig, "expansion-rank/after_relu_rank", r["after_relu"])
    return (
        Reading(
            "the 1x1 conv's linear output",
            r["linear"] <= r["linear_upper_bound"] < r["maps"],
            f"over {r['pixels']} random pixels the {r['maps']} output maps have rank {r['linear']} "
            f"(at most {r['inner_dimension']}, the input width): they lie in a {r['linear']}-dimensional subspace.",
        ),
        Reading(
            "the block's output after BatchNorm, ReLU and the residual add",
            r["block_output"] < r["maps"],
            f"on the same data the maps after BatchNorm and ReLU have rank {r['after_relu']}, and the block's "
            f"output (BatchNorm, + shortcut, ReLU) rank {r['block_output']} of {r['maps']}: not redundant.",
        ),
    ), dict(r)


def _same_for_reduction(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    all_inputs = all(d.input_maps_read(o) == set(range(conv.in_channels)) for o in range(conv.out_channels))
    one_weight = all(len(ws) == 1 for o in range(conv.out_channels) for ws in d.at(o).values())
    _agree(fig, f"all-inputs/{conv.in_channels}->{conv.out_channels}/maps", d.output_maps)
    return (
        Reading(
            "the top layer is the same formula with n = 1..64",
            d.output_maps == 64 and all_inputs and one_weight,
            f"the top layer has {d.output_maps} output maps, each the sum of all {conv.in_channels} input maps "
            "times one weight each: the y_n formula with n running over the output maps.",
        ),
    ), {"output_maps": d.output_maps, "inputs_per_map": conv.in_channels}


def _randomly_selected(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    read = [len(d.input_maps_read(o)) for o in range(conv.out_channels)]
    weights = [len(d.weights_of(o)) for o in range(conv.out_channels)]
    for count in (min(read), max(read)):
        _agree(fig, f"all-inputs/{conv.in_channels}->{conv.out_channels}/inputs_per_map", count)
    return (
        Reading(
            "each output map reads 64 of the 256 input maps with 64 weights",
            min(read) == 64 and max(weights) == 64,
            f"every one of the {conv.out_channels} output maps reads all {min(read)} input maps (none is "
            f"dropped or selected) with {min(weights)} weights, one per input map.",
        ),
    ), {"inputs_read_min": min(read), "inputs_read_max": max(read), "weights_per_map": max(weights)}


def _input_has_256(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    read = {i for o in range(conv.out_channels) for i in d.input_maps_read(o)}
    return (
        Reading(
            "the top layer's input",
            conv.in_channels == 256 and len(read) == 256,
            f"the block's input has {facts.block().in_channels} maps, and the derived output maps read {len(read)} "
            "distinct input maps.",
        ),
    ), {"input_maps": facts.block().in_channels, "read": len(read)}


def _256_weights_per_output(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    per_output = {len(d.weights_of(o)) for o in range(conv.out_channels)}
    return (
        Reading(
            "256 weights per output channel, 64 channels",
            per_output == {256} and d.output_maps == 64,
            f"each of the top layer's {d.output_maps} output maps has {_counted(per_output, 'weight')}.",
        ),
    ), {"weights_per_output": sorted(per_output), "output_maps": d.output_maps}


def _different_weights(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    sets = [d.weights_of(o) for o in range(conv.out_channels)]
    union = set().union(*sets)
    shared = sum(len(s) for s in sets) - len(union)
    return (
        Reading(
            "different weights for different outputs",
            shared == 0,
            f"the {len(sets)} output maps use {len(union):,} weights in all and share {shared} of them.",
        ),
    ), {"weights": len(union), "shared": shared}


def _same_weights_for_all(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    # the weight a map applies to each input map, as a pattern over (input map -> slice position)
    patterns = {
        tuple(sorted((i, w[1:]) for (i, _, _), ws in d.at(o).items() for w in ws)) for o in range(d.output_maps)
    }
    symbols = {frozenset(d.weights_of(o)) for o in range(d.output_maps)}
    return (
        Reading(
            "one set of weights w_i shared by every output map",
            len(symbols) == 1,
            f"all {d.output_maps} output maps have the same form ({len(patterns)} pattern: one weight per input "
            f"map) but {len(symbols)} different sets of weights, so w_i depends on the output map n.",
        ),
    ), {"weight_sets": len(symbols), "patterns": len(patterns)}


def _filter_readings(conv: Conv2d) -> tuple[int, int]:
    return facts.filters(conv), facts.slices(conv)


def _not_64_filters(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    filters, slices = _filter_readings(conv)
    return (
        Reading(
            "a filter is one 1x1xC kernel per output map (PyTorch's OIHW weight)",
            filters != 64,
            f"the weight has {filters} kernels of shape {conv.weight_shape[1:]}, one per output map: "
            f"there are {filters} filters and {facts.maps_out(conv)} output maps.",
        ),
        Reading(
            "a filter is one per-channel 1x1 slice",
            slices != 64,
            f"there are {slices:,} slices, one per (output map, input map) pair.",
        ),
    ), {"filters": filters, "slices": slices}


def _64x256_filters(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    filters, slices = _filter_readings(conv)
    said = 64 * 256
    return (
        Reading(
            "a filter is one per-channel 1x1 slice",
            slices == said,
            f"the weight tensor has {slices:,} (output map, input map) slices of size "
            f"{conv.kernel_pair[0]}x{conv.kernel_pair[1]}.",
        ),
        Reading(
            "a filter is one 1x1xC kernel per output map, the usual meaning",
            filters == said,
            f"there are {filters} filters of shape {conv.weight_shape[1:]}, not {said:,}.",
        ),
    ), {"filters": filters, "slices": slices, "said": said}


def _different_filter_per_channel(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    d = facts.derive(conv, (1, 1))
    distinct = all(len({tuple(ws) for ws in d.at(o).values()}) == conv.in_channels for o in range(conv.out_channels))
    one_sum = all(len(d.input_maps_read(o)) == conv.in_channels for o in range(conv.out_channels))
    return (
        Reading(
            "per-channel weights, summed into one output map",
            distinct and one_sum and d.output_maps == conv.out_channels,
            f"each output map is the sum over all {conv.in_channels} input maps of that map times its own "
            f"weight ({conv.in_channels} distinct weights per output map), then BatchNorm and ReLU.",
        ),
    ), {"input_maps": conv.in_channels, "output_maps": d.output_maps}


def _single_parameter_filter(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    per_slice = conv.kernel_pair[0] * conv.kernel_pair[1]
    per_kernel = conv.weight_count // facts.filters(conv)
    return (
        Reading(
            "a filter is one per-channel 1x1 slice",
            per_slice == 1,
            f"a slice holds {per_slice} parameter.",
        ),
        Reading(
            "a filter is one 1x1xC kernel, the usual meaning",
            per_kernel == 1,
            f"a 1x1 filter of the top layer holds {per_kernel} parameters, one per input map.",
        ),
    ), {"per_slice": per_slice, "per_kernel": per_kernel}


def _how_256_weights(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    filters = facts.filters(conv)
    per_kernel = conv.weight_count // filters
    return (
        Reading(
            "there are only 64 filters",
            filters == 64,
            f"the top layer has {filters} filters (one per output map).",
        ),
        Reading(
            "256 weights per output channel cannot fit in 64 filters",
            per_kernel < 256,
            f"each filter is 1x1x{conv.in_channels} and holds {per_kernel} weights, so {filters} filters hold "
            f"{conv.weight_count:,} weights: 256 per output map.",
        ),
    ), {"filters": filters, "weights_per_filter": per_kernel, "weights": conv.weight_count}


def _1x1xc_filter(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    _, c, kh, kw = conv.weight_shape
    return (
        Reading(
            "each filter is 1x1 in space and spans all C input maps",
            (kh, kw) == (1, 1) and c == conv.in_channels == 256,
            f"each filter of the top layer has shape {kh}x{kw}x{c} (OIHW weight {conv.weight_shape}), "
            f"with C = {conv.in_channels} input maps.",
        ),
    ), {"filter_shape": [kh, kw, c]}


def _c_parameters(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    per_filter = len({w for w, idx in facts.index(facts.weight_tensor(conv)).items() if idx[0] == 0})
    return (
        Reading(
            "C parameters per 1x1 filter (no bias, as in ResNet)",
            per_filter == conv.in_channels and not conv.bias,
            f"one filter of the top layer has {per_filter} weight symbols = C; ResNet's convs have no bias "
            "(with one, a filter would have C + 1 parameters).",
        ),
    ), {"per_filter": per_filter, "C": conv.in_channels}


def _1x1xcx64(fig: Figures) -> Result:
    conv = facts.reduce_layer()
    symbols = len(facts.weight_tensor(conv).free_symbols)
    _agree(fig, "parameter-count/conv1/derived", symbols)
    formula = 1 * 1 * conv.in_channels * 64
    return (
        Reading(
            "1x1xCx64 parameters for the layer",
            symbols == formula == conv.param_count,
            f"the top layer's weight tensor has {symbols:,} free symbols; 1*1*{conv.in_channels}*64 = "
            f"{formula:,}; the spec counts {conv.param_count:,} parameters (no bias).",
        ),
    ), {"symbols": symbols, "formula": formula, "param_count": conv.param_count}


def _dimensionality(fig: Figures) -> Result:
    reduce, expand = facts.reduce_layer(), facts.expand_layer()
    return (
        Reading(
            "a 1x1 conv changes the number of maps",
            facts.maps_out(reduce) != reduce.in_channels and facts.maps_out(expand) != expand.in_channels,
            f"in the bottleneck a 1x1 conv takes {reduce.in_channels} maps to {facts.maps_out(reduce)} and another "
            f"takes {expand.in_channels} back to {facts.maps_out(expand)}.",
        ),
    ), {"reduce": [reduce.in_channels, facts.maps_out(reduce)], "expand": [expand.in_channels, facts.maps_out(expand)]}


def _64_to_256(fig: Figures) -> Result:
    conv = facts.expand_layer()
    d = facts.derive(conv, (1, 1))
    all_inputs = all(d.input_maps_read(o) == set(range(conv.in_channels)) for o in range(conv.out_channels))
    _agree(fig, f"all-inputs/{conv.in_channels}->{conv.out_channels}/maps", d.output_maps)
    r = facts.expansion_ranks()
    _agree(fig, "expansion-rank/outputs_rank", r["linear"])
    return (
        Reading(
            "the bottom layer makes 256 maps from 64",
            d.output_maps == 256 and all_inputs,
            f"the bottom layer has {facts.filters(conv)} filters of shape 1x1x{conv.in_channels}; output map n is "
            f"w_(n,1) x_1 + ... + w_(n,{conv.in_channels}) x_{conv.in_channels} at each pixel, {d.output_maps} "
            f"maps from {conv.weight_count:,} weights. The {d.output_maps} values at a pixel lie in a "
            f"{r['linear']}-dimensional subspace (rank over {r['pixels']} pixels), until BatchNorm's shift, the "
            "residual add and ReLU.",
        ),
    ), {"filters": facts.filters(conv), "weights": conv.weight_count, "output_maps": d.output_maps}


_Q, _A, _C1 = "Newstein", "dontloo", "Pepe Mandioca"

CLAIMS: tuple[Statement, ...] = (
    Statement(
        "change-dimensionality",
        _Q,
        "1x1 convolution can be used to change the dimensionality of feature maps in a residual learning network",
        ("maps-equal-filters",),
        _dimensionality,
    ),
    Statement(
        "size-256-to-64",
        _Q,
        "Here the top 1x1 convolution changes the feature map size from 256 to 64.",
        ("maps-equal-filters", "conv1x1-is-matmul"),
        _size_256_to_64,
    ),
    Statement(
        "n2-maps",
        _Q,
        "if a layer having $n_1$ feature maps is subjected to 1x1 convolution with $n_2$ filters then number of "
        "feature map changes to $n_2$",
        ("maps-equal-filters",),
        _n2_maps,
    ),
    Statement(
        "n1-times-n2",
        _Q,
        "Shouldn't it be $n_1$$n_2$",
        ("maps-equal-filters", "all-inputs"),
        _n1_times_n2,
    ),
    Statement(
        "output-per-input",
        _Q,
        "each of the $n_2$ filters produce one output corresponding to each of the $n_1$ inputs",
        ("all-inputs", "maps-equal-filters"),
        _products_per_filter,
    ),
    Statement(
        "how-64-to-256",
        _Q,
        "how does one generate 256 feature maps from 64, as done in the bottom layer",
        ("maps-equal-filters", "all-inputs", "expansion-rank"),
        _64_to_256,
    ),
    Statement(
        "one-parameter-per-input-map",
        _A,
        "There's only one parameter for each input map in a 1*1 filter",
        ("all-inputs", "parameter-count"),
        _one_parameter_per_input_map,
    ),
    Statement(
        "same-scalar",
        _A,
        "the 1*1 convolution is multiplying the every element of an input map by the same scalar",
        ("all-inputs", "conv1x1-is-matmul"),
        _same_scalar,
    ),
    Statement(
        "265-linear-combinations",
        _A,
        "So it is similar to getting 265 linear combinations out of 64 variables",
        ("conv1x1-is-matmul", "maps-equal-filters"),
        _linear_combinations_265,
    ),
    Statement(
        "yn-formula",
        _A,
        "$$y_n=f(w_{n,1}x_1+w_{n,2}x_2+...+w_{n,64}x_{64})$$",
        ("all-inputs", "conv1x1-is-matmul"),
        _yn_formula,
    ),
    Statement(
        "any-number-of-maps",
        _A,
        "we can get any number of output feature maps as we want",
        ("maps-equal-filters", "parameter-count"),
        _any_number_of_maps,
    ),
    Statement(
        "output-redundant",
        _A,
        "if the output dimension is greater than the input dimension, the output would be redundant",
        ("expansion-rank", "linear-collapse", "batchnorm-fold"),
        _redundant,
    ),
    Statement(
        "just-w-i",
        _Q,
        "Is it just $w_i$",
        ("all-inputs", "parameter-count"),
        _same_weights_for_all,
    ),
    Statement(
        "different-weights-per-output",
        _A,
        "you have a different set of weights for different output channels",
        ("all-inputs", "parameter-count"),
        _different_weights,
    ),
    Statement(
        "reduction-is-the-same",
        _A,
        "it the same, only you have n=1, 2,...,64 instead of 256",
        ("all-inputs", "maps-equal-filters"),
        _same_for_reduction,
    ),
    Statement(
        "64-randomly-selected",
        _Q,
        "64 $x_i$s are randomly selected from 256 input maps and their weighted combination is taken using the 64 "
        "weights ($w_i$) corresponding to the 64 1x1 filters",
        ("all-inputs",),
        _randomly_selected,
    ),
    Statement(
        "input-has-256",
        _A,
        "the input of course consists 256$x_i$s",
        ("all-inputs",),
        _input_has_256,
    ),
    Statement(
        "256-weights-per-output",
        _A,
        "we have 256 weights per output channel, and we'll have 64 channels",
        ("all-inputs", "parameter-count"),
        _256_weights_per_output,
    ),
    Statement(
        "256-weights-64-filters",
        _Q,
        "How can we have 256 weights when there are only 64 filters?",
        ("maps-equal-filters", "parameter-count"),
        _how_256_weights,
    ),
    Statement(
        "single-parameter",
        _A,
        "by weights I mean the single parameter in a 1x1 filter",
        ("parameter-count",),
        _single_parameter_filter,
    ),
    Statement(
        "not-64-filters",
        _A,
        "there're not in total 64 filters, there are 64 output channels (or feature maps)",
        ("maps-equal-filters", "parameter-count"),
        _not_64_filters,
    ),
    Statement(
        "64x256-filters",
        _A,
        "there'll be 64*256 filters",
        ("maps-equal-filters", "parameter-count"),
        _64x256_filters,
    ),
    Statement(
        "filter-per-channel-then-sum",
        _A,
        "you apply a different filter to each input channel, add up the results and apply an activation function "
        "to get the output of one channel",
        ("all-inputs",),
        _different_filter_per_channel,
    ),
    Statement(
        "1x1xC-filter",
        _C1,
        'a 1x1 convolutional filter is "1x1" just in the spatial dimension, but it is a 1x1xC convolution, where C '
        "is the number of input feature maps or channels (256 for the first layer in the OPs example example)",
        ("parameter-count", "all-inputs"),
        _1x1xc_filter,
    ),
    Statement(
        "C-parameters",
        _C1,
        "you actually have C parameters for a 1x1 convolution",
        ("parameter-count",),
        _c_parameters,
    ),
    Statement(
        "1x1xCx64-parameters",
        _C1,
        "Since you want to output 64 different feature maps, you have 1x1xCx64 parameters for the whole layer.",
        ("parameter-count",),
        _1x1xcx64,
    ),
)


def _statement(claim_id: str) -> Statement:
    for s in CLAIMS:
        if s.id == claim_id:
            return s
    valid = ", ".join(s.id for s in CLAIMS)
    raise VerifierError(f"claim_id must be one of {valid}, got {claim_id!r}")


def get_claim(claim_id: str) -> Claim:
    """Judge the statement ``claim_id`` and return it with its verdict.

    >>> get_claim("n2-maps").verdict
    'true'
    >>> get_claim("no-such-claim")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    verifier.errors.VerifierError: claim_id must be one of change-dimensionality, ..., got 'no-such-claim'
    """
    return _statement(claim_id).judge()


def judge_all(progress: Progress | None = None) -> list[Claim]:
    """Judge every statement of the thread, in the thread's order.

    >>> claims = judge_all()
    >>> sorted({c.verdict for c in claims})
    ['false', 'partly true', 'true']
    """
    out = []
    for k, statement in enumerate(CLAIMS, 1):
        if progress is not None:
            progress.step(f"judging claim {k}/{len(CLAIMS)}: {statement.id}")
        out.append(statement.judge())
    return out
