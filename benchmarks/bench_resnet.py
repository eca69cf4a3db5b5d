"""Time whole-ResNet forward passes of the NumPy engine and compare time ratios with multiply-add ratios.

Run: ``.venv/bin/python benchmarks/bench_resnet.py [--repeat 3] [--models resnet18,resnet50]``

Everything printed is measured in this one run: seconds per forward pass (best of ``--repeat``), GMAC/s, and
for each model the time of v1.5 over v1 beside its MACs ratio (how far the engine's time follows the count),
plus each stage's share of conv time beside its share of MACs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from verifier.execute import run_counted
from verifier.models import MODEL_NAMES, resnet
from verifier.numeric import conv2d


def _timed_conv(log: list[tuple[float, int]]) -> Callable[..., Any]:
    def conv(x: Any, w: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        y = conv2d(x, w, *args, **kwargs)
        log.append((time.perf_counter() - start, int(y.size) * int(w[0].size)))
        return y

    return conv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", default="resnet18,resnet50")
    args = parser.parse_args()
    names = args.models.split(",")
    for name in names:
        if name not in MODEL_NAMES:
            parser.error(f"--models: {name!r} is not one of {', '.join(MODEL_NAMES)}")
    print(f"{'model':<22}{'variant':>8}{'GMACs':>9}{'best s':>9}{'GMAC/s':>9}")
    for name in names:
        best: dict[str, float] = {}
        for variant in ("v1", "v1.5"):
            net = resnet(name, variant)
            runs = [run_counted(net, seed=i) for i in range(args.repeat)]
            if not all(r.matches for r in runs):
                raise SystemExit(f"{name} {variant}: the engine's multiply-adds differ from the closed form")
            best[variant] = min(r.seconds for r in runs)
            gmacs = net.macs() / 1e9
            print(f"{name:<22}{variant:>8}{gmacs:>9.3f}{best[variant]:>9.3f}{gmacs / best[variant]:>9.2f}")
        mac_ratio = resnet(name, "v1.5").macs() / resnet(name, "v1").macs()
        print(f"  v1.5 / v1: time {best['v1.5'] / best['v1']:.3f}, MACs {mac_ratio:.3f}")
        log: list[tuple[float, int]] = []
        net = resnet(name)
        run_counted(net, conv2d=_timed_conv(log))
        names_in_order = [row.name for row in net.rows() if type(row.layer).__name__ == "Conv2d"]
        by_stage: dict[str, list[float]] = {}
        for layer, (seconds, macs) in zip(names_in_order, log, strict=False):
            stage = layer.split(".")[0] if layer.startswith("layer") else "stem"
            acc = by_stage.setdefault(stage, [0.0, 0.0])
            acc[0] += seconds
            acc[1] += macs
        total_s = sum(v[0] for v in by_stage.values())
        total_m = sum(v[1] for v in by_stage.values())
        shares = ", ".join(f"{s} {100 * t / total_s:.0f}%/{100 * m / total_m:.0f}%" for s, (t, m) in by_stage.items())
        print(f"  conv time share / MAC share by stage (v1.5): {shares}")


if __name__ == "__main__":
    main()
