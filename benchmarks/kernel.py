"""Similarity kernel throughput: comparisons/s of dice_threshold, per backend and thread count.

    python benchmarks/kernel.py                 # 20,000 x 20,000 1024-bit filters, t = 0.8
    python benchmarks/kernel.py --n 5000 --repeats 1 --kernels avx2,numpy

Data: random filters with bit density 0.3 (about 307 of 1024 bits set, typical of CLKs);
2% of the rows of B are copies of rows of A with 5% of the bits flipped, so the threshold
finds real matches. The repeats are interleaved (each repeat runs every configuration
once), so on a shared, noisy machine all configurations see the same conditions; the table
shows the median, the best run and every run's time. Every configuration must return
exactly the same pairs and scores; the run fails otherwise.

If anonlink is importable (``pip install -e ".[bench]"``), its
``similarities.dice_coefficient_accelerated`` (single-threaded C++) runs on the same data in
the same process and each row shows the ratio to it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from linkage.matching import kernels

ALL_KERNELS = ("avx512", "avx2", "popcnt", "portable", "numpy")


@dataclass
class Row:
    name: str
    threads: int
    times: list[float]
    pairs: int

    def rate(self, comparisons: int) -> float:
        return comparisons / statistics.median(self.times)


def make_data(n: int, bits: int, density: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    words = bits // 64

    def filters(rows: int) -> np.ndarray:
        raw = rng.random((rows, bits), dtype=np.float32) < density
        return np.packbits(raw, axis=1, bitorder="little").view("<u8").reshape(rows, words)

    a, b = filters(n), filters(n)
    planted = rng.choice(n, size=n // 50, replace=False)
    noise = rng.random((len(planted), bits), dtype=np.float32) < 0.05
    flips = np.packbits(noise, axis=1, bitorder="little").view("<u8").reshape(-1, words)
    b[planted] = a[rng.choice(n, size=len(planted), replace=False)] ^ flips
    return a, b


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def set_kernel(name: str) -> None:
    if name == "numpy":
        os.environ["LINKAGE_KERNEL"] = "numpy"
        os.environ.pop("LINKAGE_KERNEL_PATH", None)
    else:
        os.environ["LINKAGE_KERNEL"] = "c"
        os.environ["LINKAGE_KERNEL_PATH"] = name


def available_kernels(wanted: list[str]) -> list[str]:
    mod, err = kernels._load_extension()
    supported = set(mod.supported_paths()) if mod is not None else set()
    out = []
    for name in wanted:
        if name == "numpy" or name in supported:
            out.append(name)
        else:
            why = err or "not supported by this CPU"
            print(f"# skipping {name}: {why}", file=sys.stderr)
    return out


def anonlink_runner(a: np.ndarray, b: np.ndarray, threshold: float):
    """A callable running anonlink on the data (bitarrays built once), or None."""
    try:
        from anonlink.similarities import dice_coefficient_accelerated
        from bitarray import bitarray
    except ImportError:
        return None

    def to_bitarrays(f: np.ndarray) -> list:
        out = []
        for row in f:
            ba = bitarray(endian="little")
            ba.frombytes(row.astype("<u8").tobytes())
            out.append(ba)
        return out

    fa, fb = to_bitarrays(a), to_bitarrays(b)

    def run() -> list[tuple[int, int, float]]:
        sims, (i0, i1) = dice_coefficient_accelerated([fa, fb], threshold, k=None)
        return sorted(zip(i0.tolist(), i1.tolist(), sims.tolist(), strict=True))

    return run


def ours_runner(name: str, a: np.ndarray, b: np.ndarray, threshold: float, threads: int):
    def run() -> list[tuple[int, int, float]]:
        set_kernel(name)
        r = kernels.dice_threshold(a, b, threshold, threads=threads)
        return list(zip(r.i.tolist(), r.j.tolist(), r.score.tolist(), strict=True))

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="rows of A and of B")
    ap.add_argument("--bits", type=int, default=1024)
    ap.add_argument("--density", type=float, default=0.3)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--kernels", default=",".join(ALL_KERNELS))
    ap.add_argument("--no-anonlink", action="store_true")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)

    a, b = make_data(args.n, args.bits, args.density, args.seed)
    comparisons = args.n * args.n
    thread_counts = [int(x) for x in args.threads.split(",")]
    names = available_kernels([x.strip() for x in args.kernels.split(",") if x.strip()])
    saved_env = {k: os.environ.get(k) for k in ("LINKAGE_KERNEL", "LINKAGE_KERNEL_PATH")}

    print(f"# {args.n:,} x {args.n:,} filters of {args.bits} bits, density {args.density}, "
          f"threshold {args.threshold}, median of {args.repeats}")
    print(f"# CPU: {cpu_model()}; {os.cpu_count()} logical CPUs; numpy {np.__version__}; "
          f"load average at start: {load_average()}")

    configs: list[tuple[str, int, Callable[[], list]]] = []
    for name in names:
        set_kernel(name)
        info = kernels.kernel_info()
        for threads in thread_counts:
            configs.append((f"{info.backend} {info.cpu_path}", threads,
                            ours_runner(name, a, b, args.threshold, threads)))
    anon = None if args.no_anonlink else anonlink_runner(a, b, args.threshold)
    if anon is not None:
        configs.append(("anonlink C++", 1, anon))
    elif not args.no_anonlink:
        print("# anonlink not installed (pip install -e \".[bench]\"): no ratio column")

    # Round-robin: every repeat runs each configuration once, so all of them sample the
    # same (shared, noisy) machine conditions; medians are taken per configuration.
    rows = [Row(label, threads, [], 0) for label, threads, _ in configs]
    expected = None
    try:
        for rep in range(args.repeats):
            for row, (label, threads, fn) in zip(rows, configs, strict=True):
                t0 = time.perf_counter()
                pairs = fn()
                row.times.append(time.perf_counter() - t0)
                row.pairs = len(pairs)
                if expected is None:
                    expected = pairs
                elif pairs != expected:
                    raise SystemExit(f"{label} ({threads} threads) disagrees with "
                                     f"{rows[0].name}: not the same pairs and scores")
                print(f"#   run {rep + 1}: {label:20} {threads} thread(s) "
                      f"{comparisons / row.times[-1]:.3g} comparisons/s", file=sys.stderr)
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if anon is not None:
        print("# anonlink dice_coefficient_accelerated returned the same pairs and scores")
    anon_rate = rows[-1].rate(comparisons) if anon is not None else None

    print(f"# load average at end: {load_average()}")
    head = (f"| {'kernel':20} | threads | comparisons/s (median) | best run | "
            f"runs (s) | pairs |")
    if anon_rate:
        head += " vs anonlink (median) |"
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for r in rows:
        rate = r.rate(comparisons)
        runs = " ".join(f"{t:.2f}" for t in r.times)
        line = (f"| {r.name:20} | {r.threads:7} | {rate:22.3g} | "
                f"{comparisons / min(r.times):8.3g} | {runs} | {r.pairs:5} |")
        if anon_rate:
            line += f" {rate / anon_rate:19.2f}x |"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
