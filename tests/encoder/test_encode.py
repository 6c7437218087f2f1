"""The encode pipeline end to end: files in, encoded files out, errors by row and field."""

import csv

import numpy as np
import pandas as pd
import pytest

from linkage.bloom.hardening import hardened_bits
from linkage.encode import encode_dataframe, encode_file
from linkage.errors import InputRecordError, SchemaError
from linkage.format import UInt64Lists, read_encoded
from linkage.keys import SecretKey
from linkage.schema import default_schema


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    inter = int(np.bitwise_count(a & b).sum())
    total = int(np.bitwise_count(a).sum() + np.bitwise_count(b).sum())
    return 2 * inter / total if total else 0.0


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_encode_file_round_trip(tmp_path, people, fixed_key, suffix):
    src = tmp_path / f"people.{suffix}"
    people.to_csv(src, index=False) if suffix == "csv" else people.to_parquet(src)
    out = tmp_path / "people.clk.parquet"
    report = encode_file(default_schema(), fixed_key, src, out, workers=1, chunk_size=2)
    md, data = read_encoded(out)
    assert report.records_encoded == md.record_count == len(people)
    assert md.schema_fingerprint == default_schema().fingerprint()
    schema = default_schema()
    assert md.filter_bits == hardened_bits(schema.hardening, schema.filter.bits)
    assert all(r.startswith("r-") and len(r) == 34 for r in data.refs)
    # Muhammad has two aliases, the Ukrainian record none
    assert data.variant_counts.tolist()[:2] == [3, 1]
    assert set(md.blocking_keys) == {b.name for b in default_schema().blocking_keys}
    keys_per_record = sum(UInt64Lists.from_arrays(v).lengths for v in data.blocking.values())
    assert (keys_per_record > 0).all()  # every record can be blocked


def test_parallel_equals_inline(tmp_path, people, fixed_key):
    big = pd.concat([people.assign(record_id=people.record_id + f"-{i}") for i in range(30)])
    src = tmp_path / "p.csv"
    big.to_csv(src, index=False)
    a, b = tmp_path / "a.clk.parquet", tmp_path / "b.clk.parquet"
    encode_file(default_schema(), fixed_key, src, a, workers=1, chunk_size=7)
    encode_file(default_schema(), fixed_key, src, b, workers=2, chunk_size=11)
    (_, da), (_, db) = read_encoded(a), read_encoded(b)
    assert da.refs.tolist() == db.refs.tolist()
    assert np.array_equal(da.clk, db.clk)


def test_deterministic_for_key_and_unrelated_across_keys(people, fixed_key):
    _, a = encode_dataframe(people, default_schema(), fixed_key)
    _, b = encode_dataframe(people, default_schema(), fixed_key)
    _, c = encode_dataframe(people, default_schema(), SecretKey(bytes(32)))
    assert np.array_equal(a.clk, b.clk)
    assert a.refs.tolist() != c.refs.tolist()
    # unrelated keys: Dice no higher than chance for filters of this density
    density = np.bitwise_count(a.clk).sum(axis=1) / (a.clk.shape[1] * 64)
    chance = float(density.max())
    assert max(_dice(a.clk[i], c.clk[i]) for i in range(len(a.clk))) < chance + 0.15


