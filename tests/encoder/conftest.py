import os

import pandas as pd
import pytest

from linkage.keys import SecretKey, write_key

PEOPLE = [
    # record_id, given, middle, family, aliases, sex, dob, place, country, nationality, doc
    ("A-1", "Muhammad", "", "Al-Rashid", "Mohammed Rashid|محمد الراشد", "M", "1987-03-14",
     "Aleppo", "Syria", "SYR", "N 1234-567"),
    ("A-2", "Олександр", "", "Шевченко", "", "чоловіча", "14.02.1990", "Київ", "Україна",
     "UA", "FE123456"),
    ("A-3", "Min-jun", "", "Kim", "김민준", "male", "1995", "Busan", "KR", "Korea, Republic of",
     "M12345678"),
    ("A-4", "Maria", "Elena", "Popescu", "", "F", "03/11/1979", "Iași", "România", "ROU", ""),
    ("A-5", "Aisha", "", "Bello", "", "female", "1988-07", "Lagos", "Nigeria", "NGA", "A0011223"),
]
COLUMNS = ["record_id", "given_name", "middle_name", "family_name", "aliases", "sex",
           "date_of_birth", "place_of_birth", "country_of_birth", "nationality", "document_number"]


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(PEOPLE, columns=COLUMNS)


@pytest.fixture
def fixed_key() -> SecretKey:
    return SecretKey(bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))


@pytest.fixture
def key_file(tmp_path, fixed_key):
    path = tmp_path / "project.key"
    write_key(fixed_key, path)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    return path


@pytest.fixture
def person_columns() -> list[str]:
    return list(COLUMNS)
