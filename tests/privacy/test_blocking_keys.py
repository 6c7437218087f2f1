"""The frequency attack on encoded blocking keys (attribute disclosure to the service)."""

import numpy as np
import pandas as pd

from linkage.bloom.encoder import BatchEncoder, BlockingPlaintext
from linkage.keys import SecretKey
from linkage.privacy import CheckSettings, privacy_check
from linkage.privacy.blocking_keys import blocking_key_attack
from linkage.schema import BlockingKeyPart, BlockingKeySpec, LinkageSchema, default_schema


def _plaintext(values: np.ndarray) -> BlockingPlaintext:
    """One value per record; the 'digest' is any opaque id of the value."""
    _, ids = np.unique(values, return_inverse=True)
    return BlockingPlaintext(records=np.arange(len(values)), values=values.astype(object),
                             digests=(ids.astype(np.uint64) * np.uint64(7919)) ^ np.uint64(12345))


def _zipf(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray([f"v{k}" for k in np.minimum(rng.zipf(1.6, n), 5000)], dtype=object)


def test_zipf_values_are_named_from_their_counts():
    seen, public = _zipf(20_000, 1), _zipf(40_000, 2)
    r = blocking_key_attack("surname_code", _plaintext(seen), _plaintext(public), len(seen), len(public))
    # the head of the distribution (v1, v2, ...) is told apart by counts alone
    assert r.precision == 1.0 and r.rate > 0.3, r.as_dict()
    assert r.attack == "blocking_key:surname_code"


def test_flat_values_give_nothing_away():
    rng = np.random.default_rng(3)
    seen = np.asarray([f"d{k}" for k in rng.integers(0, 20_000, 20_000)], dtype=object)
    public = np.asarray([f"d{k}" for k in rng.integers(0, 20_000, 40_000)], dtype=object)
    r = blocking_key_attack("dob", _plaintext(seen), _plaintext(public), len(seen), len(public))
    assert r.guesses == 0 and r.correct == 0


def test_encoder_plaintext_matches_the_encoded_keys(agency_records):
    """What the simulation scores against is what the service receives."""
    enc = BatchEncoder(default_schema(), SecretKey(bytes(32)))
    frame = agency_records.head(300)
    data = enc.encode(frame, on_error="skip").data
    for name, plain in enc.blocking_plaintext(frame).items():
        lists = data.blocking[name]
        got = [sorted(plain.digests[plain.records == i].tolist()) for i in range(len(lists))]
        assert got == [sorted(x.tolist()) for x in lists], name


def test_privacy_check_reports_coarse_keys_without_gating(agency_records):
    """A key over a few values with clearly different counts is named by the service."""
    records = agency_records.copy()
    shares = np.repeat(["FRA", "DEU", "ESP", "ITA"], [60, 25, 10, 5])
    records["nationality"] = np.resize(shares, len(records))
    schema = LinkageSchema.model_validate(default_schema().model_copy(update={"blocking_keys": [
        BlockingKeySpec(name="nationality", parts=[BlockingKeyPart(field="nationality", transform="whole")]),
    ]}).model_dump())
    report = privacy_check(schema, SecretKey(bytes(32)), records,
                           settings=CheckSettings(sample=200, attacks=("blocking_keys",)))
    (result,) = report.results
    assert result.attack == "blocking_key:nationality"
    assert result.precision == 1.0 and result.rate > 0.95, result.as_dict()
    assert result in report.attribute_disclosures and report.passed


def test_no_blocking_keys_no_results(agency_records):
    schema = LinkageSchema.model_validate(
        default_schema().model_copy(update={"blocking_keys": []}).model_dump())
    report = privacy_check(schema, SecretKey(bytes(32)), pd.DataFrame(agency_records),
                           settings=CheckSettings(sample=200, attacks=("blocking_keys",)))
    assert report.results == ()
