import pytest

from linkage.errors import NormalisationError
from linkage.normalize.names import (
    COMPOUND_FAMILY_NAMES,
    KOREAN_FAMILY_NAMES,
    PARTICLES,
    TITLES,
    normalise_name,
)
from linkage.normalize.text import fold


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # titles, several languages and scripts
        ("Dr. John Smith", "john smith"),
        ("Mrs Mary-Jane O'Brien", "mary jane obrien"),
        ("Sean O´Brien", "sean obrien"),  # acute accent typed as an apostrophe
        ("Prof. Dr. Hans Müller", "hans muller"),
        ("Herr Jürgen Groß", "jurgen gross"),
        ("Frau Dr. Anna Weiß", "anna weiss"),
        ("Mme Françoise Dupré", "francoise dupre"),
        ("Sr. José García", "jose garcia"),
        ("Sra. María López", "maria lopez"),
        ("Sig. Marco Rossi", "marco rossi"),
        ("Господин Иван Петров", "ivan petrov"),  # Russian
        ("Κύριος Γιώργος Παπαδόπουλος", "giorgos papadopoulos"),  # Greek
        ("Shri Ram Sharma", "ram sharma"),
        ("श्री राम", "sri ram"),  # "sri" is kept: a given-name element in Indonesia
        ("Hajji Abdul Karim", "abdul karim"),
        ("Alhaji Musa Bello", "musa bello"),
        ("Sheikh Hasina Wazed", "hasina wazed"),
        # particles, including prefixed forms
        ("Ahmed al-Rashid", "ahmed rashid"),
        ("Mohamed El-Sayed", "mohamed sayed"),
        ("Ahmad bin Ismail", "ahmad ismail"),
        ("Siti binti Abdullah", "siti abdullah"),
        ("Abu Bakr", "bakr"),
        ("Ludwig van Beethoven", "ludwig beethoven"),
        ("Ursula von der Leyen", "ursula leyen"),
        ("Juan de la Cruz", "juan cruz"),
        ("Leonardo da Vinci", "leonardo vinci"),
        ("Luigi Di Maio", "luigi maio"),
        ("João dos Santos", "joao santos"),
        ("Gerard ter Steegen", "gerard steegen"),
        # not particles
        ("Ronald MacDonald", "ronald macdonald"),
        ("Paul McCartney", "paul mccartney"),
        ("Marine Le Pen", "marine le pen"),  # "le": Lê is a frequent Vietnamese family name
        ("Amit Das", "amit das"),  # "das": frequent Bengali family name
        # scripts
        ("أحمد الرشيد", "ahmd rshyd"),  # Arabic article split off, then dropped as a particle
        ("Олександр Шевченко", "oleksandr shevchenko"),
        ("Георги Димитров", "georgi dimitrov"),
        ("Nguyễn Văn An", "nguyen an"),  # Vietnamese "Văn" is dropped like Dutch "van"
        ("Şükrü Öztürk", "sukru ozturk"),
        ("Ştefan Ţiriac", "stefan tiriac"),
        ("דוד כהן", "dvd khhn"),
        ("สมชาย ใจดี", "smchay aichdi"),
        # empty
        ("", ""),
        ("   ", ""),
        ("-- ..", ""),
    ],
)
def test_normalise_name(value, expected):
    assert normalise_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("王小明", "wang xiaoming"),  # 1 + 2
        ("張偉", "zhangwei"),  # 2 characters: left whole (usually a given name)
        ("小明", "xiaoming"),
        ("欧阳修", "ouyang xiu"),  # compound family name + 1
        ("司马相如", "sima xiangru"),  # 2 + 2
        ("小明 王", "xiaoming wang"),  # family and given name columns joined by the encoder
        ("买买提·艾力", "maimaiti aili"),  # Uyghur name with a middle dot: not one run
        ("王小明abc", "wangxiaomingabc"),  # glued to Latin letters: not a name run
        ("김민준", "kim minjun"),  # Korean family name in its passport spelling
        ("이서연", "lee seoyeon"),
        ("박지훈", "park jihun"),
        ("김", "kim"),  # a family-name column on its own
        ("남궁민수", "namgung minsu"),  # Korean compound family name
    ],
)
def test_east_asian_full_names(value, expected):
    assert normalise_name(value) == expected


@pytest.mark.parametrize(
    ("native", "romanised"),
    [
        ("王小明", "Wang Xiaoming"),  # PRC passport
        ("王小明", "WANG Xiaoming"),
        ("小明 王", "Xiaoming Wang"),
        ("김민준", "Kim Minjun"),
        ("이서연", "Lee Seoyeon"),
        ("Kim Min-jun", "Min-jun Kim"),  # name order
        ("Иван Петров", "Petrov Ivan"),
        ("Dr. Ahmed al-Rashid", "Rashid, Ahmed"),
    ],
)
def test_sort_parts_matches_across_scripts_and_orders(native, romanised):
    assert normalise_name(native, sort_parts=True) == normalise_name(romanised, sort_parts=True)


def test_sort_parts_keeps_hyphenated_parts_apart_consistently():
    assert normalise_name("Kim Min-jun", sort_parts=True) == "jun kim min"
    assert normalise_name("Min-jun Kim", sort_parts=True) == "jun kim min"
    assert normalise_name("Min Jun Kim", sort_parts=True) == "jun kim min"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Van", "van"),  # only a particle: kept
        ("Dr", "dr"),  # only a title: kept
        ("Mr Van", "van"),  # the title goes, the lone particle stays
        ("Al", "al"),
        ("de la", "de la"),
        ("Dr Mrs", "dr mrs"),
    ],
)
def test_never_drops_every_part(value, expected):
    assert normalise_name(value) == expected


def test_options_turn_dropping_off():
    value = "Dr. Ahmed al-Rashid"
    assert normalise_name(value, drop_titles=False) == "dr ahmed rashid"
    assert normalise_name(value, drop_particles=False) == "ahmed al rashid"
    assert normalise_name(value, drop_titles=False, drop_particles=False) == "dr ahmed al rashid"


def test_custom_lists_replace_the_defaults():
    assert normalise_name("Bey Ahmed Das", titles=frozenset({"bey"})) == "ahmed das"
    assert normalise_name("Amit Das", particles=PARTICLES | {"das"}) == "amit"
    assert normalise_name("Ahmed al-Rashid", particles=frozenset()) == "ahmed al rashid"
    assert normalise_name("Dr Smith", titles=frozenset()) == "dr smith"


def test_position_free_dropping_is_order_independent():
    for a, b in [("Ahmad bin Ismail", "Ismail Ahmad bin"), ("van Dijk Jan", "Jan van Dijk")]:
        assert normalise_name(a, sort_parts=True) == normalise_name(b, sort_parts=True)


def test_word_lists_are_folded_single_words_and_disjoint():
    for word in TITLES | PARTICLES:
        assert fold(word) == word and " " not in word
    assert not TITLES & PARTICLES
    assert not {"mac", "mc", "le", "das", "m"} & (TITLES | PARTICLES)
    assert all(len(name) == 2 for name in COMPOUND_FAMILY_NAMES)
    assert all(len(s) == 1 and fold(r) == r for s, r in KOREAN_FAMILY_NAMES.items())


@pytest.mark.parametrize("value", [None, 3, b"Smith", ("Smith",)])
def test_rejects_non_strings(value):
    with pytest.raises(NormalisationError, match="expected a string"):
        normalise_name(value)
