import pytest

from linkage.errors import NormalisationError
from linkage.normalize.sex import SEX_WORDS, normalise_sex
from linkage.normalize.text import fold


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # codes: ICAO 9303, ISO 5218, single letters
        ("M", "M"), ("f", "F"), ("X", "X"), ("U", "U"), (" m. ", "M"), ("<", "X"),
        ("1", "M"), ("2", "F"), ("0", "U"), ("9", "U"),
        ("H", "M"), ("W", "F"), ("V", "F"), ("D", "X"),
        # English, German, French, Spanish, Portuguese, Italian, Dutch
        ("Male", "M"), ("FEMALE", "F"), ("woman", "F"), ("Man", "M"),
        ("männlich", "M"), ("Weiblich", "F"), ("divers", "X"),
        ("Masculin", "M"), ("Féminin", "F"), ("homme", "M"), ("femme", "F"),
        ("masculino", "M"), ("femenino", "F"), ("feminino", "F"), ("mujer", "F"), ("varón", "M"),
        ("maschio", "M"), ("femmina", "F"), ("vrouw", "F"),
        # Romanian, Polish, Turkish, Vietnamese, Indonesian
        ("bărbat", "M"), ("femeie", "F"), ("kobieta", "F"), ("mężczyzna", "M"),
        ("erkek", "M"), ("KADIN", "F"), ("kadın", "F"), ("Nam", "M"), ("Nữ", "F"),
        ("laki-laki", "M"), ("perempuan", "F"),
        # Cyrillic: Russian, Ukrainian, Bulgarian, Serbian
        ("мужской", "M"), ("Женский", "F"), ("М", "M"), ("Ж", "F"),
        ("чоловіча", "M"), ("жіноча", "F"), ("Ч", "M"),
        ("мъж", "M"), ("жена", "F"), ("мушки", "M"), ("женски", "F"),
        # Greek, Arabic, Persian, Hebrew
        ("Άρρεν", "M"), ("Θήλυ", "F"), ("ذكر", "M"), ("أنثى", "F"), ("انثى", "F"),
        ("مرد", "M"), ("زن", "F"), ("זכר", "M"), ("נקבה", "F"),
        # Chinese, Japanese, Korean, Thai, Hindi/Nepali
        ("男", "M"), ("女", "F"), ("男性", "M"), ("女性", "F"),
        ("남", "M"), ("여", "F"), ("남자", "M"), ("여성", "F"),
        ("ชาย", "M"), ("หญิง", "F"), ("पुरुष", "M"), ("महिला", "F"),
        # missing, unknown, non-binary
        ("", "U"), ("   ", "U"), ("?", "U"), ("-", "U"), ("unknown", "U"), ("N/A", "U"),
        ("non-binary", "X"), ("Unspecified", "X"), ("diverse", "X"),
    ],
)  # fmt: skip
def test_normalise_sex(value, expected):
    assert normalise_sex(value) == expected


@pytest.mark.parametrize("value", ["male female", "k", "e", "a", "mf", "Mr", "yes", "3", "ذكرر"])
def test_unrecognised_values_raise_without_the_value(value):
    with pytest.raises(NormalisationError) as info:
        normalise_sex(value)
    assert str(info.value) == "unrecognised sex code"


def test_no_word_means_two_codes():
    seen: dict[str, str] = {}
    for code, words in SEX_WORDS.items():
        for word in words:
            key = fold(word)
            assert key, word
            assert seen.setdefault(key, code) == code, word


def test_codes_are_fixed_points():
    for code in "MFXU":
        assert normalise_sex(code) == code


@pytest.mark.parametrize("value", [None, 1, b"M"])
def test_rejects_non_strings(value):
    with pytest.raises(NormalisationError, match="expected a string"):
        normalise_sex(value)
