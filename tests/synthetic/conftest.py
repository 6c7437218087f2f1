"""Shared, session-scoped data sets (generation is the slow part of these tests)."""

from __future__ import annotations

import pytest

from synthetic_data import GeneratedData, GeneratorConfig, default_agencies, generate

MEDIUM_SEED = 11


@pytest.fixture(scope="session")
def medium_config() -> GeneratorConfig:
    return GeneratorConfig(people=6_000, overlap=0.25, duplicate_rate=0.05)


@pytest.fixture(scope="session")
def medium(medium_config: GeneratorConfig) -> GeneratedData:
    """About 8,500 records in the three default agencies."""
    return generate(medium_config, seed=MEDIUM_SEED)


@pytest.fixture(scope="session")
def many_agencies() -> tuple[GeneratorConfig, GeneratedData]:
    """All 20 catalogue agencies, few people each."""
    config = GeneratorConfig(people=3_000, agencies=default_agencies(20), overlap=0.4)
    return config, generate(config, seed=5)