def test_similarity_sanity(fixed_key, person_columns):
    rows = [
        ("x1", "Aleksandr", "", "Ivanov", "", "M", "1980-05-17", "Moscow", "", "RUS", ""),
        ("x2", "Alexander", "", "Ivanov", "", "male", "17/05/1980", "Moskva", "", "Russia", ""),
        ("x3", "Ivanov", "", "Aleksandr", "", "M", "1980-05-17", "Moscow", "", "RU", ""),
        ("x4", "Александр", "", "Иванов", "", "M", "17.05.1980", "Москва", "", "RUS", ""),
        ("x5", "Aleksnadr", "", "Ivanov", "", "M", "1980-05-17", "Moscow", "", "RUS", ""),
        ("y1", "Fatima", "", "Haddad", "", "F", "1992-11-02", "Beirut", "", "LBN", ""),
    ]
    df = pd.DataFrame(rows, columns=person_columns)
    # A similarity under one key varies by a few hundredths with the random bit collisions of
    # that key; the schema's property is the mean over keys.
    per_key = []
    for key in [fixed_key, *(SecretKey(bytes([i]) * 32) for i in range(1, 6))]:
        _, data = encode_dataframe(df, default_schema(), key)
        per_key.append([_dice(data.clk[0], data.clk[i]) for i in range(1, len(rows))])
    scores = dict(zip([r[0] for r in rows[1:]], np.mean(per_key, axis=0).tolist(), strict=True))
    assert scores["x2"] > 0.75, scores  # transliteration variant + formats
    assert scores["x3"] > 0.95, scores  # swapped name order
    assert scores["x4"] > 0.75, scores  # native script
    assert scores["x5"] > 0.85, scores  # typo (transposition)
    assert scores["y1"] < 0.4, scores   # unrelated


def test_missing_and_unknown_columns_are_listed(tmp_path, people, fixed_key):
    src = tmp_path / "p.csv"
    people.drop(columns=["sex"]).assign(shoe_size="42").to_csv(src, index=False)
    with pytest.raises(SchemaError, match=r"missing \['sex'\]; unknown \['shoe_size'\]"):
        encode_file(default_schema(), fixed_key, src, tmp_path / "o.parquet", workers=1)
    assert not (tmp_path / "o.parquet").exists()


def _bad_input(tmp_path, people):
    bad = people.copy()
    bad.loc[1, "date_of_birth"] = "31/02/1990"
    bad.loc[3, "record_id"] = ""
    src = tmp_path / "bad.csv"
    bad.to_csv(src, index=False)
    return src


@pytest.mark.parametrize("workers", [1, 2])
def test_on_error_fail_names_row_and_field_only(tmp_path, people, fixed_key, workers):
    src = _bad_input(tmp_path, people)
    out = tmp_path / "o.clk.parquet"
    with pytest.raises(InputRecordError) as info:
        encode_file(default_schema(), fixed_key, src, out, workers=workers, chunk_size=2)
    assert (info.value.row, info.value.field) == (2, "date_of_birth")
    assert "31/02" not in str(info.value)
    assert not out.exists() and list(tmp_path.glob("*.part")) == []


def test_on_error_skip_writes_rejects_without_values(tmp_path, people, fixed_key):
    src = _bad_input(tmp_path, people)
    out, rej = tmp_path / "o.clk.parquet", tmp_path / "rejects.csv"
    report = encode_file(default_schema(), fixed_key, src, out, workers=1, on_error="skip",
                         rejects_path=rej)
    assert report.records_encoded == 3
    rows = list(csv.DictReader(rej.open()))
    assert [(r["row"], r["field"]) for r in rows] == [("2", "date_of_birth"), ("4", "record_id")]
    text = rej.read_text()
    assert "31/02" not in text and "Maria" not in text
    assert read_encoded(out)[0].record_count == 3


def test_invalid_utf8_and_overlong_values(tmp_path, people, fixed_key):
    src = tmp_path / "p.csv"
    people.to_csv(src, index=False)
    raw = src.read_bytes().replace(b"Aisha", b"Ai\xffsha")
    src.write_bytes(raw)
    with pytest.raises(InputRecordError, match="row 5, field 'given_name': invalid UTF-8"):
        encode_file(default_schema(), fixed_key, src, tmp_path / "o.parquet", workers=1)
    long = people.copy()
    long.loc[0, "place_of_birth"] = "x" * 5000
    long.to_csv(src, index=False)
    with pytest.raises(InputRecordError, match="row 1, field 'place_of_birth': value longer"):
        encode_file(default_schema(), fixed_key, src, tmp_path / "o.parquet", workers=1)


