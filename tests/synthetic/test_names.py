"""Romanisation systems, name variants and string corruptions."""

from __future__ import annotations

import jellyfish
import numpy as np
import pytest

from synthetic_data import scripts_in
from synthetic_data.corrupt import drop_particle, ocr_error, phonetic_respelling, typo
from synthetic_data.names import equivalent_in, load_pools, nicknames_for, romanise, variants
from synthetic_data.names.cjk import variants_kana
from synthetic_data.names.thai import romanise_thai


@pytest.mark.parametrize(("system", "expected"), [
    ("icao", "Iurii Shchukin"), ("en", "Yuriy Shchukin"), ("de", "Juri Schtschukin"),
    ("fr", "Iouri Chtchoukin"),
])
def test_cyrillic_systems(system: str, expected: str) -> None:
    assert romanise("Юрий Щукин", "ru", system) == expected


def test_ukrainian_and_bulgarian_official_systems() -> None:
    assert romanise("Олександр", "uk") == "Oleksandr"
    assert romanise("Григорій", "uk") == "Hryhorii"
    assert romanise("Юлія", "uk") == "Yuliia"
    assert romanise("Христо Стоичков", "bg") == "Hristo Stoichkov"
    assert "Yury Shchukin" in variants("Юрий Щукин", "ru")  # popular spelling


def test_arabic_names_have_their_usual_spellings() -> None:
    forms = variants("محمد", "ar")
    assert {"Mohammed", "Mohamed", "Muhammad", "Mohammad"} <= set(forms)
    assert romanise("يوسف", "ar", "fr") == "Youssef"
    assert romanise("يوسف", "ar", "en") == "Yusuf"


@pytest.mark.parametrize(("native", "lang", "expected"), [
    ("राजकर्णिकार", "ne", "Rajkarnikar"), ("कृष्ण", "hi", "Krishna"), ("सिंह", "hi", "Singh"),
    ("김", "ko", "Kim"), ("王", "zh", "Wang"), ("建国", "zh", "Jianguo"),
])
def test_other_scripts(native: str, lang: str, expected: str) -> None:
    assert romanise(native, lang, family=len(native) == 1) == expected


def test_japanese_from_kana() -> None:
    assert variants_kana("サトウ") == ("Sato", "Satou", "Satoh", "Satō")
    assert romanise_thai("สมชาย") == "Somchai"


def test_every_pool_romanises_to_latin() -> None:
    for cp in load_pools().values():
        for pool in cp.pools.values():
            for form in pool.forms("icao"):
                assert form and scripts_in([form]) == {"latin"}, (pool.culture, form)


def test_nicknames_and_equivalents() -> None:
    assert "Bill" in nicknames_for("William")
    assert "Саша" in nicknames_for("Александр")
    assert "Pepe" in nicknames_for("José")
    assert nicknames_for("Zzyzx") == ()
    assert equivalent_in("Олександр", "en") == "Alexander"
    assert equivalent_in("Олександр", "ru") == "Александр"
    assert equivalent_in("يوسف", "fr") == "Joseph"
    assert equivalent_in("Alexander", "en") is None


def _damerau(a: str, b: str) -> int:
    return jellyfish.damerau_levenshtein_distance(a, b)


def test_typo_is_one_keyboard_edit() -> None:
    rng = np.random.default_rng(0)
    for name in ("Margaret", "Oleksandr", "Nguyen", "Иванов", "Li"):
        for _ in range(200):
            changed = typo(name, rng)
            assert changed != name
            assert _damerau(changed, name) == 1


def test_ocr_and_phonetic_change_the_value_plausibly() -> None:
    rng = np.random.default_rng(1)
    assert ocr_error("Hamm", rng) != "Hamm"
    assert ocr_error("QQQ", rng) == "QQQ"  # nothing a scanner confuses
    seen = {phonetic_respelling("Stephenson", rng) for _ in range(300)}
    assert {"Stefenson", "Stephensen"} <= seen
    assert all(_damerau(s.lower(), "stephenson") <= 3 for s in seen)
    assert phonetic_respelling("Иванов", rng) == "Иванов"  # only romanised names


def test_particles() -> None:
    assert drop_particle("Al-Ahmad") == "Ahmad"
    assert drop_particle("da Silva") == "Silva"
    assert drop_particle("van der Berg") == "Berg"
    assert drop_particle("Alvarez") == "Alvarez"
    assert drop_particle("الأحمد") == "أحمد"
