"""Pinned test vectors: fixed key + schema + records -> exact bits (tests/vectors/encoder_v1.json)."""

import json
from pathlib import Path

import pandas as pd

from linkage.encode import encode_dataframe
from linkage.keys import SecretKey
from linkage.schema import LinkageSchema

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "encoder_v1.json"


def test_encoder_reproduces_pinned_bits():
    doc = json.loads(VECTORS.read_text(encoding="utf-8"))
    schema = LinkageSchema.model_validate(doc["schema"])
    md, data = encode_dataframe(pd.DataFrame(doc["records"]), schema,
                                SecretKey(bytes.fromhex(doc["key_hex"])))
    want = doc["expected"]
    assert md.schema_fingerprint == want["schema_fingerprint"]
    assert md.key_id == want["key_id"]
    assert data.refs.tolist() == want["refs"]
    assert data.variant_counts.tolist() == want["variant_counts"]
    assert [r.astype("<u8").tobytes().hex() for r in data.clk] == want["clk"]
    for name, rows in want["fields"].items():
        assert [r.astype("<u8").tobytes().hex() for r in data.fields[name]] == rows
    for name, keys in want["blocking"].items():
        assert [[int(x) for x in k] for k in data.blocking[name]] == keys
