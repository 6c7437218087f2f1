"""What encoded blocking keys disclose to the central service: the frequency attack per key.

    python benchmarks/blocking_privacy.py                     # 100,000 records, 50,000 reference
    python benchmarks/blocking_privacy.py --records 20000 --reference 20000

The agency's records and the attacker's public reference are two samples of the same
synthetic population (the benchmark mix of cultures and scripts). Every candidate key below
(the default schema's and the alternatives considered in docs/matching.md) is computed for
both; the attack (linkage/privacy/blocking_keys.py) aligns key-value counts with reference
counts and names the clearly separated ones. Prints, per key: distinct values, the share of
records holding the most frequent value, values named, records disclosed and precision.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from linkage.bloom.encoder import BatchEncoder
from linkage.keys import generate_key
from linkage.privacy.blocking_keys import blocking_key_exposure
from linkage.schema import BlockingKeyPart, BlockingKeySpec, LinkageSchema, default_schema

P = BlockingKeyPart
CANDIDATES = [
    BlockingKeySpec(name="phon_surname_year", parts=[P(field="name_phonetic", transform="phonetic_parts"),
                                                     P(field="date_of_birth", transform="year")]),
    BlockingKeySpec(name="phon_month_day", parts=[P(field="name_phonetic", transform="phonetic_parts"),
                                                  P(field="date_of_birth", transform="month_day")]),
    BlockingKeySpec(name="phon_pairs", parts=[P(field="name_phonetic", transform="phonetic_pairs")]),
    BlockingKeySpec(name="dob_sex", parts=[P(field="date_of_birth", transform="whole"),
                                           P(field="sex", transform="whole")]),
    BlockingKeySpec(name="phon", parts=[P(field="name_phonetic", transform="phonetic_parts")]),
    BlockingKeySpec(name="name_prefix", parts=[P(field="name", transform="prefix3")]),
    BlockingKeySpec(name="dob", parts=[P(field="date_of_birth", transform="whole")]),
    BlockingKeySpec(name="year_sex_country", parts=[P(field="date_of_birth", transform="year"),
                                                    P(field="sex", transform="whole"),
                                                    P(field="country_of_birth", transform="whole")]),
]
# the coarse name keys with their most frequent values left out (``max_share``)
CANDIDATES += [
    spec.model_copy(update={"name": f"{spec.name}_cap{round(share * 1000)}", "max_share": share})
    for share in (0.001, 0.002, 0.005)
    for spec in CANDIDATES if spec.name in ("phon", "name_prefix")
]


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
