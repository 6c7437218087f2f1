import itertools
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.errors import CompatibilityError, EncodedFileError
from linkage.format import (
    EncodedData,
    EncodedFileWriter,
    FileMetadata,
    check_compatible,
    read_encoded,
    read_metadata,
)


def _metadata(**kw):
    base = dict(schema_fingerprint="ab" * 32, key_id="kid-test", filter_bits=128, max_variants=3,
                encoder_version="test", field_bits={"name": 64}, blocking_keys=("bk",))
    base.update(kw)
    return FileMetadata(**base)


def _data(rng, n, md):
    counts = rng.integers(1, md.max_variants + 1, size=n).astype(np.uint8)
    rows = int(counts.sum())
    return EncodedData(
        refs=np.array([f"r{i}" for i in range(n)], dtype=object),
        variant_counts=counts,
        clk=rng.integers(0, 2**63, size=(rows, md.filter_bits // 64), dtype=np.uint64),
        fields={k: rng.integers(0, 2**63, size=(rows, b // 64), dtype=np.uint64)
                for k, b in md.field_bits.items()},
        blocking={k: [rng.integers(0, 2**63, size=rng.integers(0, 3), dtype=np.uint64)
                      for _ in range(n)] for k in md.blocking_keys},
    )


def _assert_same(a: EncodedData, b: EncodedData):
    assert a.refs.tolist() == b.refs.tolist()
    assert np.array_equal(a.variant_counts, b.variant_counts)
    assert np.array_equal(a.clk, b.clk)
    for k in a.fields:
        assert np.array_equal(a.fields[k], b.fields[k])
    for k in a.blocking:
        assert [x.tolist() for x in a.blocking[k]] == [x.tolist() for x in b.blocking[k]]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 2**32 - 1), fmt=st.sampled_from(["parquet", "ndjson"]))
def test_round_trip(tmp_path_factory, n, seed, fmt):
    rng = np.random.default_rng(seed)
    md = _metadata()
    data = _data(rng, n, md)
    path = tmp_path_factory.mktemp("f") / f"x.clk.{fmt}"
    with EncodedFileWriter(path, md) as w:
        w.write(data)
    md2, back = read_encoded(path)
    assert md2.record_count == n
    assert read_metadata(path) == md2
    _assert_same(data, back)


def test_bit_layout_is_little_endian_packbits(tmp_path):
    md = _metadata(field_bits={}, blocking_keys=())
    bits = np.zeros(128, dtype=bool)
    bits[[0, 5, 64, 127]] = True
    clk = np.packbits(bits, bitorder="little").view("<u8").reshape(1, 2).astype(np.uint64)
    assert clk[0, 0] == 1 | (1 << 5) and clk[0, 1] == 1 | (1 << 63)
    data = EncodedData(np.array(["a"], dtype=object), np.array([1], np.uint8), clk)
    path = tmp_path / "x.parquet"
    with EncodedFileWriter(path, md) as w:
        w.write(data)
    raw = pq.read_table(path).column("clk")[0].as_py()
    assert raw == np.packbits(bits, bitorder="little").tobytes()


def test_interrupted_write_leaves_nothing(tmp_path):
    md = _metadata()
    path = tmp_path / "x.parquet"
    with pytest.raises(RuntimeError), EncodedFileWriter(path, md) as w:
        w.write(_data(np.random.default_rng(1), 5, md))
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_record_count_mismatch_is_detected(tmp_path):
    md = _metadata()
    path = tmp_path / "x.ndjson"
    with EncodedFileWriter(path, md) as w:
        w.write(_data(np.random.default_rng(2), 4, md))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # a truncated transfer
    with pytest.raises(EncodedFileError, match="holds 3 records but its metadata says 4"):
        read_encoded(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("format_version", 2, "format version 2"), ("filter_bits", 100, "not k\\*64"),
     ("schema_fingerprint", "short", "SHA-256"), ("key_id", "", "key id")],
)
def test_invalid_metadata_is_rejected(tmp_path, field, value, message):
    md = _metadata()
    path = tmp_path / "x.ndjson"
    with EncodedFileWriter(path, md) as w:
        w.write(_data(np.random.default_rng(3), 2, md))
    lines = path.read_text().splitlines()
    head = json.loads(lines[0])
    head["pprl"][field] = value
    path.write_text("\n".join([json.dumps(head), *lines[1:]]) + "\n")
    with pytest.raises(EncodedFileError, match=message):
        read_encoded(path)


def test_non_encoded_parquet_is_rejected(tmp_path):
    import pandas as pd

    path = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    with pytest.raises(EncodedFileError, match="no pprl metadata"):
        read_metadata(path)


def test_compatibility_names_both_files():
    a, b = _metadata(), _metadata(key_id="kid-other")
    with pytest.raises(CompatibilityError, match=r"a\.parquet and b\.parquet differ in key id"):
        check_compatible({"a.parquet": a, "b.parquet": b})
    check_compatible({"a": a, "c": _metadata()})


def test_list_columns_written_with_another_inner_field_name_are_accepted(tmp_path):
    """Other Parquet writers call the list item "element"; the column is the same."""
    import pyarrow as pa

    md = _metadata(field_bits={})
    data = _data(np.random.default_rng(5), 4, md)
    path = tmp_path / "x.parquet"
    with EncodedFileWriter(path, md) as w:
        w.write(data)
    table = pq.read_table(path)
    renamed = pa.list_(pa.field("element", pa.uint64()))
    pairs = zip(table.column_names, table.columns, strict=True)
    cols = [c.cast(renamed) if n == "bk.bk" else c for n, c in pairs]
    fields = [pa.field(n, renamed if n == "bk.bk" else table.schema.field(n).type, nullable=False)
              for n in table.column_names]
    other = pa.Table.from_arrays(cols, schema=pa.schema(fields, metadata=table.schema.metadata))
    meta = json.dumps(json.loads(md.to_json()) | {"record_count": 4}).encode()
    with pq.ParquetWriter(path, other.schema) as w:
        w.write_table(other)
        w.add_key_value_metadata({b"pprl": meta})
    assert pq.read_schema(path).field("bk.bk").type.value_field.name == "element"
    _, back = read_encoded(path)
    _assert_same(data, back)


def _slice(data: EncodedData, a: int, b: int) -> EncodedData:
    off = data.row_offsets
    return EncodedData(
        refs=data.refs[a:b], variant_counts=data.variant_counts[a:b],
        clk=data.clk[off[a]:off[b]], fields={k: v[off[a]:off[b]] for k, v in data.fields.items()},
        blocking={k: v[a:b] for k, v in data.blocking.items()},
    )


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 60), cuts=st.lists(st.integers(0, 60), max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_round_trip_over_several_row_groups(tmp_path_factory, n, cuts, seed):
    """Writes in several batches give several Arrow chunks per column; reading them from
    their buffers must give the records back in order."""
    md = _metadata()
    data = _data(np.random.default_rng(seed), n, md)
    bounds = sorted({0, n, *(min(c, n) for c in cuts)})
    path = tmp_path_factory.mktemp("g") / "x.clk.parquet"
    with EncodedFileWriter(path, md) as w:
        for a, b in itertools.pairwise(bounds):
            w.write(_slice(data, a, b))
    _, back = read_encoded(path)
    _assert_same(data, back)


def test_wrong_filter_length_names_the_record(tmp_path):
    import pyarrow as pa

    from linkage.format import arrow_schema

    md = _metadata(blocking_keys=(), field_bits={})
    path = tmp_path / "x.clk.parquet"
    good = np.zeros(16, dtype=np.uint8).tobytes()
    table = pa.Table.from_arrays(
        [pa.array(["a", "b", "c"]), pa.array([1, 1, 1], type=pa.uint8()),
         pa.array([good, good, good[:8]], type=pa.binary())],
        schema=arrow_schema(md))
    meta = json.loads(md.to_json()) | {"record_count": 3}
    pq.write_table(table.replace_schema_metadata({"pprl": json.dumps(meta)}), path)
    with pytest.raises(EncodedFileError, match=r"record 2: column 'clk' has the wrong length"):
        read_encoded(path)


@settings(max_examples=60, deadline=None)
@given(lists=st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=4), max_size=12),
       more=st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=3), max_size=5),
       data=st.data())
