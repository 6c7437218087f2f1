"""Synthetic multi-jurisdiction identity data with ground truth.

The same people recorded by police, border and victim-support agencies of several
countries, in different scripts, spellings and formats, with errors; and the truth of who is
who. Standalone: nothing here imports ``linkage`` (and ``linkage`` never imports this).

    from synthetic_data import generate, GeneratorConfig, default_agencies
    data = generate(GeneratorConfig(people=5_000, agencies=default_agencies(4)), seed=7)
    data.agencies["agency_a"]          # DataFrame of records
    pairs = true_pairs(data.truth)     # {(RecordRef, RecordRef), ...}

Command line: ``python -m synthetic_data --agencies 3 --people 100000 --seed 7 --out data/``.
See docs/synthetic_data.md.
"""

from synthetic_data.agencies import AGENCY_PROFILES, default_agencies
from synthetic_data.config import (
    AgencyConfig,
    CorruptionRates,
    GeneratorConfig,
    MissingRates,
    config_from_dict,
    config_to_dict,
)
from synthetic_data.conventions import parse_date
from synthetic_data.generate import TRUTH_COLUMNS, GeneratedData, generate
from synthetic_data.presets import PRESETS, preset
from synthetic_data.records import RECORD_COLUMNS
from synthetic_data.reference import PERSON_COLUMNS, reference_population
from synthetic_data.scripts import script_of, scripts_in
from synthetic_data.truth import RecordRef, read_truth, true_clusters, true_pairs
from synthetic_data.writer import DatasetSummary, LoadedDataset, read_dataset, write_dataset

__all__ = [
    "AGENCY_PROFILES",
    "PERSON_COLUMNS",
    "PRESETS",
    "RECORD_COLUMNS",
    "TRUTH_COLUMNS",
    "AgencyConfig",
    "CorruptionRates",
    "DatasetSummary",
    "GeneratedData",
    "GeneratorConfig",
    "LoadedDataset",
    "MissingRates",
    "RecordRef",
    "config_from_dict",
    "config_to_dict",
    "default_agencies",
    "generate",
    "parse_date",
    "preset",
    "read_dataset",
    "read_truth",
    "reference_population",
    "script_of",
    "scripts_in",
    "true_clusters",
    "true_pairs",
    "write_dataset",
]
