"""Corruption and missing-value rates are met, and the log tells the truth about records."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest

from synthetic_data import GeneratorConfig, default_agencies, generate, parse_date
from synthetic_data.cultures import CULTURES
from synthetic_data.generate import plan_dataset

from .conftest import MEDIUM_SEED


def _within(observed: float, expected: float, n: int, sigmas: float = 4.5) -> bool:
    se = math.sqrt(max(expected * (1 - expected), 1e-12) / max(n, 1))
    return abs(observed - expected) <= sigmas * se + 1e-9


@pytest.fixture(scope="module")
def table(medium, medium_config) -> pd.DataFrame:
    """Every record with its log, its agency config and its person's facts."""
    plan = plan_dataset(medium_config, MEDIUM_SEED)
    people = plan.people
    frames = [f.assign(agency=name) for name, f in medium.agencies.items()]
    records = pd.concat(frames, ignore_index=True)
    t = records.merge(medium.truth, on=["agency", "record_id"]).merge(
        medium.corruptions, on=["agency", "record_id"])
    idx = t["entity_id"].str[1:].astype(int).to_numpy()
    t["culture"] = [CULTURES[c].code for c in people.culture[idx]]
    t["family_first"] = [CULTURES[c].family_first for c in people.culture[idx]]
    t["has_middle"] = people.middle[idx] >= 0
    t["has_family2"] = people.family2[idx] >= 0
    t["has_alias"] = (people.alias_kind[idx] > 0).any(axis=1)
    t["true_dob"] = people.dob[idx].astype("datetime64[D]").astype(str)
    clean = medium.people.set_index("entity_id")
    t["true_document"] = clean.loc[t["entity_id"], "document_number"].to_numpy()
    t["true_phone"] = clean.loc[t["entity_id"], "phone"].to_numpy()
    t["tags"] = t["corruptions"].str.split(";")
    return t


def _tagged(t: pd.DataFrame, tag: str) -> pd.Series:
    """Records whose log has ``tag`` (exact, or any ``tag:field`` when tag ends with ':')."""
    if tag.endswith(":"):
        return t["tags"].map(lambda tags: any(x.startswith(tag) for x in tags))
    return t["tags"].map(lambda tags: tag in tags)


RATES = GeneratorConfig().corruption


@pytest.mark.parametrize(("tag", "rate"), [
    ("typo:", RATES.typo),
    ("year_only", RATES.year_only),
    ("sex_error", RATES.sex_error),
    ("document_other", RATES.document_other),
    ("phone_other", RATES.phone_other),
])
def test_rates_over_eligible_records(table, tag: str, rate: float) -> None:
    eligible = {
        "typo:": table.index == table.index,
        "year_only": ~_tagged(table, "missing:date_of_birth"),
        "sex_error": ~_tagged(table, "missing:sex"),
        "document_other": ~_tagged(table, "missing:document_number"),
        "phone_other": ~_tagged(table, "missing:phone"),
    }[tag]
    sub = table[eligible]
    assert _within(_tagged(sub, tag).mean(), rate, len(sub)), _tagged(sub, tag).mean()


def test_name_rates(table) -> None:
    with_middle = table[table["has_middle"]]
    assert _within(_tagged(with_middle, "missing_middle").mean(), RATES.missing_middle,
                   len(with_middle))
    double = table[table["has_family2"]]
    assert _within(_tagged(double, "second_surname_drop").mean(), RATES.second_surname_drop,
                   len(double))
    with_alias = table[table["has_alias"]]
    assert _within(_tagged(with_alias, "alias_as_name").mean(), RATES.alias_as_name,
                   len(with_alias))
    western = table[~table["family_first"]]
    assert _within(_tagged(western, "name_order_swap").mean(), RATES.name_order_swap,
                   len(western))
    # Family-first cultures written in Latin letters by given-first agencies.
    east = table[table["family_first"] & table["agency"].isin(["agency_a", "agency_b"])
                 & table["culture"].ne("VN")]
    assert _within(_tagged(east, "name_order_swap").mean(), RATES.family_first_swap,
                   len(east), sigmas=5)


def test_rates_that_apply_only_where_they_can(table) -> None:
    """OCR, phonetic, nickname and transliteration need a suitable value: at most the rate."""
    n = len(table)
    for tag, rate in (("ocr:", RATES.ocr), ("phonetic:", RATES.phonetic),
                      ("nickname", RATES.nickname), ("transliteration", RATES.transliteration),
                      ("equivalent_name", RATES.equivalent_name)):
        share = _tagged(table, tag).mean()
        assert 0 < share <= rate + 4.5 * math.sqrt(rate * (1 - rate) / n), (tag, share)
    assert _tagged(table, "ocr:").mean() > 0.6 * RATES.ocr
    assert _tagged(table, "phonetic:").mean() > 0.6 * RATES.phonetic