def test_uint64_lists_behave_as_a_list_of_arrays(lists, more, data):
    from linkage.format import UInt64Lists

    arrays = [np.asarray(x, dtype=np.uint64) for x in lists]
    flat = UInt64Lists.from_arrays(arrays)
    assert len(flat) == len(lists)
    assert [a.tolist() for a in flat] == lists
    assert [flat[i].tolist() for i in range(-len(lists), len(lists))] == lists + lists
    order = data.draw(st.lists(st.integers(0, max(len(lists) - 1, 0)), max_size=15)) if lists else []
    assert [a.tolist() for a in flat.take(np.asarray(order, dtype=np.int64))] == [lists[i] for i in order]
    assert [a.tolist() for a in flat[1::2]] == lists[1::2]
    joined = UInt64Lists.concat([flat, [np.asarray(x, dtype=np.uint64) for x in more], flat])
    assert [a.tolist() for a in joined] == lists + more + lists
    with pytest.raises(IndexError):
        flat[len(lists)]


def test_uint64_lists_reject_inconsistent_offsets():
    from linkage.format import UInt64Lists

    with pytest.raises(ValueError, match="offsets"):
        UInt64Lists(np.zeros(3, np.uint64), np.asarray([0, 2]))
    with pytest.raises(ValueError, match="offsets"):
        UInt64Lists(np.zeros(3, np.uint64), np.asarray([0, 2, 1, 3]))
