"""PyTorch's own bottleneck beside the engine's, both as ratios to the same bare NumPy matrix product.

Run:  python benchmarks/compare_torch.py [--rounds 3] [--repeats 30] [--batches 1 8] [--torch-python PATH]

PyTorch is not a dependency of this project, and nothing else here imports it. This script answers one
question for the benchmark's targets: how close do a framework's optimised CPU kernels come, on this
machine, to the bare matrix-product rate that ``bench_bottleneck.py`` uses as its limit? It needs an
interpreter with torch installed (``--torch-python``, default: this one).

Each side runs in a process of its own, alternating, ``--rounds`` times: two BLAS libraries in one process
keep each other's threads spinning, which would slow whichever ran second. The NumPy side times the bare
products and the engine's block interleaved, as ``bench_bottleneck.py`` does; the PyTorch side times the
same block (batch norms in eval mode, identity shortcut, float32, no gradients) four ways: eager on NCHW,
eager on channels-last, frozen TorchScript after ``torch.jit.optimize_for_inference`` (batch norms folded
into the convs, conv-add-ReLU fused where oneDNN can), and ``torch.compile`` on channels-last (inductor's
fused kernels around oneDNN's convs; it needs a C++ compiler, and ``--no-compile`` leaves it out). Ratios
are bare time / block time from each round's medians; the median and the best over rounds are printed (a
process's threads can land badly, so single rounds vary).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable

from _timing import BareProducts, interleaved

_SLOW_KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _medians(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    return {name: statistics.median(ts) for name, ts in interleaved(fns, repeats, warmups=2).items()}


def _numpy_side(batch: int, repeats: int) -> dict[str, float]:
    import numpy as np

    from verifier import Bottleneck
    from verifier.numeric import FoldedBottleneck, bottleneck_input, bottleneck_params

    block = Bottleneck()
    bare = BareProducts(batch, block.width, block.in_channels)
    model = FoldedBottleneck(bottleneck_params(block, seed=0, dtype="float32"))
    x = bottleneck_input(block, batch, 56, seed=1, dtype="float32")
    out = np.empty(block.output_shape(x.shape), np.float32)
    return _medians({"bare": bare.block, "engine": lambda: model(x, out=out)}, repeats)


def _torch_side(batch: int, repeats: int, compile_too: bool) -> dict[str, float]:
    import torch
    from torch import nn

    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(256, 64, 1, bias=False), nn.BatchNorm2d(64)
            self.conv2, self.bn2 = nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64)
            self.conv3, self.bn3 = nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256)
            for bn in (self.bn1, self.bn2, self.bn3):
                bn.running_mean.uniform_(-1, 1)
                bn.running_var.uniform_(0.5, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = torch.relu(self.bn1(self.conv1(x)))
            y = torch.relu(self.bn2(self.conv2(y)))
            return torch.relu(self.bn3(self.conv3(y)) + x)

    x = torch.randn(batch, 256, 56, 56)
    eager = Block().eval()
    channels_last = Block().eval().to(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    contenders: dict[str, Callable[[], object]] = {
        "eager NCHW": lambda: eager(x),
        "eager channels-last": lambda: channels_last(x_cl),
    }
    with torch.no_grad():
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(Block().eval())))
        contenders["frozen TorchScript"] = lambda: frozen(x)
        if compile_too:  # inductor generates fused C++ kernels for everything around oneDNN's convs
            compiled = torch.compile(Block().eval().to(memory_format=torch.channels_last))
            contenders["compiled channels-last"] = lambda: compiled(x_cl)
        return _medians(contenders, repeats)


def _run_side(python: str, side: str, batch: int, repeats: int, compile_too: bool) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in _SLOW_KERNEL_VARS}
    command = [python, os.path.abspath(__file__), "--side", side, "--batch", str(batch), "--repeats", str(repeats)]
    command.append("--compile" if compile_too else "--no-compile")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the {side} side failed ({' '.join(command)}):\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two sides (default 3)")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per contender and round (default 30)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="batch sizes (default 1 8)")
    parser.add_argument("--torch-python", default=sys.executable, help="an interpreter with torch installed")
    parser.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, default=True, help="also torch.compile (needs g++)"
    )
    parser.add_argument("--side", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "numpy":
        print(json.dumps(_numpy_side(args.batch, args.repeats)))
        return
    if args.side == "torch":
        print(json.dumps(_torch_side(args.batch, args.repeats, args.compile)))
        return
    probe = subprocess.run(
        [args.torch_python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        sys.exit(
            f"--torch-python {args.torch_python} cannot import torch; install it there first (on a CPU-only "
            "machine: pip install torch==2.13.0). PyTorch is not one of this project's dependencies."
        )
    print(f"PyTorch {probe.stdout.strip()} in {args.torch_python}; {os.cpu_count()} CPUs; {args.rounds} rounds")
    print(f"{'batch':>5}  {'contender':<22} {'ms':>8} {'ratio to bare':>13} {'best round':>10}   (bare ms)")
    for batch in args.batches:
        ratios: dict[str, list[float]] = {}
        times: dict[str, list[float]] = {}
        bare: list[float] = []
        for _ in range(args.rounds):
            numpy_side = _run_side(sys.executable, "numpy", batch, args.repeats, args.compile)
            torch_side = _run_side(args.torch_python, "torch", batch, args.repeats, args.compile)
            bare.append(numpy_side["bare"])
            for name, seconds in {"verifier engine": numpy_side["engine"], **torch_side}.items():
                ratios.setdefault(name, []).append(numpy_side["bare"] / seconds)
                times.setdefault(name, []).append(seconds)
        for name in ratios:
            print(
                f"{batch:>5}  {name:<22} {statistics.median(times[name]) * 1e3:>8.2f} "
                f"{statistics.median(ratios[name]):>13.3f} {max(ratios[name]):>10.3f}   "
                f"({statistics.median(bare) * 1e3:.2f})"
            )
    print("ratio: the bare NumPy products' time / the block's time, per round; median and best over rounds")


if __name__ == "__main__":
    main()
