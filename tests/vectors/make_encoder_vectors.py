"""Regenerate tests/vectors/encoder_v1.json.

Run only when the encoding is changed on purpose (that is a new encoder version: agencies
must all upgrade together). Source: this project's encoder at the version recorded in the
file, fixed key 00..1f, the schema and records below.
"""

import json
from pathlib import Path

import pandas as pd

import linkage
from linkage.encode import encode_dataframe
from linkage.keys import SecretKey
from linkage.schema import (
    BlockingKeyPart,
    BlockingKeySpec,
    CountryNormaliser,
    DateNormaliser,
    DateTokeniser,
    DocumentNormaliser,
    FieldSpec,
    FilterSpec,
    LinkageSchema,
    NameNormaliser,
    PhoneticTokeniser,
    QGramTokeniser,
    SexNormaliser,
    WholeTokeniser,
)

HERE = Path(__file__).parent
KEY = bytes(range(32))
RECORDS = [
    {"record_id": "v-1", "given_name": "Muhammad", "family_name": "al-Rashid",
     "aliases": "Mohammed Rashid|محمد الراشد", "sex": "M", "date_of_birth": "14/03/1987",
     "nationality": "Syria", "document_number": "n 1234-567"},
    {"record_id": "v-2", "given_name": "Олександр", "family_name": "Шевченко", "aliases": "",
     "sex": "чоловіча", "date_of_birth": "1990", "nationality": "UA", "document_number": ""},
    {"record_id": "v-3", "given_name": "민준", "family_name": "김", "aliases": "Kim Min-jun",
     "sex": "female", "date_of_birth": "1995-07", "nationality": "KOR", "document_number": "M1"},
]


def vector_schema() -> LinkageSchema:
    name = NameNormaliser()
    return LinkageSchema(
        name="test-vectors",
        filter=FilterSpec(bits=128, field_filters=True, field_bits=64),
        max_variants=2,
        fields=[
            FieldSpec(name="name", columns=["given_name", "family_name"], aliases_column="aliases",
                      normaliser=name, tokeniser=QGramTokeniser(q=2), weight=3),
            FieldSpec(name="phon", columns=["given_name", "family_name"], aliases_column="aliases",
                      normaliser=name, tokeniser=PhoneticTokeniser(algorithm="metaphone"), weight=2),
            FieldSpec(name="dob", columns=["date_of_birth"], normaliser=DateNormaliser(),
                      tokeniser=DateTokeniser(), weight=2),
            FieldSpec(name="sex", columns=["sex"], normaliser=SexNormaliser(),
                      tokeniser=WholeTokeniser(), weight=1),
            FieldSpec(name="nat", columns=["nationality"], normaliser=CountryNormaliser(),
                      tokeniser=WholeTokeniser(), weight=1),
            FieldSpec(name="doc", columns=["document_number"], normaliser=DocumentNormaliser(),
                      tokeniser=QGramTokeniser(q=3, padding=False), weight=1),
        ],
        blocking_keys=[BlockingKeySpec(name="bk", parts=[
            BlockingKeyPart(field="phon", transform="phonetic_parts"),
            BlockingKeyPart(field="dob", transform="year")])],
    )


def compute() -> dict:
    schema = vector_schema()
    md, data = encode_dataframe(pd.DataFrame(RECORDS), schema, SecretKey(KEY))
    return {
        "refs": data.refs.tolist(),
        "variant_counts": data.variant_counts.tolist(),
        "clk": [row.astype("<u8").tobytes().hex() for row in data.clk],
        "fields": {n: [r.astype("<u8").tobytes().hex() for r in a] for n, a in data.fields.items()},
        "blocking": {n: [[int(x) for x in k] for k in v] for n, v in data.blocking.items()},
        "key_id": md.key_id,
        "schema_fingerprint": md.schema_fingerprint,
    }


if __name__ == "__main__":
    doc = {
        "source": "pprl-linkage encoder " + linkage.__version__ + "; tests/vectors/make_encoder_vectors.py",
        "key_hex": KEY.hex(),
        "schema": json.loads(vector_schema().to_json()),
        "records": RECORDS,
        "expected": compute(),
    }
    (HERE / "encoder_v1.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
