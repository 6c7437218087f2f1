"""``max_share``: key values held by too many records of a batch are left out."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from linkage.bloom.encoder import BatchEncoder
from linkage.schema import BlockingKeyPart, BlockingKeySpec, LinkageSchema, default_schema
from tests.encoder.conftest import COLUMNS


def _schema(max_share: float | None) -> LinkageSchema:
    key = BlockingKeySpec(name="country", max_share=max_share,
                          parts=[BlockingKeyPart(field="nationality", transform="whole")])
    return LinkageSchema.model_validate(
        default_schema().model_copy(update={"blocking_keys": [key]}).model_dump())


def _frame() -> pd.DataFrame:
    # 40 French, 12 German, 3 Italian records
    nat = ["FRA"] * 40 + ["DEU"] * 12 + ["ITA"] * 3
    rows = [(f"r{i}", "Anna", "", f"Name{i}", "", "F", "1990-01-01", "", "", n, "")
            for i, n in enumerate(nat)]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_values_above_the_share_are_left_out(fixed_key):
    frame = _frame()
    full = BatchEncoder(_schema(None), fixed_key).encode(frame).data.blocking["country"]
    capped = BatchEncoder(_schema(0.2), fixed_key).encode(frame).data.blocking["country"]
    # 0.2 * 55 = 11 records: FRA (40) and DEU (12) go, ITA (3) stays
    assert [len(k) for k in full] == [1] * 55
    assert [len(k) for k in capped] == [0] * 52 + [1] * 3
    assert len({int(k[0]) for k in list(capped)[52:]}) == 1  # the three ITA records share it


def test_small_counts_are_never_capped(fixed_key):
    """Below 10 holders a value stays whatever the share: frequencies of a handful of records
    tell an attacker nothing, and small batches would otherwise lose every key."""
    frame = _frame().iloc[45:]  # 7 DEU, 3 ITA
    capped = BatchEncoder(_schema(0.01), fixed_key).encode(frame).data.blocking["country"]
    assert [len(k) for k in capped] == [1] * 10


def test_unset_cap_keeps_the_fingerprint():
    plain = _schema(None)
    assert "max_share" not in plain.canonical_json()
    assert plain.fingerprint() != _schema(0.5).fingerprint()


@pytest.mark.parametrize("bad", [0, -0.1, 1.5])
def test_share_must_be_a_fraction(bad):
    with pytest.raises(ValidationError):
        _schema(bad)


def test_privacy_plaintext_follows_the_cap(fixed_key):
    enc = BatchEncoder(_schema(0.2), fixed_key)
    plain = enc.blocking_plaintext(_frame())["country"]
    assert np.array_equal(plain.records, np.arange(52, 55))
