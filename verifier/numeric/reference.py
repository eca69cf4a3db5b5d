"""The engine's oracle: convolution, batch norm and ReLU written as plain loops, for obviousness only.

Nothing here is fast or clever, and nothing is shared with :mod:`verifier.numeric.conv`: the
window of each output is found by walking the padded input, and padding is never materialised (a tap
outside the image contributes nothing). Tests compare the engine against these loops on small sizes.
Values are combined with Python arithmetic, so ``int`` and ``Fraction`` entries stay exact.

>>> conv2d([[[1, 2], [3, 4]]], [[[[1, 1], [1, 1]]]])      # one 2x2 filter of ones over one 2x2 map
[[[10]]]
"""

from __future__ import annotations

from typing import Any

__all__ = ["batch_norm", "bottleneck", "conv2d", "relu"]

Nested = Any  # nested lists: [C][H][W] or [N][C][H][W]


def _pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    return int(value[0]), int(value[1])


def _tolist(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def _padding(padding: Any, reach_h: int, reach_w: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right): 'same' pads each window's reach, the odd extra zero at the bottom and right."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        return reach_h // 2, reach_h - reach_h // 2, reach_w // 2, reach_w - reach_w // 2
    ph, pw = _pair(padding)
    return ph, ph, pw, pw


def conv2d(
    input: Nested,
    weight: Nested,
    bias: Nested = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Nested:
    """Loop over every output, every input map of its group and every kernel tap; returns nested lists."""
    x = _tolist(input)
    w = _tolist(weight)
    b = _tolist(bias)
    batched = isinstance(x[0][0][0], list)
    images = x if batched else [x]
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    out_channels, per_group, kh, kw = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
    reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)  # from a window's first tap to its last
    top, bottom, left, right = _padding(padding, reach_h, reach_w)
    outs_per_group = out_channels // groups
    results = []
    for image in images:
        height, width = len(image[0]), len(image[0][0])
        # every window start (in padded coordinates) whose last tap still lies inside the padded image
        rows = [r for r in range(0, height + top + bottom, sh) if r + reach_h < height + top + bottom]
        cols = [c for c in range(0, width + left + right, sw) if c + reach_w < width + left + right]
        maps = []
        for o in range(out_channels):
            group = o // outs_per_group
            plane = []
            for r in rows:
                line = []
                for c in cols:
                    total: Any = b[o] if b is not None else 0
                    for i in range(per_group):
                        channel = group * per_group + i
                        for u in range(kh):
                            for v in range(kw):
                                y = r + u * dh - top
                                z = c + v * dw - left
                                if 0 <= y < height and 0 <= z < width:
                                    total = total + w[o][i][u][v] * image[channel][y][z]
                    line.append(total)
                plane.append(line)
            maps.append(plane)
        results.append(maps)
    return results if batched else results[0]


def relu(input: Nested) -> Nested:
    """max(0, x) for every entry of nested lists."""
    if isinstance(input, list):
        return [relu(item) for item in input]
    return input if input > 0 else 0


def batch_norm(
    input: Nested,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    eps: Any = 1e-5,
    sqrt: Any = None,
) -> Nested:
    """(x - mean) / sqrt(var + eps) * gamma + beta on (N, C, H, W) nested lists.

    ``sqrt`` takes the square root; by default ``x ** 0.5`` (floats). Exact callers pass an exact root.
    """
    root = sqrt if sqrt is not None else (lambda value: value**0.5)
    x = _tolist(input)
    out = []
    for image in x:
        maps = []
        for c, plane in enumerate(image):
            gamma = 1 if weight is None else weight[c]
            beta = 0 if bias is None else bias[c]
            denominator = root(running_var[c] + eps)
            maps.append([[(value - running_mean[c]) / denominator * gamma + beta for value in line] for line in plane])
        out.append(maps)
    return out


def _add(a: Nested, b: Nested) -> Nested:
    if isinstance(a, list):
        return [_add(p, q) for p, q in zip(a, b, strict=True)]
    return a + b


def bottleneck(input: Nested, params: Any, sqrt: Any = None) -> Nested:
    """The bottleneck block, layer after layer, with nothing folded: the definition, read top to bottom.

    ``params`` is a :class:`verifier.numeric.params.BottleneckParams`; its strides and shortcut decide
    where each stride goes.
    """
    block = params.block
    s1, s2 = (block.stride, 1) if block.variant == "v1" else (1, block.stride)

    def bn(x: Nested, p: Any) -> Nested:
        return batch_norm(
            x, _tolist(p.running_mean), _tolist(p.running_var), _tolist(p.weight), _tolist(p.bias), p.eps, sqrt
        )

    y = relu(bn(conv2d(input, params.conv1, stride=s1), params.bn1))
    y = relu(bn(conv2d(y, params.conv2, stride=s2, padding=1, groups=block.groups), params.bn2))
    y = bn(conv2d(y, params.conv3), params.bn3)
    shortcut = _tolist(input)
    if params.downsample is not None:
        shortcut = bn(conv2d(input, params.downsample, stride=block.stride), params.downsample_bn)
    return relu(_add(y, shortcut))