def test_missing_rates_follow_the_agency_role(table, medium_config) -> None:
    for agency in medium_config.agencies:
        rows = table[table["agency"] == agency.name]
        for field in ("sex", "date_of_birth", "place_of_birth", "country_of_birth",
                      "nationality", "document_number", "phone"):
            expected = getattr(agency.missing_rates, field)
            empty = rows[field].eq("")
            assert _within(empty.mean(), expected, len(rows)), (agency.name, field)
            assert (empty == _tagged(rows, f"missing:{field}")).all()


def test_dates_agree_with_the_truth_and_the_log(table, medium_config) -> None:
    formats = {a.name: a.date_format for a in medium_config.agencies}
    swaps = eligible_swaps = 0
    for row in table.itertuples():
        if not row.date_of_birth:
            continue
        y, m, d = (int(x) for x in row.true_dob.split("-"))
        got = parse_date(row.date_of_birth, formats[row.agency])
        assert got is not None
        if "year_only" in row.tags:
            assert got == (y, None, None)
        elif "placeholder_date" in row.tags:
            assert got == (y, 1, 1)
        elif "date_digit" in row.tags:
            assert got != (y, m, d)
        elif "day_month_swap" in row.tags:
            assert got == (y, d, m)
        else:
            assert got == (y, m, d)
        if not {"year_only", "placeholder_date"} & set(row.tags) and d <= 12 and d != m:
            eligible_swaps += 1
            swaps += "day_month_swap" in row.tags
    assert _within(swaps / eligible_swaps, RATES.day_month_swap, eligible_swaps)


def _norm_doc(value: str) -> str:
    return re.sub(r"[\s\-]", "", value).upper()


def test_documents_and_phones_agree_with_the_truth(table) -> None:
    docs = table[table["document_number"].ne("")]
    plain = docs[~_tagged(docs, "document_other") & ~_tagged(docs, "ocr:")]
    same = plain["document_number"].map(_norm_doc) == plain["true_document"]
    # Only a spreadsheet's lost leading zeros may remain.
    lost_zeros = plain["true_document"].str.lstrip("0") == plain["document_number"]
    assert (same | lost_zeros).all()
    others = docs[_tagged(docs, "document_other") & ~_tagged(docs, "ocr:")]
    assert (others["document_number"].map(_norm_doc) != others["true_document"]).all()
    phones = table[table["phone"].ne("") & ~_tagged(table, "phone_other")]
    for written, true in zip(phones["phone"], phones["true_phone"], strict=True):
        digits, true_digits = re.sub(r"\D", "", written), true.lstrip("+")
        if written.startswith("00"):
            digits = digits[2:]
        national = digits.lstrip("08")  # a domestic number: trunk prefix, no country code
        assert digits == true_digits or (len(national) >= 6 and true_digits.endswith(national))


def test_zero_error_scale_gives_records_without_errors() -> None:
    config = GeneratorConfig(people=1500, agencies=default_agencies(3),
                             corruption=GeneratorConfig().corruption.scaled(0.0))
    data = generate(config, seed=4)
    tags = set(np.concatenate(data.corruptions["corruptions"].str.split(";").to_numpy()))
    structural = {"", "native_script", "diacritics"}
    assert {t for t in tags if not t.startswith("missing:")} <= structural
    # Latin-script people keep their names exactly (up to the agency's lost diacritics).
    b = data.agencies["agency_b"].merge(data.truth, on="record_id").merge(
        data.people, on="entity_id", suffixes=("", "_true"))
    latin = b[b["culture"].isin(["GB", "US", "NG"])]
    assert (latin["given_name"] == latin["given_name_true"]).all()
    assert (latin["family_name"] == latin["family_name_true"]).all()


def test_agency_error_scale() -> None:
    agencies = default_agencies(2)
    careless = (agencies[0], dataclasses.replace(agencies[1], error_scale=3.0))
    data = generate(GeneratorConfig(people=4000, agencies=careless, overlap=0.0), seed=8)
    log = data.corruptions.assign(typo=data.corruptions["corruptions"].str.contains("typo:"))
    shares = log.groupby("agency")["typo"].mean()
    assert shares["agency_b"] > 2.2 * shares["agency_a"]
