"""Speed and memory of the full-size bottleneck, as ratios to a bare NumPy matrix product measured in the same run.

Run:  python benchmarks/bench_bottleneck.py [--repeats R] [--batches 1 8] [--threads T]

For each batch size it prints: the block's median forward time, GFLOP/s (FLOPs = 2 x MACs), and the ratio
of a bare ``np.matmul`` doing the same multiply-adds (the practical limit here) to the engine's time, for
the 1x1 convs alone and for the whole block (convs, folded batch norms, ReLUs, residual add); the peak
memory a forward pass allocates beyond its input and weights, as a multiple of the input; and the time of
the exact symbolic cross-check of one interior output pixel (all 256 maps). It also prints a ceiling: the
block ratio of an engine whose products all ran at the bare rate and that made only the passes no checked
NumPy formulation avoids (NumPy cannot add and clamp in one pass, and a ReLU would hide an overflow to
-inf, so results are read for it), timed in the same run in their fastest form. Timings of the engine and
of the bare products are interleaved in a shuffled order, so both see the same machine load and neither
always follows the same neighbour. ``--threads T`` gives both sides T threads (BLAS threads for the bare
product, bands for the engine); the default is every CPU.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE can make OpenBLAS pick a slow kernel; when either is set the script
restarts itself with both removed from its environment (only for this process).
"""

from __future__ import annotations

import os
import sys

_SLOW_KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _SLOW_KERNEL_VARS):  # before NumPy loads OpenBLAS
    removed = [f"{v}={os.environ[v]}" for v in _SLOW_KERNEL_VARS if v in os.environ]
    env = {k: v for k, v in os.environ.items() if k not in _SLOW_KERNEL_VARS}
    env["BENCH_REMOVED_VARS"] = " ".join(removed)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from _timing import BareProducts, interleaved  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from verifier import Bottleneck  # noqa: E402
from verifier.crosscheck import exact_pixel  # noqa: E402
from verifier.numeric import FoldedBottleneck, bottleneck_input, bottleneck_params, conv2d  # noqa: E402
from verifier.numeric.activations import relu_into  # noqa: E402
from verifier.numeric.blocks import STEP_BYTES  # noqa: E402


