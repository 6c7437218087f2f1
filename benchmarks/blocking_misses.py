"""Which true pairs does blocking miss, and why? (diagnosis; uses the plaintext zone)

Generates synthetic_data (3 agencies), encodes it with the default schema, blocks it with a
``BlockingConfig`` and lists the true cross-agency pairs that are not candidates, with the
corruptions the generator applied to both records, the best-variant Dice of their
record-level filters and which encoded blocking keys they share.

    python benchmarks/blocking_misses.py --people 5000
    python benchmarks/blocking_misses.py --people 30000 --max-bucket 1000 --oversized skip
"""

from __future__ import annotations

import argparse
import collections
import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.bloom.encoder import BatchEncoder
from linkage.keys import SecretKey
from linkage.matching import BlockingConfig
from linkage.matching.blocking import block
from linkage.matching.pool import build_pool
from linkage.schema import default_schema

KEY = SecretKey(bytes(range(32)))


def generate_and_encode(people: int, seed: int, cache: Path | None):
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    from synthetic_data import GeneratorConfig, default_agencies, generate

    data = generate(GeneratorConfig(people=people, agencies=default_agencies(3)), seed,
                    workers=2)
    schema = default_schema()
    entity = data.truth.set_index(["agency", "record_id"])["entity_id"]
    log = data.corruptions.set_index(["agency", "record_id"])["corruptions"]
    parties, rows = {}, []
    for name, frame in data.agencies.items():
        batch = BatchEncoder(schema, KEY).encode(frame[schema.input_columns()], on_error="skip")
        parties[name] = batch.data
        recs = frame.set_index("record_id").loc[list(batch.record_ids)]
        rows.append(pd.DataFrame({
            "party": name, "ref": batch.data.refs.astype(str),
            "record_id": list(batch.record_ids),
            "entity_id": [entity[(name, r)] for r in batch.record_ids],
            "corruptions": [log[(name, r)] for r in batch.record_ids],
            "plain": [" | ".join(str(recs.loc[r, c]) for c in
                                 ("given_name", "family_name", "aliases", "date_of_birth",
                                  "sex", "country_of_birth"))
                      for r in batch.record_ids],
        }))
    out = (parties, pd.concat(rows, ignore_index=True))
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump(out, fh)
    return out


def popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x).sum(axis=-1) if hasattr(np, "bitwise_count") else \
        np.unpackbits(x.view(np.uint8), axis=-1).sum(axis=-1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--method", default=None, help="default: BlockingConfig()'s")
    ap.add_argument("--bands", type=int, default=None)
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--max-bucket", type=int, default=None)
    ap.add_argument("--oversized", default=None, choices=["nearest", "skip"])
    ap.add_argument("--show", type=int, default=30)
    ap.add_argument("--cache", default="/tmp/bk")
    args = ap.parse_args()
    cache = Path(args.cache) / f"enc_{args.people}_{args.seed}.pkl" if args.cache else None
    t = time.perf_counter()
    parties, info = generate_and_encode(args.people, args.seed, cache)
    print(f"# data ready in {time.perf_counter() - t:.0f}s")
    pool = build_pool(parties, keys=sorted(next(iter(parties.values())).blocking))
    key = {(p, r): i for i, (p, r) in enumerate(zip(info["party"], info["ref"], strict=True))}
    order = np.array([key[(pool.names[pool.party_of[g]], str(pool.refs[g]))]
                      for g in range(pool.n_records)])
    ent = pd.factorize(info["entity_id"])[0][order]
    cfg = BlockingConfig(**{k: v for k, v in (
        ("method", args.method), ("lsh_bands", args.bands), ("lsh_rows", args.rows),
        ("max_bucket", args.max_bucket), ("oversized", args.oversized)) if v is not None})
    t = time.perf_counter()
    cands, stats = block(pool, cfg, threads=2)
    print(f"# blocking {time.perf_counter() - t:.1f}s, {len(cands):,} candidates, "
          f"{len(cands) / pool.n_records:.1f} per record, refined {stats.refined_buckets}, "
          f"skipped {stats.oversized_buckets}")
    # true cross-party pairs
    srt = np.argsort(ent, kind="stable")
    e_s = ent[srt]
    starts = np.flatnonzero(np.r_[True, e_s[1:] != e_s[:-1]])
    ta, tb = [], []
    for s, e in zip(starts, np.r_[starts[1:], len(e_s)], strict=True):
        if e - s > 1:
            m = srt[s:e]
            for i in range(len(m)):
                for j in range(i + 1, len(m)):
                    a, b = sorted((m[i], m[j]))
                    if pool.party_of[a] != pool.party_of[b]:
                        ta.append(a)
                        tb.append(b)
    ta, tb = np.array(ta), np.array(tb)
    n = pool.n_records
    cand_codes = cands.a * n + cands.b
    found = np.isin(ta * n + tb, cand_codes)
    print(f"# true pairs {len(ta):,}, found {found.sum():,}, PC {found.mean():.4f}")
    miss_a, miss_b = ta[~found], tb[~found]
    counter: collections.Counter = collections.Counter()
    rows = []
    ro = pool.row_offsets
    for a, b in zip(miss_a, miss_b, strict=True):
        va, vb = pool.clk[ro[a]:ro[a + 1]], pool.clk[ro[b]:ro[b + 1]]
        inter = popcount(va[:, None, :] & vb[None, :, :])
        dice = 2 * inter / (popcount(va)[:, None] + popcount(vb)[None, :])
        ham = popcount(va[:, None, :] ^ vb[None, :, :])
        ia, ib = info.iloc[order[a]], info.iloc[order[b]]
        tags = set(str(ia["corruptions"]).split(";")) | set(str(ib["corruptions"]).split(";"))
        tags.discard("")
        for tg in tags:
            counter[tg.split(":")[0] if not tg.startswith("missing") else tg] += 1
        shared = [k for k in pool.blocking
                  if np.intersect1d(pool.blocking[k][a], pool.blocking[k][b]).size]
        rows.append((dice.max(), ham.min(), ia, ib, shared))
    print("# corruption tags among missed pairs (either record):")
    for tg, c in counter.most_common():
        print(f"#   {tg}: {c}")
    d = np.array([r[0] for r in rows])
    h = np.array([r[1] for r in rows])
    if len(d):
        print(f"# best-variant dice of missed pairs: quantiles 10/50/90 "
              f"{np.quantile(d, [0.1, 0.5, 0.9]).round(3)}; hamming "
              f"{np.quantile(h, [0.1, 0.5, 0.9])}")
        print(f"# missed with dice >= 0.55: {(d >= 0.55).sum()}, >= 0.65: {(d >= 0.65).sum()}")
    rows.sort(key=lambda r: -r[0])
    for dice, ham, ia, ib, shared in rows[:args.show]:
        print(f"dice {dice:.3f} ham {ham} shared {shared}\n   {ia['party']}: {ia['plain']}"
              f"  [{ia['corruptions']}]\n   {ib['party']}: {ib['plain']}  [{ib['corruptions']}]")


if __name__ == "__main__":
    main()
