import pytest

from linkage.errors import NormalisationError
from linkage.normalize.documents import MAX_DOCUMENT_LENGTH, normalise_document


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ab 12-34.56/7", "AB1234567"),
        ("L898902C<", "L898902C"),  # machine-readable-zone filler
        ("N 1234-567", "N1234567"),
        ("x–123—456", "X123456"),  # en and em dashes
        ("АВ 123456", "AB123456"),  # Ukrainian series typed in Cyrillic: looks like AB
        ("FЕ123456", "FE123456"),  # one Cyrillic Е among Latin letters
        ("ΑΒ123", "AB123"),  # Greek capitals that look Latin
        ("ДП-123", "DP123"),  # other Cyrillic letters are transliterated
        ("№ 123456", "123456"),  # numero sign
        ("١٢٣٤٥٦", "123456"),  # Arabic-Indic digits
        ("１２３ＡＢ", "123AB"),  # full-width
        ("ab\u200b12", "AB12"),  # zero-width space
        ("", ""),
        ("  ", ""),
        ("--/..", ""),
        ("A" * MAX_DOCUMENT_LENGTH, "A" * MAX_DOCUMENT_LENGTH),
        ("A-" * MAX_DOCUMENT_LENGTH, "A" * MAX_DOCUMENT_LENGTH),  # length counted without separators
    ],
)
def test_normalise_document(value, expected):
    assert normalise_document(value) == expected
    assert normalise_document(expected) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("AB#123", "invalid character in document number"),
        ("AB_123", "invalid character in document number"),
        ("AB,123", "invalid character in document number"),
        ("A" * (MAX_DOCUMENT_LENGTH + 1), "document number too long"),
    ],
)
def test_rejected_documents_name_the_reason_only(value, reason):
    with pytest.raises(NormalisationError) as info:
        normalise_document(value)
    assert str(info.value) == reason


@pytest.mark.parametrize("value", [None, 123456, b"AB12"])
def test_rejects_non_strings(value):
    with pytest.raises(NormalisationError, match="expected a string"):
        normalise_document(value)
