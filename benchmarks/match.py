"""Matching benchmark: raw kernel throughput, then end-to-end linkage with blocking at scale.

    python benchmarks/match.py                              # kernel, 100k x 100k, 1M x 1M
    python benchmarks/match.py --sizes 100000 --no-kernel   # one quick end-to-end run
    python benchmarks/match.py --sizes 1000000 --bands 64 --rows 24 --threads 2

1. Kernel: ``benchmarks/kernel.py`` (20,000 x 20,000 random 1024-bit filters, 1 and 2
   threads, anonlink's C++ kernel on the same data when anonlink is installed).
2. End to end: ``linkage.matching.link`` on two parties of N records each, with LSH
   blocking, greedy one-to-one solving and threshold suggestion, each size in a fresh child
   process. Reported: wall and CPU time per stage, peak resident memory of the linkage
   (inputs included, data generation excluded: the peak is reset after generating), the
   blocking's reduction ratio and pair completeness (from a second, untimed blocking pass),
   and precision/recall of the matches.

The data is SIMULATED, not encoded: each person is a random 1024-bit filter with 35% of its
bits set; each party holds a copy of every person with each bit flipped with a probability
drawn per record from --flip (default 1-4%), and 10% of records carry a second variant
(alias) flipped at 5-10%. It has the Hamming structure of real encodings (matches close,
non-matches about 45% of the bits apart), not their bit statistics; benchmarks/quality.py
measures quality on real encodings of FEBRL and synthetic identity data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _vm(field: str) -> int:
    """A field of /proc/self/status in MiB (Linux); -1 elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return -1


def _reset_peak() -> bool:
    """Reset the peak-RSS counter (Linux >= 4.0), so the peak covers the linkage only."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def child(args: argparse.Namespace) -> dict:
    from linkage.matching import BlockingConfig, MatchConfig, link
    from linkage.matching.blocking import block
    from linkage.matching.pool import build_pool
    from linkage.matching.simulate import simulate_parties

    n = args.child
    t0 = time.perf_counter()
    sim = simulate_parties(n, ["a", "b"], coverage=1.0, fill=0.35, flip=tuple(args.flip),
                           alias_rate=0.1, alias_flip=(0.05, 0.10), seed=args.seed)
    generate_s = time.perf_counter() - t0
    entity = {p: sim.truth[sim.truth["party"] == p]["entity_id"].to_numpy()
              for p in ("a", "b")}
    config = MatchConfig(
        threshold=args.threshold, possible_threshold=args.possible,
        blocking=BlockingConfig(method="lsh", lsh_bands=args.bands, lsh_rows=args.rows,
                                max_bucket=args.max_bucket),
        threads=args.threads)
    reset = _reset_peak()
    rss_before = _vm("VmRSS")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = link(sim.parties, config)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    peak = _vm("VmHWM")

    # quality, untimed: precision/recall of the matches and pair completeness of blocking
    found = [(g.members[0].record_index, g.members[1].record_index)
             for g in result.groups if g.decision == "match"]
    ia = np.array([x for x, _ in found], dtype=np.int64)
    ib = np.array([y for _, y in found], dtype=np.int64)
    tp = int(np.count_nonzero(entity["a"][ia] == entity["b"][ib]))
    true_pairs = len(np.intersect1d(entity["a"], entity["b"]))
    pool = build_pool(sim.parties)
    cands, _ = block(pool, config.blocking, threads=args.threads)
    ent = np.concatenate([entity["a"][pool.source_index[: pool.party_offsets[1]]],
                          entity["b"][pool.source_index[pool.party_offsets[1]:]]])
    found_true = int(np.count_nonzero(ent[cands.a] == ent[cands.b]))
    sug = result.threshold_suggestion
    return {
        "n": n, "generate_s": generate_s, "wall_s": wall, "cpu_s": cpu,
        "durations": result.durations, "peak_mib": peak if reset else None,
        "rss_before_mib": rss_before,
        "rows": int(sum(len(d.clk) for d in sim.parties.values())),
        "candidate_pairs": result.candidate_pairs, "comparisons": result.comparisons,
        "total_pairs": result.blocking_stats.total_pairs,
        "reduction_ratio": result.blocking_stats.reduction_ratio,
        "oversized": result.blocking_stats.oversized_buckets,
        "pair_completeness": found_true / true_pairs,
        "precision": tp / max(len(found), 1), "recall": tp / true_pairs,
        "groups": result.decisions(),
        "suggested": None if sug is None else [sug.threshold, sug.estimated_precision,
                                               sug.estimated_recall],
    }


def run_kernel(args: argparse.Namespace) -> None:
    from linkage.matching import kernels

    info = kernels.kernel_info()
    names = info.cpu_path if info.backend == "c" else "numpy"
    cmd = [sys.executable, str(HERE / "kernel.py"), "--n", str(args.kernel_n), "--threads",
           "1,2", "--kernels", names, "--repeats", str(args.repeats)]
    print(f"## raw kernel: {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="records per party")
    ap.add_argument("--bands", type=int, default=64)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--max-bucket", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--possible", type=float, default=0.7)
    ap.add_argument("--flip", type=float, nargs=2, default=[0.01, 0.04])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kernel-n", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-kernel", action="store_true")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0

    print(f"# CPU: {os.cpu_count()} logical CPUs; threads {args.threads}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.no_kernel:
        run_kernel(args)
    print(f"## end to end: LSH {args.bands} bands x {args.rows} bits, max bucket "
          f"{args.max_bucket}, thresholds {args.threshold}/{args.possible}, greedy; "
          f"SIMULATED filters (flip {args.flip[0]:.0%}-{args.flip[1]:.0%}), not encodings",
          flush=True)
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--child", str(n)] + [
            a for a in (argv if argv is not None else sys.argv[1:])]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        d = r["durations"]
        print(f"# {n:,} x {n:,}: generated in {r['generate_s']:.0f}s; stages "
              + ", ".join(f"{k} {v:.1f}s" for k, v in d.items())
              + f"; groups {r['groups']}; suggested threshold {r['suggested']}", flush=True)
    print("| records per party | filter rows | candidate pairs | reduction ratio | pair "
          "completeness | precision | recall | comparisons | scoring comp/s | wall s | "
          "CPU s | peak MiB |")
    print("|" + "---|" * 12)
    for r in rows:
        scoring = r["comparisons"] / max(r["durations"]["scoring"], 1e-9)
        peak = "n/a" if r["peak_mib"] is None else f"{r['peak_mib']:,}"
        print(f"| {r['n']:,} | {r['rows']:,} | {r['candidate_pairs']:,} | "
              f"{r['reduction_ratio']:.8f} | {r['pair_completeness']:.4f} | "
              f"{r['precision']:.4f} | {r['recall']:.4f} | {r['comparisons']:,} | "
              f"{scoring:.3g} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {peak} |")
    try:
        import anonlink  # noqa: F401
    except ImportError:
        print("# anonlink not installed: no anonlink comparison (pip install -e \".[bench]\")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
