"""Every script asked for appears in the records; nothing appears that was not asked for."""

from __future__ import annotations

import dataclasses

import pandas as pd

from synthetic_data import GeneratorConfig, default_agencies, generate, scripts_in
from synthetic_data.agencies import AGENCY_PROFILES
from synthetic_data.cultures import CULTURES


def _name_values(frames) -> list[str]:
    out = []
    for frame in frames:
        for col in ("given_name", "middle_name", "family_name", "aliases"):
            out.extend(frame[col])
    return out


def test_default_agencies_show_every_culture_script(medium) -> None:
    """The French victim-support service keeps some names as the person writes them."""
    expected = {c.script for c in CULTURES}
    assert scripts_in(_name_values(medium.agencies.values())) == expected


def test_a_script_per_culture_asked_for() -> None:
    for c in CULTURES:
        if c.script == "latin":
            continue
        # An agency of that script keeps the name native; a Latin one keeps none.
        agency = next(a for a in AGENCY_PROFILES if a.script == c.script)
        agencies = (dataclasses.replace(agency, name="native", record_prefix="N"),
                    dataclasses.replace(default_agencies(1)[0], keep_native=0.0))
        data = generate(GeneratorConfig(people=60, agencies=agencies, overlap=1.0,
                                        cultures={c.code: 1.0}), seed=1)
        assert c.script in scripts_in(_name_values([data.agencies["native"]])), c.code
        assert scripts_in(_name_values([data.agencies["agency_a"]])) == {"latin"}, c.code


def test_latin_only_when_no_agency_keeps_native_names() -> None:
    agencies = tuple(dataclasses.replace(a, keep_native=0.0) for a in default_agencies(3))
    data = generate(GeneratorConfig(people=800, agencies=agencies), seed=2)
    assert scripts_in(_name_values(data.agencies.values())) == {"latin"}


def test_cyrillic_agency_writes_cyrillic_people_natively() -> None:
    ru = next(a for a in AGENCY_PROFILES if a.country == "RU")
    agencies = (dataclasses.replace(ru, name="ru", record_prefix="R"),)
    data = generate(GeneratorConfig(people=300, agencies=agencies,
                                    cultures={"RU": 1.0, "GB": 1.0}), seed=3)
    frame = data.agencies["ru"].merge(data.truth, on="record_id").merge(
        data.people[["entity_id", "culture"]], on="entity_id")
    russians = frame[frame["culture"] == "RU"]
    british = frame[frame["culture"] == "GB"]
    assert scripts_in(russians["family_name"]) == {"cyrillic"}
    assert scripts_in(british["family_name"]) == {"latin"}
    assert pd.Series(russians["sex"]).isin(["М", "Ж", ""]).all()
