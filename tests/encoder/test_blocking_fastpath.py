"""The per-cell phonetic blocking path gives the per-row reference values."""

import numpy as np
import pandas as pd
import pytest

from linkage.bloom import encoder as encoder_module
from linkage.bloom.encoder import BatchEncoder, _Batch, _Rejects, _select
from linkage.bloom.fieldvalues import blocking_part_values
from linkage.schema import BlockingKeyPart, default_schema
from synthetic_data import GeneratorConfig, default_agencies, generate


def _per_row(values: pd.DataFrame, n: int) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(n)]
    for r, v in zip(values["vrow"].tolist(), values["v"].tolist(), strict=True):
        out[r].append(v)
    return [sorted(set(x)) for x in out]


@pytest.mark.parametrize("transform", ["phonetic_parts", "phonetic_pairs"])
def test_phonetic_fast_path_equals_per_row_reference(fixed_key, people, transform):
    data = generate(GeneratorConfig(people=300, agencies=default_agencies(2)), 11)
    frame = pd.concat([*data.agencies.values(), people.astype(str)], ignore_index=True)
    frame = frame.fillna("")
    enc = BatchEncoder(default_schema(), fixed_key)
    batch = _Batch(frame=frame, n=len(frame), rejects=_Rejects(len(frame)))
    fields = {f.name: enc._field_cells(f, batch) for f in enc.schema.fields}
    keep = np.flatnonzero(~batch.rejects.mask)
    fields = {name: _select(cells, keep) for name, cells in fields.items()}
    counts = enc._variant_counts(fields, len(keep))
    assert counts.sum() > len(keep)  # aliases give extra variant rows
    checked = 0
    for spec in enc.schema.fields:
        part = BlockingKeyPart(field=spec.name, transform=transform)
        fast = enc._phonetic_part_values(spec, fields[spec.name], part, counts)
        rows = enc._row_values(fields, spec.name, counts)
        want = [sorted(set(blocking_part_values(spec, part, v))) if v else [] for v in rows]
        assert _per_row(fast, len(rows)) == want, spec.name
        checked += sum(map(len, want))
    assert checked > 0


def test_encoded_blocking_keys_equal_per_row_path(fixed_key, people, monkeypatch):
    data = generate(GeneratorConfig(people=300, agencies=default_agencies(2)), 5)
    frame = pd.concat([*data.agencies.values(), people.astype(str)], ignore_index=True)
    enc = BatchEncoder(default_schema(), fixed_key)
    fast = enc.encode(frame, on_error="skip").data.blocking
    monkeypatch.setattr(encoder_module, "_PHONETIC", ())
    slow = enc.encode(frame, on_error="skip").data.blocking
    assert fast.keys() == slow.keys()
    for name in fast:
        assert [k.tolist() for k in fast[name]] == [k.tolist() for k in slow[name]], name
