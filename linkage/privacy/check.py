"""The agency-side privacy check: simulate the published attacks on the agency's own encodings.

Threat model (docs/privacy.md): the attacker holds the encodings and the public linkage
schema, not the key, and plaintext of the same population (a voter roll, a census extract, a
sanctions list). By default the check assumes the worst case, that the attacker's plaintext
contains the encoded people themselves (``assume_overlap``): the reference population is the
agency's own sampled plaintext plus any public reference given. A guess is correct when it
names the encoded record's own normalised quasi-identifiers.

Everything runs locally; nothing leaves the machine. The check samples ``sample`` encoded
records (the attacks are quadratic in the number of encodings) with a fixed seed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage.bloom.encoder import BatchEncoder
from linkage.encode import check_columns
from linkage.errors import SchemaError
from linkage.format import EncodedData
from linkage.keys import SecretKey
from linkage.privacy.blocking_keys import blocking_key_attack
from linkage.privacy.double_hashing import double_hashing_attack
from linkage.privacy.encodings import as_dense, attack_view
from linkage.privacy.frequency import frequency_attack
from linkage.privacy.graph_matching import graph_matching_attack
from linkage.privacy.pattern_mining import pattern_mining_attack
from linkage.privacy.plaintext import PlainRecords
from linkage.privacy.results import AttackResult
from linkage.privacy.stats import EncodingStats, encoding_stats
from linkage.schema import LinkageSchema, QGramTokeniser

__all__ = ["ATTACKS", "CheckSettings", "PrivacyReport", "attacker_key", "privacy_check"]

ATTACKS = ("frequency", "double_hashing", "pattern_mining", "graph_matching", "blocking_keys")


@dataclass(frozen=True)
class CheckSettings:
    """What the check simulates and when it fails.

    It fails when an attack re-identifies more than ``max_rate`` of the sampled encodings
    with a precision above ``min_precision`` (an attack whose guesses are mostly wrong does
    not identify anyone).
    """

    sample: int = 2000
    reference_sample: int = 2000
    assume_overlap: bool = True
    max_rate: float = 0.01
    min_precision: float = 0.5
    seed: int = 0
    attacks: tuple[str, ...] = ATTACKS

    def __post_init__(self) -> None:
        unknown = set(self.attacks) - set(ATTACKS)
        if unknown:
            raise ValueError(f"unknown attacks: {sorted(unknown)}")


@dataclass(frozen=True)
class PrivacyReport:
    schema_fingerprint: str
    encodings: int
    reference_records: int
    complement_pairs: int
    stats: EncodingStats
    results: tuple[AttackResult, ...]
    settings: CheckSettings = field(default_factory=CheckSettings)

    @property
    def failures(self) -> list[AttackResult]:
        """Re-identification attacks over the limit (blocking-key disclosure is reported,
        not gated: it reveals an attribute, not an identity)."""
        s = self.settings
        return [r for r in self.results if not _is_attribute(r)
                and r.exceeds(s.max_rate, s.min_precision)]

    @property
    def attribute_disclosures(self) -> list[AttackResult]:
        """Blocking keys whose values the service could name for more than ``max_rate`` of
        the records."""
        s = self.settings
        return [r for r in self.results if _is_attribute(r) and r.exceeds(s.max_rate, s.min_precision)]

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        return {
            "schema_fingerprint": self.schema_fingerprint,
            "encodings": self.encodings,
            "reference_records": self.reference_records,
            "complement_pairs": self.complement_pairs,
            "max_rate": self.settings.max_rate,
            "min_precision": self.settings.min_precision,
            "passed": self.passed,
            "attacks": [r.as_dict() for r in self.results],
            "stats": self.stats.as_dict(),
        }


def attacker_key(seed: int) -> SecretKey:
    """The simulated attacker's own key (public, derived from the seed; unrelated to any
    project secret), used to encode the reference population under the public schema."""
    return SecretKey(hashlib.sha256(b"pprl privacy-check attacker key\x00" + str(seed).encode()).digest())


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if len(frame) <= n:
        return frame.reset_index(drop=True)
    idx = np.sort(np.random.default_rng(seed).choice(len(frame), n, replace=False))
    return frame.iloc[idx].reset_index(drop=True)


def _encode(encoder: BatchEncoder, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Primary-variant filters of the records that encode, and those records."""
    batch = encoder.encode(frame, on_error="skip")
    kept = frame.iloc[batch.rows - 1].reset_index(drop=True)
    return batch.data.clk[batch.data.row_offsets[:-1]], kept


