"""The same seed gives the same data: in memory, streamed, in parallel, in another process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from synthetic_data import (
    GeneratorConfig,
    default_agencies,
    generate,
    read_dataset,
    reference_population,
    write_dataset,
)

SMALL = GeneratorConfig(people=700, agencies=default_agencies(4), overlap=0.3)


def _digest(data) -> str:
    h = hashlib.sha256()
    for name, frame in sorted(data.agencies.items()):
        h.update(name.encode())
        h.update(frame.to_csv(index=False).encode())
    h.update(data.truth.to_csv(index=False).encode())
    return h.hexdigest()


def test_same_seed_same_data() -> None:
    a, b = generate(SMALL, seed=3), generate(SMALL, seed=3)
    assert _digest(a) == _digest(b)
    pd.testing.assert_frame_equal(a.people, b.people)


def test_other_seed_other_data() -> None:
    a, b = generate(SMALL, seed=3), generate(SMALL, seed=4)
    assert _digest(a) != _digest(b)
    assert not a.agencies["agency_a"]["given_name"].equals(b.agencies["agency_a"]["given_name"])


def test_worker_processes_do_not_change_the_data() -> None:
    config = GeneratorConfig(people=10_500, agencies=default_agencies(1))  # two record chunks
    assert _digest(generate(config, seed=9, workers=1)) == _digest(
        generate(config, seed=9, workers=2))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_streamed_files_equal_in_memory_data(tmp_path: Path, fmt: str) -> None:
    summary = write_dataset(SMALL, 3, tmp_path, fmt=fmt)
    loaded = read_dataset(tmp_path)
    data = generate(SMALL, seed=3)
    assert summary.records == {k: len(v) for k, v in data.agencies.items()}
    for name, frame in data.agencies.items():
        pd.testing.assert_frame_equal(loaded.agencies[name], frame)
    pd.testing.assert_frame_equal(loaded.truth, data.truth)
    assert loaded.manifest["seed"] == 3
    assert not list(tmp_path.glob("*.part"))


_CHILD = """
import hashlib, sys
from synthetic_data import GeneratorConfig, default_agencies, generate
d = generate(GeneratorConfig(people=700, agencies=default_agencies(4), overlap=0.3), seed=3)
h = hashlib.sha256()
for name, frame in sorted(d.agencies.items()):
    h.update(name.encode()); h.update(frame.to_csv(index=False).encode())
h.update(d.truth.to_csv(index=False).encode())
print(h.hexdigest())
"""


def test_same_data_in_a_fresh_process_whatever_the_hash_seed() -> None:
    """Nothing depends on set/dict hash order or on state left by earlier runs."""
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONHASHSEED": hash_seed})
        for hash_seed in ("1", "2")
    ]
    digests = {child.communicate(timeout=120)[0].strip() for child in children}
    assert all(child.returncode == 0 for child in children)
    assert digests == {_digest(generate(SMALL, seed=3))}


def test_reference_population_is_reproducible() -> None:
    pd.testing.assert_frame_equal(reference_population(300, 5), reference_population(300, 5))
    assert not reference_population(300, 5).equals(reference_population(300, 6))


# Pinned so that a change to the generator's output is a deliberate one: update these and say
# why in the commit. numpy guarantees PCG64 streams; its non-uniform distributions (beta) are
# stable within a major version.
PINNED_FIRST_RECORD = {
    'record_id': 'A-0000001',
    'given_name': 'Yalazabay',
    'middle_name': '',
    'family_name': 'Bilge',
    'aliases': 'Boleslav Huz|Yalazabay Seven',
    'sex': 'M',
    'date_of_birth': '',
    'place_of_birth': 'Ankara',
    'country_of_birth': 'Turkey',
    'nationality': 'Netherlands',
    'document_number': 'NLKPGB9B6',
    'phone': '+393237018203',
}
PINNED_DIGEST = "744c7c9ba6a6219e7ab09d8d03ca8020412edfb0520aa5917fcd40554773e1f8"


def test_output_is_pinned() -> None:
    data = generate(GeneratorConfig(people=200), seed=2024)
    assert data.agencies["agency_a"].iloc[0].to_dict() == PINNED_FIRST_RECORD
    assert _digest(data) == PINNED_DIGEST
