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

3. ``--real``: the same end-to-end linkage on REAL encodings of synthetic people, N records
   per agency: ``synthetic_data`` writes 2 agencies (Parquet, 2 worker processes), each is
   encoded with ``linkage.encode.encode_file`` (default schema, 2 worker processes, with a
   reference map), and the two encoded files are read and linked with ``MatchConfig()``'s
   default blocking (or --bands/--rows/--max-bucket/--blocking). Time and peak RSS are
   reported per stage, for the stage's process and its worker processes (inside the
   linkage: per linkage stage, from its progress reports; blocking includes preparing the
   pool, solving includes building the result); pair completeness,
   reduction ratio, precision and recall against the generator's truth.

       python benchmarks/match.py --real --sizes 1000000 --no-kernel
       python benchmarks/match.py --real --sizes 1000000 --no-kernel --data /tmp/d1m  # keep

Without ``--real`` the data is SIMULATED, not encoded: each person is a random 1024-bit filter with 35% of its
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
import resource
import shutil
import subprocess
import sys
import tempfile
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


class _StagePeaks:
    """Peak RSS per linkage stage, from ``link``'s progress reports: /proc/self/status VmRSS
    sampled every 50 ms on a thread, and VmHWM read when a stage ends (exact: a stage that
    raised the high-water mark peaked at the new mark). "blocking" includes preparing the
    pool, "scoring" the threshold suggestion, "solving" building the named result."""

    def __init__(self) -> None:
        import threading

        self.stage = "blocking"
        self.sampled: dict[str, int] = {}
        self.hwm_at_end: dict[str, int] = {}
        self.rss_at_start: dict[str, int] = {"blocking": _vm("VmRSS")}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            s = self.stage
            self.sampled[s] = max(self.sampled.get(s, 0), _vm("VmRSS"))

    def progress(self, p) -> None:
        if p.stage != self.stage:
            self.hwm_at_end[self.stage] = _vm("VmHWM")
            self.rss_at_start[p.stage] = _vm("VmRSS")
            self.stage = p.stage

    def stop(self) -> dict:
        self.hwm_at_end[self.stage] = _vm("VmHWM")
        self._stop.set()
        self._thread.join()
        out, prev = {}, 0
        for stage, hwm in self.hwm_at_end.items():
            out[stage] = {"rss_at_start_mib": self.rss_at_start.get(stage),
                          "peak_sampled_mib": self.sampled.get(stage),
                          "peak_mib": hwm if hwm > prev else None, "hwm_at_end_mib": hwm}
            prev = hwm
        return out


