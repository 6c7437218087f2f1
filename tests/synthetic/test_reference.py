"""The attacker's public list: clean, romanised, drawn from the same name distributions."""

from __future__ import annotations

from synthetic_data import PERSON_COLUMNS, reference_population, scripts_in


def test_shape_and_columns() -> None:
    ref = reference_population(1000, seed=3)
    assert list(ref.columns) == ["record_id", *PERSON_COLUMNS]
    assert len(ref) == 1000 and ref["record_id"].is_unique
    assert ref["sex"].isin(["M", "F", "X"]).all()
    assert ref["date_of_birth"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert ref["nationality"].str.fullmatch(r"[A-Z]{3}").all()
    assert ref["given_name"].ne("").all() and ref["family_name"].ne("").all()
    assert len(reference_population(0, seed=3)) == 0


def test_romanised_and_clean() -> None:
    ref = reference_population(2000, seed=4)
    assert scripts_in(ref["given_name"]) | scripts_in(ref["family_name"]) == {"latin"}


def test_same_name_distribution_other_people(medium) -> None:
    ref = reference_population(6000, seed=11)
    people = medium.people
    top_ref = set(ref["family_name"].value_counts().head(30).index)
    top_pop = set(people["family_name"].value_counts().head(30).index)
    assert len(top_ref & top_pop) >= 15
    # Different people: a separate random stream, even with the data set's seed.
    same = ref[["given_name", "family_name", "date_of_birth"]].merge(
        people[["given_name", "family_name", "date_of_birth"]])
    assert len(same) < 10
