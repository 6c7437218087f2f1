"""Requested sizes, overlap, multiplicity, agency shares and duplicates are met."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from synthetic_data import GeneratorConfig, default_agencies, generate
from synthetic_data.membership import assign_membership


def _within(observed: float, expected: float, n: int, sigmas: float = 4.5) -> bool:
    """Binomial tolerance: |observed - expected| within ``sigmas`` standard errors."""
    se = math.sqrt(max(expected * (1 - expected), 1e-12) / n)
    return abs(observed - expected) <= sigmas * se + 1e-9


def _agencies_per_entity(truth: pd.DataFrame) -> pd.Series:
    return truth.groupby("entity_id")["agency"].nunique()


def test_every_person_is_recorded(medium, medium_config) -> None:
    assert medium.truth["entity_id"].nunique() == medium_config.people
    assert set(medium.truth["entity_id"]) == set(medium.people["entity_id"])


def test_overlap_share(medium, medium_config) -> None:
    per = _agencies_per_entity(medium.truth)
    assert _within((per >= 2).mean(), medium_config.overlap, medium_config.people)


def test_multiplicity_distribution() -> None:
    config = GeneratorConfig(people=40_000, agencies=default_agencies(5), overlap=0.5,
                             multiplicity=(0.5, 0.3, 0.15, 0.05))
    counts = assign_membership(config, seed=1).agencies_per_person
    shared = counts[counts >= 2]
    for k, weight in zip((2, 3, 4, 5), config.multiplicity, strict=True):
        assert _within(float(np.mean(shared == k)), weight, len(shared)), k


def test_multiplicity_folds_into_the_number_of_agencies() -> None:
    config = GeneratorConfig(people=5_000, agencies=default_agencies(2), overlap=0.4)
    counts = assign_membership(config, seed=1).agencies_per_person
    assert set(np.unique(counts)) == {1, 2}


def test_agency_sizes_follow_shares() -> None:
    agencies = tuple(dataclasses.replace(a, share=s)
                     for a, s in zip(default_agencies(3), (3.0, 1.0, 1.0), strict=True))
    config = GeneratorConfig(people=30_000, agencies=agencies, overlap=0.0, duplicate_rate=0.0)
    sizes = assign_membership(config, seed=2).sizes()
    assert sum(sizes) == config.people  # no overlap, no duplicates: one record each
    assert _within(sizes[0] / config.people, 0.6, config.people)
    assert _within(sizes[1] / config.people, 0.2, config.people)


def test_duplicate_rate(medium, medium_config) -> None:
    per_membership = medium.truth.groupby(["entity_id", "agency"]).size()
    assert _within((per_membership > 1).mean(), medium_config.duplicate_rate,
                   len(per_membership))
    assert per_membership.max() <= 3


def test_record_counts_match_truth(medium) -> None:
    for name, frame in medium.agencies.items():
        assert len(frame) == int((medium.truth["agency"] == name).sum())


@pytest.mark.parametrize("agencies", [1, 20])
def test_one_and_twenty_agencies(agencies: int) -> None:
    config = GeneratorConfig(people=400, agencies=default_agencies(agencies), overlap=0.5)
    data = generate(config, seed=1)
    assert list(data.agencies) == [a.name for a in config.agencies]
    per = _agencies_per_entity(data.truth)
    assert per.max() == 1 if agencies == 1 else per.max() >= 3


def test_invalid_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        GeneratorConfig(overlap=1.5)
    with pytest.raises(ValueError, match="agencies"):
        GeneratorConfig(agencies=())
    with pytest.raises(ValueError, match="unknown cultures"):
        GeneratorConfig(cultures={"XX": 1.0})
    with pytest.raises(ValueError, match="typo"):
        GeneratorConfig().corruption.__class__(typo=2.0)
    with pytest.raises(ValueError, match="date_format"):
        dataclasses.replace(default_agencies(1)[0], date_format="yyyy")
    with pytest.raises(ValueError, match="slug"):
        dataclasses.replace(default_agencies(1)[0], name="truth")
    with pytest.raises(ValueError, match="slug"):
        dataclasses.replace(default_agencies(1)[0], name="../x")
