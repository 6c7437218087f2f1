"""No plaintext value or token of the input appears anywhere in the output bytes."""

import pyarrow.parquet as pq
import pytest

from linkage.bloom.fieldvalues import normalise_value, tokenise_value
from linkage.encode import encode_file
from linkage.schema import default_schema


def _needles(people) -> set[bytes]:
    schema = default_schema()
    found: set[str] = set()
    for _, row in people.iterrows():
        for spec in schema.fields:
            raws = [row[c] for c in spec.columns] + (
                row[spec.aliases_column].split("|") if spec.aliases_column else []
            )
            for raw in filter(None, raws):
                found.add(raw)
                norm = normalise_value(spec, raw)
                found.add(norm)
                found.update(tokenise_value(spec, norm))
        found.add(row["record_id"])
    # 4+ bytes: shorter strings occur by chance in base64 text and binary data
    return {s.encode("utf-8") for s in found if len(s.encode("utf-8")) >= 4}


@pytest.mark.parametrize("suffix", ["parquet", "ndjson"])
def test_output_holds_no_plaintext(tmp_path, people, fixed_key, suffix):
    src = tmp_path / "people.csv"
    people.to_csv(src, index=False)
    out = tmp_path / f"people.clk.{suffix}"
    encode_file(default_schema(), fixed_key, src, out, workers=1)
    blobs = [out.read_bytes()]
    if suffix == "parquet":  # also look inside the (compressed) column data
        table = pq.read_table(out)
        blobs += [str(table.to_pylist()).encode(), table.column("clk").to_pylist()[0]]
        blobs.append(b"".join(table.column("clk").to_pylist()))
    needles = _needles(people)
    assert len(needles) > 50
    for blob in blobs:
        leaked = [n for n in needles if n in blob]
        assert not leaked, leaked
