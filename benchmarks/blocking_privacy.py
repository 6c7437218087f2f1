"""What encoded blocking keys disclose to the central service: the frequency attack per key.

    python benchmarks/blocking_privacy.py                     # 100,000 records, 50,000 reference
    python benchmarks/blocking_privacy.py --records 20000 --reference 20000

The agency's records and the attacker's public reference are two samples of the same
synthetic population (the benchmark mix of cultures and scripts). Every candidate key of
benchmarks/blocking.py (the default schema's and the alternatives considered in
docs/matching.md, with and without ``max_share``) is computed for
both; the attack (linkage/privacy/blocking_keys.py) aligns key-value counts with reference
counts and names the clearly separated ones. Prints, per key: distinct values, the share of
records holding the most frequent value, values named, records disclosed and precision.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from blocking import CANDIDATE_KEYS

from linkage.bloom.encoder import BatchEncoder
from linkage.keys import generate_key
from linkage.privacy.blocking_keys import blocking_key_exposure
from linkage.schema import BlockingKeySpec, LinkageSchema, default_schema

# the candidate keys of benchmarks/blocking.py (same folder, so importable when run as a
# script), with their capped variants
CANDIDATES = list(CANDIDATE_KEYS.values())


def _records(n: int, seed: int) -> pd.DataFrame:
    from synthetic_data import GeneratorConfig, default_agencies, generate

    data = generate(GeneratorConfig(people=n, agencies=default_agencies(1)), seed, workers=2)
    return next(iter(data.agencies.values())).fillna("").astype(str).head(n)


def _schema_with(keys: list[BlockingKeySpec]) -> LinkageSchema:
    base = default_schema()
    return LinkageSchema.model_validate(base.model_copy(update={"blocking_keys": keys}).model_dump())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--reference", type=int, default=50_000)
    args = ap.parse_args()

    start = time.perf_counter()
    seen_frame, ref_frame = _records(args.records, 7), _records(args.reference, 8)
    ref_frame["record_id"] = [f"ref-{i}" for i in range(len(ref_frame))]
    defaults = {k.name for k in default_schema().blocking_keys}
    keys = CANDIDATES + [k for k in default_schema().blocking_keys
                         if k.name not in {c.name for c in CANDIDATES}]
    schema = _schema_with(keys)
    seen = BatchEncoder(schema, generate_key()).blocking_plaintext(seen_frame)
    ref = BatchEncoder(schema, generate_key()).blocking_plaintext(ref_frame)
    print(f"{len(seen_frame):,} records, {len(ref_frame):,} reference records "
          f"({time.perf_counter() - start:.0f} s to generate and compute the keys)\n")
    print("| key | default | distinct values | largest value | values named | records disclosed "
          "| precision |\n|---|---|---|---|---|---|---|")
    for spec in keys:
        e = blocking_key_exposure(spec.name, seen[spec.name], ref[spec.name], len(seen_frame),
                                  len(ref_frame))
        print(f"| {spec.name} | {'yes' if spec.name in defaults else ''} | {e.values:,} "
              f"| {e.largest_share:.1%} | {e.values_named} ({e.values_right} right) "
              f"| {e.result.rate:.2%} | {e.result.precision:.2f} |")

if __name__ == "__main__":
    main()
