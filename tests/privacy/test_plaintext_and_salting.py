"""The attacker's token model reproduces the encoder bit for bit, and salting behaves as
documented (docs/hardening.md)."""

import numpy as np
import pandas as pd
import pytest

from linkage.bloom.encoder import BatchEncoder
from linkage.bloom.hardening import unpack_bits
from linkage.bloom.hashing import token_words
from linkage.keys import SecretKey, derive_project_key, derive_subkey
from linkage.privacy.plaintext import SEP, PlainRecords
from linkage.schema import HardeningSpec, LinkageSchema, default_schema

KEY = SecretKey(bytes(range(32)))


def _schema(**hardening) -> LinkageSchema:
    s = default_schema().model_copy(update={"hardening": HardeningSpec(**hardening)})
    return LinkageSchema.model_validate(s.model_dump())


def _primary(schema: LinkageSchema, frame: pd.DataFrame) -> np.ndarray:
    batch = BatchEncoder(schema, KEY).encode(frame[schema.input_columns()], on_error="skip")
    assert len(batch.rows) == len(frame)
    return unpack_bits(batch.data.clk[batch.data.row_offsets[:-1]])


def _rebuild(schema: LinkageSchema, records: PlainRecords) -> np.ndarray:
    """Filters rebuilt from the attacker's token sets with the project key."""
    pk = derive_project_key(KEY, schema.fingerprint())
    out = np.zeros((len(records), schema.filter.bits), dtype=bool)
    for i, toks in enumerate(records.tokens):
        for t in toks:
            field, token = t.split(SEP, 1)
            spec = schema.field(field)
            words = token_words(schema.filter.hash_function, derive_subkey(pk, f"field:{field}"),
                                [token], spec.weight)
            out[i, (words[0] % np.uint32(schema.filter.bits)).astype(int)] = True
    return out


@pytest.mark.parametrize("salt", [None, "date_of_birth"])
def test_attacker_tokens_reproduce_the_encoder(agency_records, salt):
    schema = _schema(salt_field=salt)
    frame = agency_records.iloc[:300]
    records = PlainRecords.from_schema(schema, frame[schema.input_columns()])
    assert np.array_equal(_rebuild(schema, records), _primary(schema, frame))


def _person(dob: str) -> dict:
    return {"record_id": dob, "given_name": "Maria", "middle_name": "", "family_name": "Ionescu",
            "aliases": "", "sex": "F", "date_of_birth": dob, "place_of_birth": "Cluj",
            "country_of_birth": "Romania", "nationality": "Romania", "document_number": "",
            "phone": ""}


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_salting_changes_name_bits_only_when_the_salt_changes():
    frame = pd.DataFrame([_person("1980-03-04"), _person("1980-04-03"), _person("1981-03-04")])
    plain = _primary(_schema(), frame)
    schema = _schema(salt_field="date_of_birth")
    salted = _primary(schema, frame)
    assert not np.array_equal(plain[0], salted[0])  # the salt changes the bits
    tokens = PlainRecords.from_schema(schema, frame[schema.input_columns()]).tokens
    names = [{t for t in toks if t.startswith(("name" + SEP, "name_phonetic" + SEP))} for toks in tokens]
    assert names[0] == names[1]  # same year: the same salted name tokens
    assert not names[0] & names[2]  # a wrong year: no name token in common
    # so a pair with a wrong year loses the name similarity it has without salting
    assert _dice(salted[0], salted[2]) < _dice(plain[0], plain[2]) - 0.25
    assert _dice(salted[0], salted[1]) > _dice(salted[0], salted[2]) + 0.25


def test_salt_field_must_exist():
    d = default_schema().model_dump()
    d["hardening"] = {"salt_field": "nope"}
    with pytest.raises(ValueError, match="salt_field"):
        LinkageSchema.model_validate(d)