def _peak_extra(params: object, x: np.ndarray) -> int:
    model = FoldedBottleneck(params)  # type: ignore[arg-type]
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    y = model(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del y
    return peak - base


def bench(batch: int, repeats: int) -> dict[str, float]:
    block = Bottleneck()
    rng = np.random.default_rng(0)
    params = bottleneck_params(block, seed=0, dtype="float32")
    model = FoldedBottleneck(params)
    x = bottleneck_input(block, batch, 56, seed=1, dtype="float32")
    out = np.empty(block.output_shape(x.shape), np.float32)
    m, c = block.width, block.in_channels
    bare = BareProducts(batch, m, c)
    a_nchw = rng.standard_normal((batch, m, 56, 56), dtype=np.float32)
    w1_oihw, w3_oihw = bare.w1[:, :, None, None], bare.w3[:, :, None, None]

    def engine_1x1() -> None:
        conv2d(x, w1_oihw)
        conv2d(a_nchw, w3_oihw)

    # The passes no checked NumPy formulation of the block avoids. NumPy has no ufunc that adds and clamps in
    # one pass, so the residual is an add and then a ReLU over the block's output; conv1's and conv2's ReLUs
    # each write their 64 maps once; conv1's result is read once for NaN and overflow (a ReLU would hide an
    # overflow to -inf), and so is the output for overflow. Timed in two forms, and the faster one counts:
    # whole arrays, and per item in steps small enough that what the add wrote is read back from cache.
    hw = 56 * 56
    z = rng.standard_normal((batch, c, hw), dtype=np.float32)
    shortcut = rng.standard_normal((batch, c, hw), dtype=np.float32)
    h1 = rng.standard_normal((batch, m, hw), dtype=np.float32)
    h2 = rng.standard_normal((batch, m, hw), dtype=np.float32)
    step = max(1, STEP_BYTES // (hw * 4))

    def floor_whole() -> None:
        np.add(z, shortcut, out=z)
        relu_into(z, z)
        z.max()
        relu_into(h1, h1)
        h1.max()
        relu_into(h2, h2)

    def floor_steps() -> None:
        for i in range(batch):
            relu_into(h1[i], h1[i])
            h1[i].max()
            relu_into(h2[i], h2[i])
            for s0 in range(0, c, step):
                part = z[i, s0 : s0 + step]
                part += shortcut[i, s0 : s0 + step]
                relu_into(part, part)
                part.max()

    times = interleaved(
        {
            "block": lambda: model(x, out=out),
            "bare_block": bare.block,
            "1x1": engine_1x1,
            "bare_1x1": bare.one_by_one,
            "floor_whole": floor_whole,
            "floor_steps": floor_steps,
        },
        repeats,
    )
    med = {name: statistics.median(ts) for name, ts in times.items()}
    best = {name: min(ts) for name, ts in times.items()}
    macs = block.macs(x.shape)
    peak = _peak_extra(params, x)
    exact_params = bottleneck_params(block, seed=0, dtype="float64", integer=True)
    exact_x = bottleneck_input(block, 1, 56, seed=1, dtype="float64", integer=True)
    start = time.perf_counter()
    exact_pixel(exact_params, exact_x[0], (28, 28))
    pixel_seconds = time.perf_counter() - start
    return {
        "batch": batch,
        "seconds": med["block"],
        "gflops": 2 * macs / med["block"] / 1e9,
        "bare_gflops": 2 * macs / med["bare_block"] / 1e9,
        "ratio_1x1": med["bare_1x1"] / med["1x1"],
        "ratio_block": med["bare_block"] / med["block"],
        "ratio_1x1_best": best["bare_1x1"] / best["1x1"],
        "ratio_block_best": best["bare_block"] / best["block"],
        # the block ratio of an engine whose products ran at the bare rate and did only the unavoidable passes
        "ceiling": med["bare_block"] / (med["bare_block"] + min(med["floor_whole"], med["floor_steps"])),
        "peak_x_input": peak / x.nbytes,
        "pixel_seconds": pixel_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs of each contender (default 30)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="batch sizes (default 1 8)")
    parser.add_argument("--threads", type=int, default=None, help="threads for both sides (default: every CPU)")
    args = parser.parse_args()
    if args.threads is not None:
        os.environ["VERIFIER_THREADS"] = str(args.threads)
        with threadpool_limits(limits=args.threads, user_api="blas"):
            _report(args)
    else:
        _report(args)


def _report(args: argparse.Namespace) -> None:
    if os.environ.get("BENCH_REMOVED_VARS"):
        print(f"restarted without {os.environ['BENCH_REMOVED_VARS']} (they can select a slow BLAS kernel)")
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            print(
                f"BLAS: {info.get('internal_api')} {info.get('version')}, kernel {info.get('architecture')}, "
                f"{info.get('num_threads')} threads ({info.get('filepath')})"
            )
    print(f"NumPy {np.__version__}, {os.cpu_count()} CPUs; targets: 1x1 >= 0.9, block >= 0.85, peak <= 3x input")
    header = (
        f"{'batch':>5} {'ms':>8} {'GFLOP/s':>8} {'bare GFLOP/s':>12} {'1x1 ratio':>9} {'block ratio':>11} "
        f"{'(best-of)':>10} {'ceiling':>7} {'peak/input':>10} {'exact pixel s':>13}"
    )
    print(header)
    for batch in args.batches:
        r = bench(batch, args.repeats)
        print(
            f"{batch:>5} {r['seconds'] * 1e3:>8.2f} {r['gflops']:>8.1f} {r['bare_gflops']:>12.1f} "
            f"{r['ratio_1x1']:>9.3f} {r['ratio_block']:>11.3f} "
            f"{r['ratio_1x1_best']:>4.2f}/{r['ratio_block_best']:<5.2f} {r['ceiling']:>7.3f} "
            f"{r['peak_x_input']:>10.2f} "
            f"{r['pixel_seconds']:>13.2f}"
        )
    print("ratios: bare matmul time / engine time (medians; best-of: fastest run of each); peak: beyond input+weights")
    print(
        "ceiling: bare / (bare + the passes any checked NumPy block makes: residual add, the ReLUs, reads of conv1's\n"
        "         result and of the output for overflow), the best block ratio an unfused NumPy engine can reach here"
    )


if __name__ == "__main__":
    main()
