"""Small populations for the attack tests (fast: a few thousand names, one synthetic agency)."""

import pytest
from faker import Faker

from linkage.privacy.plaintext import PlainRecords
from linkage.privacy.weak import WEAK_K, encode_weak, weak_name, weak_qgrams

WEAK_KEY = bytes(range(32))


def _names(n: int, seed: int) -> list[str]:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return [weak_name(fake.first_name()) for _ in range(n)]


class WeakNames:
    """2000 encoded first names (double hashing, field-level, no hardening) and a public
    reference list of 4000 first names of the same population (not the same people)."""

    def __init__(self) -> None:
        values = _names(2000, 1)
        self.values = values
        self.bits = encode_weak(values, WEAK_KEY)
        self.truth = PlainRecords.from_values(values, weak_qgrams, "name", WEAK_K)
        ref_values = _names(4000, 2)
        self.reference = PlainRecords.from_values(ref_values, weak_qgrams, "name", WEAK_K)
        # the attacker's own encoding of the reference (same public parameters, own key)
        self.reference_bits = encode_weak(ref_values, bytes([7]) * 32)


@pytest.fixture(scope="session")
def weak_names() -> WeakNames:
    return WeakNames()


@pytest.fixture(scope="session")
def agency_records():
    from synthetic_data import GeneratorConfig, default_agencies, generate

    data = generate(GeneratorConfig(people=1500, agencies=default_agencies(2)), seed=3)
    frame = data.agencies["agency_a"]
    assert len(frame) > 600
    return frame