def test_duplicate_record_ids_are_refused(tmp_path, people, fixed_key):
    src = tmp_path / "p.csv"
    pd.concat([people, people.iloc[[2]]]).to_csv(src, index=False)
    with pytest.raises(InputRecordError, match="row 6, field 'record_id': duplicate"):
        encode_file(default_schema(), fixed_key, src, tmp_path / "o.parquet", workers=1)


def test_reference_map_maps_ids_to_refs(tmp_path, people, fixed_key):
    src = tmp_path / "p.csv"
    people.to_csv(src, index=False)
    out, refmap = tmp_path / "o.clk.parquet", tmp_path / "refs.csv"
    encode_file(default_schema(), fixed_key, src, out, workers=2, chunk_size=2, reference_map=refmap)
    mapping = pd.read_csv(refmap, dtype=str)
    assert mapping.record_id.tolist() == people.record_id.tolist()
    assert mapping.ref.tolist() == read_encoded(out)[1].refs.tolist()


def test_date_order_is_an_input_convention_not_part_of_the_fingerprint(people, fixed_key):
    from linkage.bloom.encoder import BatchEncoder

    us = people.assign(date_of_birth=["03/14/1987", "02/14/1990", "1995", "11/03/1979", "1988-07"])
    eu = people.assign(date_of_birth=["14/03/1987", "14/02/1990", "1995", "03/11/1979", "1988-07"])
    a = BatchEncoder(default_schema(), fixed_key, date_order="month_first")
    b = BatchEncoder(default_schema(), fixed_key)
    assert a.metadata == b.metadata
    assert np.array_equal(a.encode(us).data.clk, b.encode(eu).data.clk)
    # read day-first, the US record of 11 March becomes 3 November (both parts <= 12)
    rows = b.encode(us).data.row_offsets[3:5]
    assert not np.array_equal(b.encode(us).data.clk[rows[0]], b.encode(eu).data.clk[rows[0]])


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_input_of_one_chunk_is_encoded_without_worker_processes(tmp_path, people, fixed_key,
                                                                 monkeypatch, suffix):
    """Starting worker processes costs ~0.5 s, more than a one-chunk input takes to encode."""
    import linkage.encode as pipeline

    started: list[int] = []
    real_pool = pipeline._pool
    monkeypatch.setattr(pipeline, "_pool", lambda *a: started.append(1) or real_pool(*a))
    src = tmp_path / f"p.{suffix}"
    big = pd.concat([people.assign(record_id=people.record_id + f"-{i}") for i in range(4)])
    if suffix == "csv":
        big.to_csv(src, index=False)
    else:  # row groups smaller than a chunk: the footer's row count decides, not the batch
        big.to_parquet(src, row_group_size=3)
    encode_file(default_schema(), fixed_key, src, tmp_path / "one.clk.parquet", workers=2,
                chunk_size=len(big) + 1)
    assert started == []
    encode_file(default_schema(), fixed_key, src, tmp_path / "two.clk.parquet", workers=2,
                chunk_size=len(big) - 1)
    assert started == [1]
    _, one = read_encoded(tmp_path / "one.clk.parquet")
    _, two = read_encoded(tmp_path / "two.clk.parquet")
    assert np.array_equal(one.clk, two.clk) and one.refs.tolist() == two.refs.tolist()


@pytest.mark.parametrize("hardening", [{"permute": True}, {"balance": True, "xor_fold": True},
                                       {"blip_epsilon": 3.0}, {"diffusion_inputs": 3}])
def test_a_chunk_with_every_record_rejected_encodes_to_nothing(people, fixed_key, hardening):
    """on_error="skip" can leave a chunk empty; every hardening step must take zero rows."""
    from linkage.bloom.encoder import BatchEncoder
    from linkage.schema import HardeningSpec

    schema = default_schema().model_copy(update={"hardening": HardeningSpec(**hardening)})
    batch = BatchEncoder(schema, fixed_key).encode(people.assign(date_of_birth="31/02/1990"),
                                                   on_error="skip")
    assert batch.data.n_records == 0 and batch.data.clk.shape[0] == 0
    assert [(r.row, r.field) for r in batch.rejects] == [
        (i + 1, "date_of_birth") for i in range(len(people))]