def _match_encoded(
    encoder: BatchEncoder, frame: pd.DataFrame, encoded: EncodedData, id_column: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows of ``encoded`` for the plaintext records (joined on the keyed reference)."""
    position = {ref: i for i, ref in enumerate(encoded.refs.tolist())}
    rows, keep = [], []
    ids = [rid.strip() for rid in frame[id_column].astype(str).tolist()]
    for i, ref in enumerate(encoder.references(ids)):
        j = position.get(ref)
        if j is not None:
            rows.append(int(encoded.row_offsets[j]))
            keep.append(i)
    if not rows:
        raise SchemaError("none of the plaintext records is in the encoded file (wrong key or schema?)")
    return encoded.clk[np.asarray(rows)], frame.iloc[keep].reset_index(drop=True)


def _reference_frame(parts: list[pd.DataFrame], schema: LinkageSchema) -> pd.DataFrame:
    """The attacker's plaintext population: the parts together, with ids of its own."""
    frame = pd.concat(parts, ignore_index=True)
    frame[schema.record_id_column] = [f"ref-{i}" for i in range(len(frame))]
    return frame


def _double_hashing_k(schema: LinkageSchema) -> int:
    """Bits per token the double-hashing search assumes: the first q-gram field's weight."""
    for f in schema.fields:
        if isinstance(f.tokeniser, QGramTokeniser) and f.weight > 0:
            return f.weight
    return max(f.weight for f in schema.fields)


def privacy_check(
    schema: LinkageSchema,
    key: SecretKey,
    plaintext: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    encoded: EncodedData | None = None,
    settings: CheckSettings | None = None,
) -> PrivacyReport:
    """Simulate the attacks on the encodings of ``plaintext`` (or on ``encoded``, joined to
    ``plaintext`` by record reference) and report re-identification per attack."""
    settings = settings or CheckSettings()
    cols = schema.input_columns()
    check_columns(list(plaintext.columns), schema)
    if reference is not None:
        check_columns(list(reference.columns), schema)
    encoder = BatchEncoder(schema, key)
    sample = _sample(plaintext[cols], settings.sample, settings.seed)
    if encoded is None:
        filters, sample = _encode(encoder, sample)
    else:
        filters, sample = _match_encoded(encoder, sample, encoded, schema.record_id_column)
    raw = as_dense(filters)
    view = attack_view(raw)
    truth = PlainRecords.from_schema(schema, sample)
    parts = [sample] if settings.assume_overlap else []
    if reference is not None:
        parts.append(_sample(reference[cols], settings.reference_sample, settings.seed + 1))
    if not parts:
        raise SchemaError("no reference population: give one or assume overlap")
    ref_frame = _reference_frame(parts, schema)
    ref_filters, ref_frame = _encode(BatchEncoder(schema, attacker_key(settings.seed)), ref_frame)
    ref = PlainRecords.from_schema(schema, ref_frame)
    ref_view = attack_view(as_dense(ref_filters))
    results = _run(settings.attacks, schema, view.bits, ref_view.bits, truth, ref)
    if "blocking_keys" in settings.attacks:
        results += _blocking_key_results(schema, key, plaintext[cols], reference, settings)
    return PrivacyReport(
        schema_fingerprint=schema.fingerprint(),
        encodings=len(truth),
        reference_records=len(ref),
        complement_pairs=view.complement_pairs,
        stats=encoding_stats(raw),
        results=tuple(results),
        settings=settings,
    )


def _run(
    attacks: tuple[str, ...],
    schema: LinkageSchema,
    bits: np.ndarray,
    ref_bits: np.ndarray,
    truth: PlainRecords,
    ref: PlainRecords,
) -> list[AttackResult]:
    h = schema.hardening
    bloom = not (h.xor_fold or h.diffusion_inputs or h.blip_epsilon is not None)
    out: list[AttackResult] = []
    for name in attacks:
        if name == "frequency":
            out.append(frequency_attack(bits, ref, truth.identity, bloom_model=bloom))
        elif name == "double_hashing":
            out.append(double_hashing_attack(bits, ref, truth.identity, k=_double_hashing_k(schema)))
        elif name == "pattern_mining":
            out.append(pattern_mining_attack(bits, ref, truth.identity))
        elif name == "graph_matching":
            out.append(graph_matching_attack(bits, ref, truth.identity, reference_bits=ref_bits))
    return out


def _is_attribute(result: AttackResult) -> bool:
    return result.attack.startswith("blocking_key:")


def _blocking_key_results(schema: LinkageSchema, key: SecretKey, plaintext: pd.DataFrame,
                          reference: pd.DataFrame | None, settings: CheckSettings) -> list[AttackResult]:
    """The blocking-key frequency attack on the whole input: the service sees every uploaded
    record's keys, and value counts separate better the more records there are, so a sample
    would understate the risk. The attacker's frequencies come from the input itself
    (``assume_overlap``) plus the public reference, read under its own key."""
    if not schema.blocking_keys:
        return []
    seen = BatchEncoder(schema, key).blocking_plaintext(plaintext)
    parts = ([plaintext] if settings.assume_overlap else []) + ([reference] if reference is not None else [])
    ref_frame = _reference_frame(parts, schema)
    ref_values = BatchEncoder(schema, attacker_key(settings.seed)).blocking_plaintext(ref_frame)
    n_seen = len(np.unique(np.concatenate([v.records for v in seen.values()])))
    return [blocking_key_attack(name, seen[name], ref_values[name], n_seen, len(ref_frame))
            for name in seen]
