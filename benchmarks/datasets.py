"""How hard is a generated data set? Shares of true pairs that are identical, nearly identical
or hard, so that the data is neither trivially easy nor impossible.

    python benchmarks/datasets.py --preset demo
    python benchmarks/datasets.py --people 100000 --agencies 3 --seed 7
    python benchmarks/datasets.py --data data/          # a set written by python -m synthetic_data

Names are compared after a light fold (transliterated to ASCII with anyascii, lower case,
punctuation removed), dates after reading each agency's own date format:

* identical: given, middle and family names and date of birth all equal;
* nearly identical: not identical, Jaro-Winkler >= 0.9 on both the given and the family name;
* hard: the rest (other script, other romanisation, swapped names, nickname, alias ...).

For scale, the same "nearly identical" test is run on random pairs of different people.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from anyascii import anyascii
from jellyfish import jaro_winkler_similarity

from synthetic_data import (
    GeneratorConfig,
    config_from_dict,
    default_agencies,
    generate,
    parse_date,
    preset,
    read_dataset,
    scripts_in,
)

THRESHOLD = 0.9
_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")


@dataclass(frozen=True)
class Folded:
    given: str
    middle: str
    family: str
    dob: tuple | None
    raw_script: str


def fold(value: str) -> str:
    text = anyascii(value).lower().replace("-", " ")
    return " ".join(_NON_ALNUM.sub("", text).split())


def _script(row: pd.Series) -> str:
    found = scripts_in([row["given_name"], row["family_name"]])
    return "+".join(sorted(found)) or "none"


def fold_records(frame: pd.DataFrame, date_format: str) -> dict[str, Folded]:
    out = {}
    for row in frame.itertuples(index=False):
        out[row.record_id] = Folded(
            fold(row.given_name), fold(row.middle_name), fold(row.family_name),
            parse_date(row.date_of_birth, date_format),
            "+".join(sorted(scripts_in([row.given_name, row.family_name]))) or "none",
        )
    return out


def classify(a: Folded, b: Folded) -> str:
    if (a.given, a.middle, a.family) == (b.given, b.middle, b.family) and a.dob and a.dob == b.dob:
        return "identical"
    if (jaro_winkler_similarity(a.given, b.given) >= THRESHOLD
            and jaro_winkler_similarity(a.family, b.family) >= THRESHOLD):
        return "nearly identical"
    return "hard"


def _pairs(truth: pd.DataFrame) -> tuple[list[tuple], list[tuple]]:
    """(cross-agency pairs, within-agency duplicate pairs) of (agency, record_id)."""
    cross, dup = [], []
    for _, group in truth.groupby("entity_id", sort=False):
        refs = list(zip(group["agency"], group["record_id"], strict=True))
        for i, a in enumerate(refs):
            for b in refs[i + 1:]:
                (cross if a[0] != b[0] else dup).append((a, b))
    return cross, dup


def _random_non_pairs(truth: pd.DataFrame, n: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    agencies = truth["agency"].to_numpy()
    ids = truth["record_id"].to_numpy()
    entities = truth["entity_id"].to_numpy()
    i = rng.integers(len(truth), size=n)
    j = rng.integers(len(truth), size=n)
    keep = (entities[i] != entities[j]) & (agencies[i] != agencies[j])
    return [((agencies[a], ids[a]), (agencies[b], ids[b])) for a, b in zip(i[keep], j[keep],
                                                                          strict=True)]


def report(agencies: dict[str, pd.DataFrame], truth: pd.DataFrame,
           date_formats: dict[str, str]) -> dict[str, float]:
    folded = {name: fold_records(frame, date_formats[name]) for name, frame in agencies.items()}
    cross, dup = _pairs(truth)
    rows = []
    by_pair: dict[tuple[str, str], Counter] = {}
    totals = Counter()
    extra = Counter()
    for (aa, ra), (ab, rb) in cross:
        a, b = folded[aa][ra], folded[ab][rb]
        kind = classify(a, b)
        totals[kind] += 1
        by_pair.setdefault((aa, ab), Counter())[kind] += 1
        extra["dob equal"] += bool(a.dob and a.dob == b.dob)
        extra["scripts differ"] += a.raw_script != b.raw_script
    n = max(sum(totals.values()), 1)
    print(f"\ntrue cross-agency pairs: {n:,}   within-agency duplicate pairs: {len(dup):,}")
    header = f"{'agencies':<22}{'pairs':>9}{'identical':>11}{'nearly id.':>11}{'hard':>8}"
    print(header)
    print("-" * len(header))
    for (aa, ab), c in sorted(by_pair.items()):
        m = sum(c.values())
        rows.append((f"{aa} / {ab}", m, c["identical"] / m, c["nearly identical"] / m,
                     c["hard"] / m))
    rows.append(("all cross-agency", n, totals["identical"] / n,
                 totals["nearly identical"] / n, totals["hard"] / n))
    if dup:
        d = Counter(classify(folded[aa][ra], folded[ab][rb]) for (aa, ra), (ab, rb) in dup)
        m = len(dup)
        rows.append(("duplicates (same ag.)", m, d["identical"] / m,
                     d["nearly identical"] / m, d["hard"] / m))
    for label, m, ident, near, hard in rows:
        print(f"{label:<22}{m:>9,}{ident:>11.1%}{near:>11.1%}{hard:>8.1%}")
    print(f"\ncross-agency pairs with equal date of birth: {extra['dob equal'] / n:.1%}; "
          f"with names in different scripts: {extra['scripts differ'] / n:.1%}")
    non = _random_non_pairs(truth, 50_000, 1)
    near_non = sum(classify(folded[aa][ra], folded[ab][rb]) != "hard"
                   for (aa, ra), (ab, rb) in non)
    print(f"random non-matching pairs that look (nearly) identical: "
          f"{near_non / max(len(non), 1):.2%} of {len(non):,}")
    return {"identical": totals["identical"] / n,
            "nearly_identical": totals["nearly identical"] / n, "hard": totals["hard"] / n}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, help="a directory written by python -m synthetic_data")
    p.add_argument("--preset", choices=("demo", "benchmark"))
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--agencies", type=int, default=3)
    p.add_argument("--overlap", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    started = time.perf_counter()
    if args.data:
        loaded = read_dataset(args.data)
        config = config_from_dict(loaded.manifest["config"])
        agencies, truth = loaded.agencies, loaded.truth
        label = f"data set {args.data} (seed {loaded.manifest['seed']})"
    else:
        config = preset(args.preset) if args.preset else GeneratorConfig(
            people=args.people, agencies=default_agencies(args.agencies), overlap=args.overlap)
        data = generate(config, args.seed, workers=2)
        agencies, truth = data.agencies, data.truth
        label = f"{args.preset or 'custom'} set: {config.people:,} people, seed {args.seed}"
    records = sum(len(f) for f in agencies.values())
    print(f"{label}: {records:,} records in {len(agencies)} agencies "
          f"({time.perf_counter() - started:.1f} s to load or generate)")
    report(agencies, truth, {a.name: a.date_format for a in config.agencies})
    return 0


if __name__ == "__main__":
    sys.exit(main())
