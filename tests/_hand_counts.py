"""Published figures and hand counts shared by the model and execute tests: no verifier class is used."""

from __future__ import annotations

from hypothesis import strategies as st

# Each model's blocks per stage (conv2_x .. conv5_x) as published, not as the package defines them:
# - ResNet-18 .. 152: He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition" (CVPR 2016,
#   arXiv:1512.03385), Table 1, the "x 2", "x 3", ... multipliers of each stage's building block.
# - ResNeXt-50 (32x4d): Xie, Girshick, Dollar, Tu, He, "Aggregated Residual Transformations for Deep Neural
#   Networks" (CVPR 2017, arXiv:1611.05431), Table 1: ResNet-50's stages, cardinality C = 32, width d = 4.
# - Wide ResNet-50-2: Zagoruyko, Komodakis, "Wide Residual Networks" (BMVC 2016, arXiv:1605.07146), as
#   torchvision's docs for wide_resnet50_2 describe it: ResNet-50 with the bottleneck's inner width doubled
#   (64 * 2 = 128 per group).
# Entries: (block kind, blocks per stage, groups, width per group).
PUBLISHED_BLOCKS = {
    "resnet18": ("basic", (2, 2, 2, 2), 1, 64),
    "resnet34": ("basic", (3, 4, 6, 3), 1, 64),
    "resnet50": ("bottleneck", (3, 4, 6, 3), 1, 64),
    "resnet101": ("bottleneck", (3, 4, 23, 3), 1, 64),
    "resnet152": ("bottleneck", (3, 8, 36, 3), 1, 64),
    "resnext50_32x4d": ("bottleneck", (3, 4, 6, 3), 32, 4),
    "wide_resnet50_2": ("bottleneck", (3, 4, 6, 3), 1, 2 * 64),
}


def _out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def hand_counts(
    name: str | tuple[str, tuple[int, ...], int, int], variant: str, hw: int = 224
) -> dict[str, dict[str, int]]:
    """Params, MACs and side quantities per stage, by plain arithmetic over a hand-written loop of blocks.

    Uses no verifier class: each conv's cost is written out as k*k*C_in/g*C_out weights times output pixels.
    ``name`` is a member of the family or a (kind, layers, groups, width per group) tuple; the input is a
    square ``hw`` x ``hw`` image, batch 1.
    """
    kind, layers, groups, wpg = PUBLISHED_BLOCKS[name] if isinstance(name, str) else name
    stages: dict[str, dict[str, int]] = {}
    h = _out(hw, 7, 2, 3)
    stem = {"params": 7 * 7 * 3 * 64 + 2 * 64, "macs": h * h * 7 * 7 * 3 * 64, "bn": 64 * h * h, "add": 0}
    stages["stem"] = stem
    h = _out(h, 3, 2, 1)
    c = 64
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True), start=1):
        st = {"params": 0, "macs": 0, "bn": 0, "add": 0}
        for i in range(count):
            s = 2 if stage > 1 and i == 0 else 1
            ho = _out(h, 3, s, 1)
            if kind == "bottleneck":
                width = planes * wpg // 64 * groups
                out = 4 * planes
                at = ho if variant == "v1" else h  # where the first 1x1 runs
                convs = [  # (weights, output pixels)
                    (c * width, at * at),
                    (9 * (width // groups) * width, ho * ho),
                    (width * out, ho * ho),
                ]
                bns = [(width, at * at), (width, ho * ho), (out, ho * ho)]
            else:
                out = planes
                convs = [(9 * c * planes, ho * ho), (9 * planes * planes, ho * ho)]
                bns = [(planes, ho * ho), (planes, ho * ho)]
            if s != 1 or c != out:
                convs.append((c * out, ho * ho))
                bns.append((out, ho * ho))
            st["params"] += sum(w for w, _ in convs) + sum(2 * ch for ch, _ in bns)
            st["macs"] += sum(w * px for w, px in convs)
            st["bn"] += sum(ch * px for ch, px in bns)
            st["add"] += out * ho * ho
            c, h = out, ho
        stages[f"layer{stage}"] = st
    stages["head"] = {"params": c * 1000 + 1000, "macs": c * 1000, "bn": 0, "add": 0}
    return stages


def hand_counts_total(name: str | tuple[str, tuple[int, ...], int, int], variant: str, hw: int) -> int:
    return sum(v["macs"] for v in hand_counts(name, variant, hw).values())


configs = st.tuples(
    st.sampled_from(["basic", "bottleneck"]),
    st.tuples(*[st.integers(1, 3)] * 4),
    st.sampled_from([(1, 64), (2, 32), (4, 16), (1, 16)]),
)
