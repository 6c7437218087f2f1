"""Blocking on real encodings of the synthetic data: pair completeness against cost.

Generates ``synthetic_data`` (3 agencies), encodes each agency with the default schema
(``BatchEncoder``) whose blocking keys are replaced by a set of candidate keys, and links the
encodings under several blocking configurations. For each it prints the candidate pairs,
candidates per record, pair completeness (PC: share of true cross-agency pairs that are
candidates), reduction ratio (RR), and P/R/F1 of the matches at thresholds 0.6 and 0.65,
with the wall time of the linkage.

    python benchmarks/blocking.py                      # 5,000 and 30,000 people
    python benchmarks/blocking.py --people 5000 --configs "default;keys [new], nearest > 20"

The "default" row is exactly ``MatchConfig()`` on ``default_schema()``'s blocking keys.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import pandas as pd

from linkage.bloom.encoder import BatchEncoder
from linkage.keys import SecretKey
from linkage.matching import BlockingConfig, MatchConfig, link
from linkage.matching.evaluate import blocking_quality, evaluate_matches
from linkage.matching.results import matches_table
from linkage.schema import BlockingKeyPart, BlockingKeySpec, default_schema

KEY = SecretKey(bytes(range(32)))

PHON = BlockingKeyPart(field="name_phonetic", transform="phonetic_parts")

# candidate encoded keys (short names used in the configuration labels); the first four
# were the default keys before the nearest-neighbour refinement of oversized buckets
CANDIDATE_KEYS = {
    "psy": BlockingKeySpec(name="phon_surname_year", parts=[
        PHON, BlockingKeyPart(field="date_of_birth", transform="year")]),
    "pmd": BlockingKeySpec(name="phon_month_day", parts=[
        PHON, BlockingKeyPart(field="date_of_birth", transform="month_day")]),
    "pp": BlockingKeySpec(name="phon_pairs", parts=[
        BlockingKeyPart(field="name_phonetic", transform="phonetic_pairs")]),
    "dobs": BlockingKeySpec(name="dob_sex", parts=[
        BlockingKeyPart(field="date_of_birth", transform="whole"),
        BlockingKeyPart(field="sex", transform="whole")]),
    "ph": BlockingKeySpec(name="phon", parts=[PHON]),
    "pre": BlockingKeySpec(name="name_prefix", parts=[
        BlockingKeyPart(field="name", transform="prefix3")]),
    "dob": BlockingKeySpec(name="dob", parts=[
        BlockingKeyPart(field="date_of_birth", transform="whole")]),
    "ysc": BlockingKeySpec(name="year_sex_country", parts=[
        BlockingKeyPart(field="date_of_birth", transform="year"),
        BlockingKeyPart(field="sex", transform="whole"),
        BlockingKeyPart(field="country_of_birth", transform="whole")]),
    "psex": BlockingKeySpec(name="phon_sex", parts=[
        PHON, BlockingKeyPart(field="sex", transform="whole")]),
    "pcob": BlockingKeySpec(name="phon_country_of_birth", parts=[
        PHON, BlockingKeyPart(field="country_of_birth", transform="whole")]),
}
# the coarse name keys with their most frequent values left out (max_share, docs/privacy.md)
for _short, _share in (("1", 0.001), ("2", 0.002), ("5", 0.005)):
    for _k in ("ph", "pre"):
        CANDIDATE_KEYS[_k + _short] = CANDIDATE_KEYS[_k].model_copy(update={
            "name": f"{CANDIDATE_KEYS[_k].name}_cap{_short}", "max_share": _share})

OLD = ["psy", "pmd", "pp", "dobs"]
NEW = ["ph", "pre", "dob", "ysc"]
SKIP = {"oversized": "skip", "max_bucket": 1000}

# label -> (method, bands, rows, key short names, other BlockingConfig settings)
CONFIGS = {
    "none": ("none", 64, 24, [], {}),
    "lsh 64x24": ("lsh", 64, 24, [], SKIP),
    "lsh 64x24, nearest > 20": ("lsh", 64, 24, [], {"max_bucket": 20}),
    "lsh+keys 64x24 [old], skip > 1000 (old default)": ("lsh+keys", 64, 24, OLD, SKIP),
    "lsh+keys 64x24 [old], nearest > 20": ("lsh+keys", 64, 24, OLD, {"max_bucket": 20}),
    "lsh+keys 64x24 [new], skip > 1000": ("lsh+keys", 64, 24, NEW, SKIP),
    "keys [new], nearest > 20": ("keys", 64, 24, NEW, {"max_bucket": 20}),
    "lsh+keys 64x24 [new], nearest > 10": ("lsh+keys", 64, 24, NEW, {"max_bucket": 10}),
    "lsh+keys 64x24 [new], nearest > 50": ("lsh+keys", 64, 24, NEW, {"max_bucket": 50}),
    "lsh+keys 64x24 [new], nearest > 20, k=8": ("lsh+keys", 64, 24, NEW,
                                                {"max_bucket": 20, "nearest_k": 8}),
    "lsh+keys 64x24 [ph,dob]": ("lsh+keys", 64, 24, ["ph", "dob"], {"max_bucket": 20}),
    "lsh+keys 64x24 [ph,pre,dob]": ("lsh+keys", 64, 24, ["ph", "pre", "dob"],
                                    {"max_bucket": 20}),
    "lsh+keys 64x24 [psex,pre,dob,ysc]": ("lsh+keys", 64, 24, ["psex", "pre", "dob", "ysc"],
                                          {"max_bucket": 20}),
    "lsh+keys 64x24 [old+new]": ("lsh+keys", 64, 24, OLD + NEW, {"max_bucket": 20}),
    "lsh+keys 64x32 [new, name keys capped 0.1%]": ("lsh+keys", 64, 32,
                                                    ["ph1", "pre1", "dob", "ysc"],
                                                    {"max_bucket": 20}),
    "lsh+keys 64x32 [new, name keys capped 0.2%]": ("lsh+keys", 64, 32,
                                                    ["ph2", "pre2", "dob", "ysc"],
                                                    {"max_bucket": 20}),
    "lsh+keys 64x32 [new, name keys capped 0.5%]": ("lsh+keys", 64, 32,
                                                    ["ph5", "pre5", "dob", "ysc"],
                                                    {"max_bucket": 20}),
    "default": None,
}


@dataclass
class Encoded:
    parties: dict
    truth: pd.DataFrame  # party, ref, entity_id
    records: int
    seconds: float


def encode(people: int, seed: int, keys: list[BlockingKeySpec] | None) -> Encoded:
    from synthetic_data import GeneratorConfig, default_agencies, generate

    data = generate(GeneratorConfig(people=people, agencies=default_agencies(3)), seed,
                    workers=2)
    schema = default_schema()
    if keys is not None:
        schema = schema.model_copy(update={"blocking_keys": keys})
    entity = data.truth.set_index(["agency", "record_id"])["entity_id"]
    parties, rows = {}, []
    start = time.perf_counter()
    for name, frame in data.agencies.items():
        batch = BatchEncoder(schema, KEY).encode(frame[schema.input_columns()], on_error="skip")
        parties[name] = batch.data
        refs = batch.data.refs.astype(str)
        ents = [entity[(name, r)] for r in batch.record_ids]
        rows.append(pd.DataFrame({"party": name, "ref": refs, "entity_id": ents}))
    seconds = time.perf_counter() - start
    truth = pd.concat(rows, ignore_index=True)
    return Encoded(parties, truth, len(truth), seconds)


def run(enc: Encoded, cfg: MatchConfig) -> dict:
    start = time.perf_counter()
    result = link(enc.parties, cfg, keep_candidates=True)
    wall = time.perf_counter() - start
    bq = blocking_quality(result, enc.parties, enc.truth)
    out = {"candidates": bq.candidate_pairs, "per_record": bq.candidate_pairs / enc.records,
           "pc": bq.pair_completeness, "rr": bq.reduction_ratio, "wall": wall,
           "oversized": result.blocking_stats.oversized_buckets,
           "refined": result.blocking_stats.refined_buckets}
    for t in (0.60, 0.65):
        res = result if t == cfg.threshold else link(
            enc.parties, cfg.model_copy(update={"threshold": t}), keep_candidates=False)
        ev = evaluate_matches(matches_table(res, enc.parties), enc.truth,
                              parties=res.parties)
        out[f"f1_{t:.2f}"] = ev.matches.f1
        out[f"r_{t:.2f}"] = ev.matches.recall
    return out


def match_config(method, bands, rows, keys, extra) -> MatchConfig:
    names = [CANDIDATE_KEYS[k].name for k in keys] or None
    blocking = BlockingConfig(method=method, lsh_bands=bands, lsh_rows=rows, keys=names,
                              **extra)
    return MatchConfig(threshold=0.65, possible_threshold=0.55, blocking=blocking)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, nargs="+", default=[5_000, 30_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--configs", default=None,
                    help="semicolon-separated labels to run (default: all)")
    ap.add_argument("--skip-none-above", type=int, default=10_000,
                    help="skip method 'none' above this many people")
    args = ap.parse_args()
    labels = list(CONFIGS) if args.configs is None else args.configs.split(";")
    print("| people | records | blocking | candidates | per record | PC | RR | "
          "R@0.60 | F1@0.60 | R@0.65 | F1@0.65 | refined / skipped buckets | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for people in args.people:
        cand = encode(people, args.seed, list(CANDIDATE_KEYS.values()))
        plain = None
        for label in labels:
            spec = CONFIGS[label]
            if spec is None:  # the published defaults, keys from default_schema()
                plain = plain or encode(people, args.seed, None)
                enc, cfg = plain, MatchConfig()
            else:
                if spec[0] == "none" and people > args.skip_none_above:
                    continue
                enc, cfg = cand, match_config(*spec)
            r = run(enc, cfg)
            print(f"| {people:,} | {enc.records:,} | {label} | {r['candidates']:,} | "
                  f"{r['per_record']:.1f} | {r['pc']:.4f} | {r['rr']:.5f} | "
                  f"{r['r_0.60']:.3f} | {r['f1_0.60']:.3f} | {r['r_0.65']:.3f} | "
                  f"{r['f1_0.65']:.3f} | {r['refined']:,} / {r['oversized']:,} | "
                  f"{r['wall']:.1f} |", flush=True)
        del cand, plain


if __name__ == "__main__":
    main()
