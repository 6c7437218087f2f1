import json
from pathlib import Path

import pytest
from anyascii import anyascii

from linkage.errors import NormalisationError
from linkage.normalize.text import fold

VECTORS = json.loads((Path(__file__).parent / "data" / "fold_vectors.json").read_text("utf-8"))


def bigram_dice(a: str, b: str) -> float:
    grams = [{f"_{s}_"[i : i + 2] for i in range(len(s) + 1)} for s in (a, b)]
    return 2 * len(grams[0] & grams[1]) / (len(grams[0]) + len(grams[1]))


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=[v["case"] for v in VECTORS["vectors"]])
def test_fold_vectors(vector):
    assert fold(vector["input"]) == vector["expected"]
    assert fold(vector["expected"]) == vector["expected"]


@pytest.mark.parametrize(
    ("native", "romanised"),
    [
        ("Иван Петров", "Ivan Petrov"),  # Russian
        ("Олександр Шевченко", "Oleksandr Shevchenko"),  # Ukrainian
        ("Георги Димитров", "Georgi Dimitrov"),  # Bulgarian
        ("Ευάγγελος Παπαδόπουλος", "EVANGELOS PAPADOPOULOS"),  # Greek passport (ELOT 743)
        ("Ευθύμιος Αυγερινός", "Efthymios Avgerinos"),
        ("Nguyễn Thị Hương", "NGUYEN THI HUONG"),  # Vietnamese
        ("Şükrü Öztürk", "Sukru Ozturk"),  # Turkish
        ("Ştefan Ţurcanu", "Stefan Turcanu"),  # Romanian
        ("やまだ たろう", "Yamada Tarou"),  # Japanese kana
        ("北京", "Beijing"),  # Chinese place name: a Han run is one word, like pinyin
        ("小明", "Xiaoming"),  # Chinese given name
        ("नेपाल", "Nepal"),  # Devanagari
    ],
)
def test_scripts_fold_to_their_passport_spelling(native, romanised):
    assert fold(native) == fold(romanised)


@pytest.mark.parametrize(
    ("native", "romanised", "minimum"),
    [
        ("أحمد", "Ahmed", 0.6),
        ("إبراهيم", "Ibrahim", 0.6),
        ("فاطمة", "Fatima", 0.6),
        ("علي", "Ali", 0.5),
        ("محمد", "Mohammed", 0.25),  # no short vowels in the script: partial overlap only
        ("王小明", "Wang Xiaoming", 0.85),  # whole name: normalise_name splits it exactly
        ("김민준", "Gim Minjun", 0.8),
    ],
)
def test_abjads_and_cjk_overlap_their_romanisation(native, romanised, minimum):
    assert bigram_dice(fold(native), fold(romanised)) >= minimum


ARABIC_NAMES = [
    ("علي", "ali"), ("عمر", "omar"), ("عمر", "umar"), ("عبد", "abd"), ("عباس", "abbas"),
    ("عثمان", "othman"), ("عثمان", "osman"), ("عيسى", "issa"), ("سعيد", "saeed"),
    ("سعيد", "said"), ("سعد", "saad"), ("ربيع", "rabie"), ("جعفر", "jaafar"),
    ("عائشة", "aisha"), ("عائشة", "aysha"), ("عادل", "adel"), ("عزيز", "aziz"),
    ("علاء", "alaa"), ("مسعود", "masoud"), ("إسماعيل", "ismail"), ("شعبان", "shaban"),
    ("عمار", "ammar"), ("عيد", "eid"), ("عرفات", "arafat"), ("يعقوب", "yaqub"),
    ("يعقوب", "yacoub"), ("عبيد", "obaid"), ("أحمد", "ahmed"), ("إبراهيم", "ibrahim"),
    ("فاطمة", "fatima"), ("محمد", "mohammed"), ("حسن", "hassan"), ("خالد", "khaled"),
    ("يوسف", "yousef"), ("مريم", "maryam"), ("زينب", "zainab"), ("حسين", "hussein"),
    ("مصطفى", "mustafa"), ("أمينة", "amina"), ("سارة", "sara"), ("كريم", "karim"),
    ("ياسين", "yassin"), ("نادية", "nadia"), ("إيمان", "iman"), ("أسامة", "osama"),
    ("هدى", "huda"), ("سلمى", "salma"), ("رشيد", "rashid"),
]  # fmt: skip


def test_arabic_vowel_letters_improve_on_plain_anyascii():
    def plain(s: str) -> str:
        return " ".join(anyascii(s).lower().replace("'", "").replace("`", "").split())

    ours = [bigram_dice(fold(a), latin) for a, latin in ARABIC_NAMES]
    theirs = [bigram_dice(plain(a), latin) for a, latin in ARABIC_NAMES]
    assert sum(ours) / len(ours) > 0.55 > 0.35 > sum(theirs) / len(theirs)


def test_cjk_runs_are_lower_case_words_not_camel_case():
    assert anyascii("王小明") == "WangXiaoMing"  # what we build on
    assert fold("王小明") == "wangxiaoming"
    assert fold("王 小明") == "wang xiaoming"  # a space in the source is kept


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("O'Brien", "obrien"),
        ("D’Angelo", "dangelo"),
        ("ʿAbd al-Raḥmān", "abd al rahman"),  # ALA-LC ayn
        ("O´Brien", "obrien"),  # acute accent typed as an apostrophe
        ("rock 'n' roll", "rock n roll"),
        ("Jean-Pierre", "jean pierre"),
        ("Smith,John", "smith john"),
        ("a.b/c_d", "a b c d"),
    ],
)
def test_apostrophes_and_punctuation(value, expected):
    assert fold(value) == expected


@pytest.mark.parametrize("value", [None, 12, 1.5, b"bytes", ["a"], object()])
def test_rejects_non_strings(value):
    with pytest.raises(NormalisationError, match="expected a string"):
        fold(value)