class _TreePeak:
    """Samples (every 0.2 s, on a thread) the summed RSS of all descendant processes of this
    one (worker pools, including forkserver workers that are not our direct children)."""

    def __init__(self) -> None:
        import threading

        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _sample() -> int:
        parent, rss = {}, {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/status", encoding="ascii", errors="replace") as fh:
                    for line in fh:
                        if line.startswith("PPid:"):
                            parent[int(d)] = int(line.split()[1])
                        elif line.startswith("VmRSS:"):
                            rss[int(d)] = int(line.split()[1])
            except OSError:
                continue
        me, total = os.getpid(), 0
        for pid, kib in rss.items():
            p, seen = parent.get(pid), 0
            while p and p != me and seen < 64:
                p, seen = parent.get(p), seen + 1
            if p == me:
                total += kib
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_kib = max(self.peak_kib, self._sample())

    def stop_mib(self) -> int:
        self._stop.set()
        self._thread.join()
        waited = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return max(self.peak_kib, waited) // 1024


def _people_for(records_per_agency: int, overlap: float, duplicates: float) -> int:
    """People such that each of 2 equal agencies holds about the given number of records:
    a person is in both agencies with probability ``overlap``, else in one of them."""
    per_person = (overlap + (1 - overlap) / 2) * (1 + duplicates)
    return max(10, round(records_per_agency / per_person))


def real_generate(args: argparse.Namespace, out: Path) -> dict:
    from synthetic_data import GeneratorConfig, default_agencies
    from synthetic_data.writer import write_dataset

    people = _people_for(args.child_real, args.overlap, 0.03)
    tree = _TreePeak()
    t0 = time.perf_counter()
    config = GeneratorConfig(people=people, agencies=default_agencies(2), overlap=args.overlap)
    summary = write_dataset(config, args.seed, out, fmt="parquet", workers=args.threads)
    return {"people": people, "records": summary.records, "seconds": time.perf_counter() - t0,
            "peak_mib": _vm("VmHWM"), "workers_peak_mib": tree.stop_mib()}


def real_encode(args: argparse.Namespace, out: Path) -> dict:
    from linkage.encode import encode_file
    from linkage.keys import SecretKey
    from linkage.schema import default_schema

    key = SecretKey(bytes(range(32)))
    tree = _TreePeak()
    t0 = time.perf_counter()
    counts = {}
    for agency in ("agency_a", "agency_b"):
        rep = encode_file(default_schema(), key, out / f"{agency}.parquet",
                          out / f"{agency}.clk.parquet", on_error="skip",
                          workers=args.threads, reference_map=out / f"{agency}.map.csv")
        counts[agency] = rep.records_encoded
    return {"encoded": counts, "seconds": time.perf_counter() - t0, "peak_mib": _vm("VmHWM"),
            "workers_peak_mib": tree.stop_mib()}


def real_config(args: argparse.Namespace):
    from linkage.matching import BlockingConfig, MatchConfig

    base = BlockingConfig()
    blocking = base.model_copy(update={
        k: v for k, v in (("method", args.blocking), ("lsh_bands", args.bands),
                          ("lsh_rows", args.rows), ("max_bucket", args.max_bucket))
        if v is not None})
    return MatchConfig(blocking=blocking, threads=args.threads)


def real_link(args: argparse.Namespace, out: Path) -> dict:
    import pandas as pd

    from linkage.format import read_encoded
    from linkage.matching import link
    from linkage.matching.blocking import block
    from linkage.matching.pool import build_pool

    config = real_config(args)
    t0 = time.perf_counter()
    parties = {a: read_encoded(out / f"{a}.clk.parquet")[1] for a in ("agency_a", "agency_b")}
    read_s = time.perf_counter() - t0
    reset = _reset_peak()
    stages = _StagePeaks()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = link(parties, config, progress=stages.progress)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    peak = _vm("VmHWM") if reset else None
    stage_mib = stages.stop() if reset else None
    stats = result.blocking_stats
    if args.no_quality:
        return {"n": args.child_real, "blocking": repr(config.blocking), "read_s": read_s,
                "wall_s": wall, "cpu_s": cpu, "durations": result.durations, "peak_mib": peak,
                "stage_mib": stage_mib,
                "candidate_pairs": result.candidate_pairs,
                "reduction_ratio": stats.reduction_ratio, "groups": result.decisions()}

    # quality, untimed: entity of every pooled record via the reference maps and the truth
    truth = pd.read_parquet(out / "truth.parquet")
    entity = dict(zip(zip(truth["agency"], truth["record_id"], strict=True),
                      truth["entity_id"], strict=True))
    ent_of_ref = {}
    for a in parties:
        m = pd.read_csv(out / f"{a}.map.csv", dtype=str)
        ent_of_ref[a] = dict(zip(m["ref"], (entity[(a, r)] for r in m["record_id"]),
                                 strict=True))
    pool = build_pool(parties, keys=sorted(set.intersection(
        *(set(d.blocking) for d in parties.values()))))
    ent = pd.factorize(pd.Series([ent_of_ref[pool.names[p]][str(r)] for p, r in
                                  zip(pool.party_of.tolist(), pool.refs, strict=True)]))[0]
    del ent_of_ref, entity, truth
    off = int(pool.party_offsets[1])
    ea, eb = ent[:off], ent[off:]
    true_pairs = int(sum(np.bincount(ea, minlength=ent.max() + 1)
                         * np.bincount(eb, minlength=ent.max() + 1)))
    cands, _ = block(pool, config.blocking, threads=args.threads)
    found_true = int(np.count_nonzero(ent[cands.a] == ent[cands.b]))
    del cands
    found = [(g.members[0].record_index, g.members[1].record_index, g.members[0].party)
             for g in result.groups if g.decision == "match" and len(g.members) == 2]
    src = {name: pool.source_index[pool.party_offsets[k]:pool.party_offsets[k + 1]]
           for k, name in enumerate(pool.names)}
    # group members carry the caller's record index; map back to pool order
    inv = {name: np.argsort(src[name]) + pool.party_offsets[k]
           for k, name in enumerate(pool.names)}
    tp = sum(1 for x, y, _ in found if ent[inv["agency_a"][x]] == ent[inv["agency_b"][y]])
    sug = result.threshold_suggestion
    return {
        "n": args.child_real, "blocking": repr(config.blocking), "read_s": read_s,
        "wall_s": wall, "cpu_s": cpu,
        "durations": result.durations, "peak_mib": peak, "stage_mib": stage_mib,
        "rows": int(sum(len(d.clk) for d in parties.values())),
        "records": int(sum(d.n_records for d in parties.values())),
        "candidate_pairs": result.candidate_pairs, "comparisons": result.comparisons,
        "total_pairs": stats.total_pairs, "reduction_ratio": stats.reduction_ratio,
        "pairs_by_source": stats.pairs_by_source, "refined": stats.refined_buckets,
        "oversized": stats.oversized_buckets, "largest_bucket": stats.largest_bucket,
        "true_pairs": true_pairs, "pair_completeness": found_true / max(true_pairs, 1),
        "precision": tp / max(len(found), 1), "recall": tp / max(true_pairs, 1),
        "groups": result.decisions(),
        "suggested": None if sug is None else [sug.threshold, sug.estimated_precision,
                                               sug.estimated_recall],
    }


def run_real(args: argparse.Namespace, argv: list[str]) -> None:
    print(f"## end to end on REAL encodings of synthetic people (2 agencies, default schema, "
          f"{real_config(args).blocking!r}, threads {args.threads})", flush=True)
    for n in (int(x) for x in args.sizes.split(",")):
        keep = args.data is not None
        work = Path(args.data) if keep else Path(tempfile.mkdtemp(prefix="pprl-bench-",
                                                                   dir=args.workdir))
        try:
            res = {}
            for stage in ("generate", "encode", "link"):
                done = {"generate": "truth.parquet", "encode": "agency_b.map.csv"}.get(stage)
                if keep and done and (work / done).exists():
                    res[stage] = json.loads((work / f"{stage}.json").read_text()) if (
                        work / f"{stage}.json").exists() else None
                    print(f"# {stage}: reusing {work}", flush=True)
                    continue
                cmd = [sys.executable, __file__, "--child-real", str(n), "--stage", stage,
                       "--dir", str(work), *argv]
                t0 = time.perf_counter()
                out = subprocess.run(cmd, check=True, capture_output=True, text=True)
                res[stage] = json.loads(out.stdout.strip().splitlines()[-1])
                res[stage]["process_s"] = time.perf_counter() - t0
                if keep:
                    (work / f"{stage}.json").write_text(json.dumps(res[stage]))
                print(f"# {n:,} x {n:,} {stage}: {json.dumps(res[stage])}", flush=True)
        finally:
            if not keep:
                shutil.rmtree(work, ignore_errors=True)
        g, e, r = res["generate"], res["encode"], res["link"]
        d = r["durations"]
        print("| stage | wall s | peak RSS MiB (process) | peak RSS MiB (workers, summed) |")
        print("|---|---|---|---|")
        if g is not None:
            print(f"| generate ({g['people']:,} people, {sum(g['records'].values()):,} "
                  f"records) | {g['seconds']:.0f} | {g['peak_mib']:,} | "
                  f"{g['workers_peak_mib']:,} |")
        if e is not None:
            print(f"| encode ({sum(e['encoded'].values()):,} records) | {e['seconds']:.0f} | "
                  f"{e['peak_mib']:,} | {e['workers_peak_mib']:,} |")
        print(f"| read encoded files | {r['read_s']:.1f} | | |")
        sm = r.get("stage_mib") or {}
        for k in ("prepare", "blocking", "scoring", "threshold", "solving"):
            m = sm.get(k)
            mem = ("" if m is None else f"{m['peak_mib']:,}" if m["peak_mib"] is not None
                   else f"{m['peak_sampled_mib'] or m['rss_at_start_mib']:,} (sampled)")
            print(f"| link: {k} | {d[k]:.1f} | {mem} | |")
        print(f"| link: total | {r['wall_s']:.1f} (CPU {r['cpu_s']:.1f}) | "
              f"{r['peak_mib'] if r['peak_mib'] is not None else 'n/a'} | |")
        if args.no_quality:
            print(f"candidates {r['candidate_pairs']:,}, reduction ratio "
                  f"{r['reduction_ratio']:.8f}, groups {r['groups']}", flush=True)
            continue
        print(f"candidates {r['candidate_pairs']:,} ({r['candidate_pairs'] / r['records']:.1f} "
              f"per record; by source {r['pairs_by_source']}), reduction ratio "
              f"{r['reduction_ratio']:.8f}, refined buckets {r['refined']:,}, skipped "
              f"{r['oversized']:,} (largest {r['largest_bucket']:,}); true pairs "
              f"{r['true_pairs']:,}: PC {r['pair_completeness']:.4f}, precision "
              f"{r['precision']:.4f}, recall {r['recall']:.4f} (matches, 2-record groups); "
              f"groups {r['groups']}; suggested {r['suggested']}", flush=True)


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
    ap.add_argument("--bands", type=int, default=None, help="LSH bands (default 64)")
    ap.add_argument("--rows", type=int, default=None, help="LSH rows (default 24)")
    ap.add_argument("--max-bucket", type=int, default=None,
                    help="simulated: default 1000; --real: MatchConfig's default")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--possible", type=float, default=0.7)
    ap.add_argument("--flip", type=float, nargs=2, default=[0.01, 0.04])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kernel-n", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-kernel", action="store_true")
    ap.add_argument("--real", action="store_true",
                    help="link real encodings of synthetic people (default blocking)")
    ap.add_argument("--overlap", type=float, default=0.5,
                    help="--real: share of people held by both agencies")
    ap.add_argument("--blocking", default=None, help="--real: blocking method")
    ap.add_argument("--workdir", default=None, help="--real: where the data set is written")
    ap.add_argument("--data", default=None,
                    help="--real: keep the data set in this directory and reuse what is there "
                         "(generated and encoded files) instead of a temporary one")
    ap.add_argument("--no-quality", action="store_true",
                    help="--real: skip the untimed evaluation (PC, precision, recall)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-real", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    raw = list(argv if argv is not None else sys.argv[1:])
    args = ap.parse_args(argv)
    if not args.real and not args.child_real:
        args.bands = args.bands or 64
        args.rows = args.rows or 24
        args.max_bucket = args.max_bucket or 1000
    if args.child_real:
        stage = {"generate": real_generate, "encode": real_encode, "link": real_link}
        print(json.dumps(stage[args.stage](args, Path(args.dir))))
        return 0
    if args.child:
        print(json.dumps(child(args)))
        return 0
    if args.real:
        print(f"# CPU: {os.cpu_count()} logical CPUs; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        run_real(args, raw)
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
