"""Time the symbolic engine at the thread's full width, and a naive SymPy route on the same job, in one run.

Prints wall and CPU seconds for:
  * deriving all 64 output maps of the 256->64 1x1 conv (cold: creating the symbols too; warm: symbols cached),
  * theorems 1-5 (derivations included), and the whole ``check_all`` (nine theorems),
  * the naive route on the same 64 maps: a SymPy ``Matrix`` product W (64x256) . x (256x1), then ``expand`` and
    ``count_ops`` on every entry, against the engine's derive + ``count_multiplications``.

Run: ``.venv/bin/python benchmarks/bench_symbolic.py`` (add ``--quick`` to time the naive route on 8 of the 64
maps and scale it by 8, saying so). Each figure is the best of ``--repeat`` runs, caches cleared before each.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import sympy as sp

from verifier import theorems
from verifier.spec import Conv2d
from verifier.symbolic import count_multiplications, output_maps
from verifier.symbolic import tensors as _tensors

THREAD = Conv2d(256, 64, 1, bias=False)


def _clear() -> None:
    _tensors.flat_symbols.cache_clear()
    _tensors.symbol_ndarray.cache_clear()
    _tensors._array.cache_clear()
    theorems._verdict.cache_clear()
    theorems._derived.cache_clear()
    theorems._inputs.cache_clear()
    theorems._read_coefficients.cache_clear()


def _timed(fn: Callable[[], Any], repeat: int, clear: bool = True) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of ``repeat`` runs (caches cleared first when ``clear``)."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        if clear:
            _clear()
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, result


def _engine() -> int:
    maps = output_maps(THREAD, (0, 0), (1, 1))
    return sum(count_multiplications(m) for m in maps)


def _naive(rows: int) -> int:
    w = sp.Matrix(rows, THREAD.in_channels, lambda o, i: sp.Symbol(f"w_{{{o},{i},0,0}}"))
    x = sp.Matrix(THREAD.in_channels, 1, lambda i, _: sp.Symbol(f"x_{{{i},0,0}}"))
    product = w * x
    return sum(int(sp.count_ops(sp.expand(product[o, 0]), visual=True).coeff(sp.Symbol("MUL"))) for o in range(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is kept (default 3)")
    parser.add_argument("--quick", action="store_true", help="time the naive route on 8 maps and scale by 8")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (figures are best of {args.repeat})")
    rows = []

    wall, cpu, _ = _timed(lambda: output_maps(THREAD, (0, 0), (1, 1)), args.repeat)
    rows.append(("derive 64 maps of 256->64 (cold: symbols created)", wall, cpu))
    output_maps(THREAD, (0, 0), (1, 1))
    wall, cpu, _ = _timed(lambda: output_maps(THREAD, (0, 0), (1, 1)), args.repeat, clear=False)
    rows.append(("derive 64 maps of 256->64 (warm: symbols cached)", wall, cpu))

    first_five = theorems.THEOREMS[:5]
    best: dict[int, tuple[float, float]] = {}
    totals = (float("inf"), float("inf"))
    for _ in range(args.repeat):
        _clear()
        run_wall = run_cpu = 0.0
        for t in first_five:
            w0, c0 = time.perf_counter(), time.process_time()
            assert t.check().holds
            w, c = time.perf_counter() - w0, time.process_time() - c0
            run_wall, run_cpu = run_wall + w, run_cpu + c
            best[t.number] = min(best.get(t.number, (w, c)), (w, c))
        totals = min(totals, (run_wall, run_cpu))
    rows.append(("theorems 1-5 in order, cold (derivations and proofs included)", *totals))
    for t in first_five:
        rows.append((f"  theorem {t.number} {t.id} (its best run)", *best[t.number]))

    wall, cpu, results = _timed(lambda: theorems.check_all(), 1 if args.quick else args.repeat)
    assert all(v.holds for _, v in results)
    rows.append(("check_all: the nine theorems", wall, cpu))

    engine_wall, engine_cpu, engine_count = _timed(_engine, args.repeat)
    naive_rows = 8 if args.quick else THREAD.out_channels
    scale = THREAD.out_channels / naive_rows
    naive_wall, naive_cpu, naive_count = _timed(lambda: _naive(naive_rows), 1)
    assert naive_count * scale == engine_count, (naive_count, engine_count)
    rows.append(("engine: derive + count multiplications, 64 maps", engine_wall, engine_cpu))
    label = f"naive: Matrix product + expand + count_ops, {naive_rows} maps" + (
        f" (x{scale:g} to compare)" if scale != 1 else ""
    )
    rows.append((label, naive_wall * scale, naive_cpu * scale))

    width = max(len(r[0]) for r in rows)
    print(f"{'step'.ljust(width)}  {'wall s':>8}  {'cpu s':>8}")
    for name, wall, cpu in rows:
        print(f"{name.ljust(width)}  {wall:8.3f}  {cpu:8.3f}")
    print(
        f"naive / engine on the same 64 maps: {naive_wall * scale / engine_wall:.0f}x wall, "
        f"{naive_cpu * scale / engine_cpu:.0f}x cpu (both counted {engine_count:,} multiplications)"
    )


if __name__ == "__main__":
    main()
