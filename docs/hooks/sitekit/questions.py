"""The asker's questions, quoted from the thread in its order, each with the picture behind it and a short answer.

Every number in an answer is computed here from :mod:`verifier.spec` and :mod:`verifier.symbolic`; every quote
is checked to be a verbatim substring of the thread the package ships, and the quotes are checked to come in
the thread's order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from verifier import symbolic
from verifier.claims import thread_text
from verifier.spec import Bottleneck, Conv2d
from verifier.theorems import get_theorem

from . import tex, verdicts


@dataclass(frozen=True)
class Question:
    """One question: its anchor, the quote, the misconception behind it, the answer (Markdown) and its links."""

    id: str
    short: str
    quote: str
    misconception: str
    answer: str
    claim: str
    theorem: str


def _convs() -> tuple[Conv2d, Conv2d]:
    convs = dict(Bottleneck().convs())
    return convs["conv1"], convs["conv3"]


def _terms_of_output_map_0(conv: Conv2d) -> int:
    """How many products SymPy's derivation of output map 0 at one pixel holds: one per input map it reads."""
    expr = symbolic.output_map(conv, 0, (0, 0), (1, 1))
    return len(expr.args)


@functools.cache
def questions() -> tuple[Question, ...]:
    down, up = _convs()
    c_in, c_out = down.in_channels, down.out_channels
    weights = down.weight_count
    depth = down.weight_shape[1]
    terms = _terms_of_output_map_0(down)
    w_oi = tex.inline("w_{o,i}")
    items = [
        Question(
            "q-n1-times-n2",
            "Shouldn't it be n1 × n2 maps?",
            "Shouldn't it be $n_1$$n_2$ since each of the $n_2$ filters produce one output corresponding to each "
            "of the $n_1$ inputs.",
            "each product of a filter with one input map is an output map of its own",
            f"The thread's {tex.inline('n_1')} and {tex.inline('n_2')} are what this site calls "
            f"{tex.inline('C_{in}')} and {tex.inline('C_{out}')}: the numbers of input and output maps. A filter "
            f"does multiply each of the {tex.inline('C_{in}')} input maps by its own weight, but it then **adds** "
            f"those products into one map. So {tex.inline('C_{out}')} filters make {tex.inline('C_{out}')} maps: "
            f"the {c_in} → {c_out} layer makes **{down.output_shape((1, c_in, 1, 1))[1]} maps**, and its "
            f"{c_in} × {c_out} = {c_in * c_out:,} products per pixel exist only inside the {c_out} sums.",
            "n1-times-n2",
            "maps-equal-filters",
        ),
        Question(
            "q-64-to-256",
            "How do 64 maps make 256?",
            "Also how does one generate 256 feature maps from 64, as done in the bottom layer.",
            "a layer cannot make more maps than it reads",
            f"Exactly as going down: each of the {up.out_channels} output maps is its own weighted sum of the "
            f"{up.in_channels} input maps, with its own {up.in_channels} weights ({up.out_channels} × "
            f"{up.in_channels} = {up.weight_count:,} weights). Taking {up.out_channels} sums of {up.in_channels} "
            f"numbers is as easy as taking {c_out} sums of {c_in}. What the {up.out_channels} maps cannot do is "
            f"hold more than the {up.in_channels} numbers per pixel they are made from: they span only "
            f"**{up.in_channels} independent directions** (rank {up.in_channels}).",
            "how-64-to-256",
            "expansion-rank",
        ),
        Question(
            "q-just-w-i",
            "Is it just wᵢ?",
            "What is $w^n_i$ ?. Is it just $w_i$",
            "one set of weights is shared by every output map",
            f"No. A weight has two indices, {w_oi}: the output map {tex.inline('o')} it helps make and the input "
            f"map {tex.inline('i')} it multiplies. Each output map has its own {c_in} weights, so the "
            f"{c_in} → {c_out} layer holds **{weights:,} distinct weights** ({c_out} × {c_in}), not {c_in}.",
            "just-w-i",
            "parameter-count",
        ),
        Question(
            "q-randomly-selected",
            "Are 64 of the 256 inputs selected?",
            "Are you saying that 64 $x_i$s are randomly selected from 256 input maps and their weighted "
            "combination is taken using the 64 weights ($w_i$) corresponding to the 64 1x1 filters",
            "each output map reads a chosen subset of the input maps",
            f"No input map is chosen or dropped: every output map reads **all** of them. Derived by SymPy, output "
            f"map 0 of the {c_in} → {c_out} layer at a pixel is a sum of **{terms} products**, one for each input "
            f"map {tex.inline('x_0')} … {tex.inline(f'x_{{{c_in - 1}}}')}.",
            "64-randomly-selected",
            "all-inputs",
        ),
        Question(
            "q-256-weights-64-filters",
            "256 weights with only 64 filters?",
            "How can we have 256 weights when there are only 64 filters?",
            "a 1×1 filter holds one weight",
            f"A 1×1 filter is 1×1 in space but as deep as its input: 1×1×{depth}, one weight per input map. Each "
            f"of the {c_out} filters holds {depth} weights, so the layer holds {c_out} × {depth} = "
            f"**{weights:,} weights**, in a weight tensor of shape {down.weight_shape} (output map, input map, "
            "kernel height, kernel width).",
            "256-weights-64-filters",
            "parameter-count",
        ),
        Question(
            "q-single-parameter",
            "Is a weight the single parameter of a 1×1 filter?",
            "I am assuming that by weights you mean the single parameter in a 1x1 filter",
            "a 1×1 filter is a single number",
            f"A 1×1 filter holds **{depth} parameters**, one per input map. The single number is one weight "
            f"{w_oi}: the slice of filter {tex.inline('o')} that multiplies input map {tex.inline('i')}. The layer "
            f'has {weights:,} such weights in {c_out} filters. (The answer\'s later "64\\*256 filters" counts '
            "these weights as filters; a filter in the usual sense is the whole 1×1×"
            f"{depth} stack, and there are {c_out} of them.)",
            "single-parameter",
            "parameter-count",
        ),
    ]
    _check_quotes(items)
    return tuple(items)


def _check_quotes(items: list[Question]) -> None:
    """Each quote is verbatim from the thread, and they come in the thread's order."""
    text = thread_text()
    at = -1
    for q in items:
        where = text.find(q.quote)
        if where < 0:
            raise ValueError(f"{q.id}: the quote is not verbatim from the thread: {q.quote!r}")
        if where <= at:
            raise ValueError(f"{q.id}: the quotes are not in the thread's order")
        at = where


def markdown(q: Question, number: int, level: int = 3) -> str:
    """One question as Markdown: a heading, the quote, the misconception named, the answer, and links to its
    proof and to the claim that judges the thread's words."""
    theorem = get_theorem(q.theorem)
    return (
        f"{'#' * level} {number}. {verdicts.plain(q.short)} {{ #{q.id} }}\n\n"
        f"> {verdicts.with_math(q.quote)}\n>\n> — Newstein, the asker\n\n"
        f"**The picture behind it:** {q.misconception}.\n\n"
        f"**Answer.** {q.answer}\n\n"
        f"Proof: [theorem {theorem.number}, *{verdicts.plain(theorem.title)}*](theorems.md#{q.theorem}) · "
        f"the thread's words judged: [claim `{q.claim}`](claims.md#{q.claim})\n"
    )
