"""The thread's statements, in the thread's order: quote, speaker, form, deciding theorems and judge."""

from __future__ import annotations

from . import _judges_maps as m
from . import _judges_weights as w
from ._judging import Statement

__all__ = ["CLAIMS", "FILTER_POLICY"]

FILTER_POLICY = (
    "A filter is the 1x1xC_in stack of weights that makes one output map: for output map o, the weights "
    "w_{o,0}, ..., w_{o,C_in-1}, one per input map. A 1x1 conv has C_out filters. One input map's share of a filter, "
    "w_{o,i}, is a weight, never a filter. Every statement that uses the word is judged with this meaning; where "
    "a speaker means a weight by it, the note says so."
)

_Q, _A, _C1 = "Newstein", "dontloo", "Pepe Mandioca"
_EARLIER = "an earlier post"
_WEIGHT_NOT_FILTER = "dontloo uses 'filter' for one input map's share of a filter, which this page calls a weight."

CLAIMS: tuple[Statement, ...] = (
    Statement(
        "change-dimensionality",
        _Q,
        "1x1 convolution can be used to change the dimensionality of feature maps in a residual learning network",
        ("maps-equal-filters",),
        m.judge_change_dimensionality,
        form="question",
        reading="A 1x1 convolution can change the number of feature maps (the question takes it as given).",
    ),
    Statement(
        "size-256-to-64",
        _Q,
        "Here the top 1x1 convolution changes the feature map size from 256 to 64.",
        ("maps-equal-filters", "conv1x1-is-matmul"),
        m.judge_size_256_to_64,
        note="'Feature map size' is read as the number of maps, the only reading under which the figures are "
        "256 and 64.",
    ),
    Statement(
        "how-256-to-64",
        _Q,
        "How is this possible?",
        ("maps-equal-filters", "all-inputs"),
        m.answer_how_256_to_64,
        form="question",
    ),
    Statement(
        "n2-maps",
        _EARLIER,
        "if a layer having $n_1$ feature maps is subjected to 1x1 convolution with $n_2$ filters then number of "
        "feature map changes to $n_2$",
        ("maps-equal-filters",),
        m.judge_n2_maps,
        form="reported statement",
        reported_by=_Q,
        note="Newstein reports this from an earlier post ('it is mentioned that') and doubts it in his next "
        "sentence. The thread's n1 and n2 are C_in and C_out.",
    ),
    Statement(
        "n1-times-n2",
        _Q,
        "Shouldn't it be $n_1$$n_2$",
        ("maps-equal-filters", "all-inputs"),
        m.judge_n1_times_n2,
        form="question",
        reading="A 1x1 conv with n2 filters on n1 maps outputs n1*n2 maps.",
    ),
    Statement(
        "output-per-input",
        _Q,
        "each of the $n_2$ filters produce one output corresponding to each of the $n_1$ inputs",
        ("all-inputs", "maps-equal-filters"),
        m.judge_output_per_input,
    ),
    Statement(
        "how-64-to-256",
        _Q,
        "how does one generate 256 feature maps from 64, as done in the bottom layer",
        ("maps-equal-filters", "all-inputs", "expansion-rank"),
        m.answer_how_64_to_256,
        form="question",
    ),
    Statement(
        "one-parameter-per-input-map",
        _A,
        "There's only one parameter for each input map in a 1*1 filter",
        ("all-inputs", "parameter-count"),
        w.judge_one_parameter_per_input_map,
    ),
    Statement(
        "same-scalar",
        _A,
        "the 1*1 convolution is multiplying the every element of an input map by the same scalar",
        ("all-inputs", "conv1x1-is-matmul"),
        m.judge_same_scalar,
    ),
    Statement(
        "265-linear-combinations",
        _A,
        "So it is similar to getting 265 linear combinations out of 64 variables",
        ("conv1x1-is-matmul", "maps-equal-filters"),
        m.judge_linear_combinations,
        note=m.typo_265,
    ),
    Statement(
        "yn-formula",
        _A,
        "$$y_n=f(w_{n,1}x_1+w_{n,2}x_2+...+w_{n,64}x_{64})$$",
        ("all-inputs", "conv1x1-is-matmul"),
        m.judge_yn_formula,
    ),
    Statement(
        "any-number-of-maps",
        _A,
        "we can get any number of output feature maps as we want",
        ("maps-equal-filters", "parameter-count"),
        m.judge_any_number_of_maps,
    ),
    Statement(
        "output-redundant",
        _A,
        "if the output dimension is greater than the input dimension, the output would be redundant",
        ("expansion-rank", "linear-collapse", "batchnorm-fold"),
        m.judge_redundant,
        note="'Redundant' is read two ways, kept apart: linear dependence (rank) and information (how many "
        "numbers determine the values).",
    ),
    Statement(
        "what-is-w-n-i",
        _Q,
        "What is $w^n_i$ ?",
        ("all-inputs", "parameter-count"),
        w.answer_what_is_w,
        form="question",
    ),
    Statement(
        "just-w-i",
        _Q,
        "Is it just $w_i$",
        ("all-inputs", "parameter-count"),
        w.judge_same_weights_for_all,
        form="question",
        reading="Every output map uses the same weights w_i, one per input map.",
    ),
    Statement(
        "subscript-of-yn",
        _A,
        "It's meant to be in accordance with the subscript of $y_n$",
        ("all-inputs", "parameter-count"),
        w.judge_subscript_of_yn,
    ),
    Statement(
        "different-weights-per-output",
        _A,
        "you have a different set of weights for different output channels",
        ("all-inputs", "parameter-count"),
        w.judge_different_weights,
    ),
    Statement(
        "how-about-reducing",
        _Q,
        "How about reducing the dimensionality from 256 to 64 in the top layer?",
        ("maps-equal-filters", "all-inputs"),
        m.answer_reducing,
        form="question",
    ),
    Statement(
        "reduction-is-the-same",
        _A,
        "it the same, only you have n=1, 2,...,64 instead of 256",
        ("all-inputs", "maps-equal-filters"),
        m.judge_same_for_reduction,
    ),
    Statement(
        "64-randomly-selected",
        _Q,
        "64 $x_i$s are randomly selected from 256 input maps and their weighted combination is taken using the 64 "
        "weights ($w_i$) corresponding to the 64 1x1 filters",
        ("all-inputs",),
        w.judge_randomly_selected,
        form="question",
        reading="Each of the 64 output maps takes 64 of the 256 input maps, chosen at random, and weighs them with "
        "the 64 weights w_i of the 64 filters.",
    ),
    Statement(
        "input-has-256",
        _A,
        "the input of course consists 256$x_i$s",
        ("all-inputs",),
        w.judge_input_has_256,
    ),
    Statement(
        "256-weights-per-output",
        _A,
        "we have 256 weights per output channel, and we'll have 64 channels",
        ("all-inputs", "parameter-count"),
        w.judge_256_weights_per_output,
    ),
    Statement(
        "256-weights-64-filters",
        _Q,
        "How can we have 256 weights when there are only 64 filters?",
        ("maps-equal-filters", "parameter-count"),
        w.judge_how_256_weights,
        form="question",
        reading="64 filters cannot hold 256 weights per output channel, a filter holding one weight.",
    ),
    Statement(
        "single-parameter-assumed",
        _Q,
        "I am assuming that by weights you mean the single parameter in a 1x1 filter",
        ("parameter-count",),
        w.judge_single_parameter_assumed,
        reading="A 1x1 filter holds a single parameter (Newstein's core belief: one parameter per filter).",
    ),
    Statement(
        "single-parameter",
        _A,
        "by weights I mean the single parameter in a 1x1 filter",
        ("parameter-count",),
        w.judge_single_parameter,
        note=_WEIGHT_NOT_FILTER,
    ),
    Statement(
        "not-64-filters",
        _A,
        "there're not in total 64 filters, there are 64 output channels (or feature maps)",
        ("maps-equal-filters", "parameter-count"),
        w.judge_not_64_filters,
        note=_WEIGHT_NOT_FILTER,
    ),
    Statement(
        "64x256-filters",
        _A,
        "there'll be 64*256 filters",
        ("maps-equal-filters", "parameter-count"),
        w.judge_64x256_filters,
        note=_WEIGHT_NOT_FILTER,
    ),
    Statement(
        "filter-per-channel-then-sum",
        _A,
        "you apply a different filter to each input channel, add up the results and apply an activation function "
        "to get the output of one channel",
        ("all-inputs",),
        w.judge_different_filter_per_channel,
        note=_WEIGHT_NOT_FILTER + " Read with weights for filters, the procedure is the conv's.",
    ),
    Statement(
        "1x1xC-filter",
        _C1,
        'a 1x1 convolutional filter is "1x1" just in the spatial dimension, but it is a 1x1xC convolution, where C '
        "is the number of input feature maps or channels (256 for the first layer in the OPs example example)",
        ("parameter-count", "all-inputs"),
        w.judge_1x1xc_filter,
        note="'example example' repeats a word.",
    ),
    Statement(
        "C-parameters",
        _C1,
        "you actually have C parameters for a 1x1 convolution",
        ("parameter-count",),
        w.judge_c_parameters,
    ),
    Statement(
        "1x1xCx64-parameters",
        _C1,
        "Since you want to output 64 different feature maps, you have 1x1xCx64 parameters for the whole layer.",
        ("parameter-count",),
        w.judge_1x1xcx64,
    ),
)
