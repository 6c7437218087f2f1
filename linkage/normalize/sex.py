"""Sex codes and words in many languages to ``"M"``, ``"F"``, ``"X"`` or ``"U"``.

* ``M`` male, ``F`` female: ICAO 9303 / ISO codes, ISO 5218 numbers (``1``, ``2``) and
  words in the languages of ``SEX_WORDS``, in their own script. Values are compared after
  ``fold``, so case, accents, script and punctuation do not matter (``Männlich``,
  ``мужской``, ``ذكر``, ``男``, ``남`` and ``nữ`` are all recognised).
* ``X``: ICAO 9303 "unspecified" (``X``, and the machine-readable-zone filler ``<``),
  non-binary and diverse entries (German ``d``/``divers``).
* ``U``: unknown or missing: empty, blank or punctuation-only values, ``U``, ``unknown``,
  ISO 5218 ``0`` (not known) and ``9`` (not applicable).

Single letters are accepted only where they are unambiguous in the sources agencies use:
``m``, ``f``, ``x``, ``u``; ``h`` (French *homme*, Spanish *hombre*), ``w`` (German
*weiblich*), ``v`` (Dutch *vrouw*), ``d`` (German *divers*); Cyrillic ``м``/``ж`` (Russian,
Bulgarian) and ``ч``/``ж`` (Ukrainian). ``M`` always means male (ICAO): a Spanish source
coding *mujer* as ``M`` must be recoded before linkage. Greek ``Α``/``Θ`` and Turkish
``E``/``K`` are not accepted as single letters; their words are.

Any other value raises ``NormalisationError("unrecognised sex code")``. The result is a
fixed point (``normalise_sex("F") == "F"``), so the function is idempotent.
"""

from __future__ import annotations

import functools

from linkage.errors import NormalisationError
from linkage.normalize.text import fold

__all__ = ["SEX_WORDS", "normalise_sex"]

#: Recognised values per code, written as sources write them; matched after ``fold``.
SEX_WORDS: dict[str, tuple[str, ...]] = {
    "M": (
        "m", "h", "1", "male", "man", "men", "boy", "masculine", "masc",  # English, codes
        "männlich", "maennlich", "mann", "herr",  # German
        "masculin", "homme", "garçon",  # French
        "masculino", "hombre", "varón", "homem",  # Spanish, Portuguese
        "maschio", "maschile", "uomo",  # Italian
        "mannelijk",  # Dutch
        "bărbat", "bărbătesc",  # Romanian
        "mężczyzna", "męski",  # Polish
        "muž", "mužský",  # Czech, Slovak
        "м", "мужской", "мужчина", "муж", "мужской пол",  # Russian
        "мъж", "мъжки",  # Bulgarian
        "ч", "чоловіча", "чоловічий", "чоловік",  # Ukrainian
        "мушки", "muški",  # Serbian, Croatian, Bosnian
        "άρρεν", "άνδρας", "αρσενικό",  # Greek
        "erkek",  # Turkish
        "ذكر",  # Arabic
        "مرد",  # Persian
        "زכר" if False else "זכר",  # Hebrew
        "男", "男性",  # Chinese, Japanese
        "남", "남자", "남성",  # Korean
        "ชาย", "เพศชาย",  # Thai
        "पुरुष", "पु",  # Hindi, Nepali
        "nam",  # Vietnamese
        "laki laki", "lelaki", "pria",  # Indonesian, Malay
        "lalaki",  # Tagalog
    ),
    "F": (
        "f", "w", "v", "2", "female", "woman", "women", "girl", "feminine", "fem",
        "weiblich", "frau",
        "féminin", "femme", "fille",
        "femenino", "feminino", "mujer", "mulher",
        "femmina", "femminile", "donna",
        "vrouw", "vrouwelijk",
        "femeie", "feminin",
        "kobieta", "żeński",
        "žena", "ženský",
        "ж", "женский", "женщина", "жен", "женский пол",
        "жена", "женски",
        "жіноча", "жіночий", "жінка",
        "женско", "ženski",
        "θήλυ", "γυναίκα", "θηλυκό",
        "kadın",
        "أنثى", "انثى",
        "زن",
        "נקבה",
        "女", "女性",
        "여", "여자", "여성",
        "หญิง", "เพศหญิง",
        "महिला", "स्त्री",
        "nữ",
        "perempuan", "wanita",
        "babae",
    ),
    "X": (
        "x", "d", "divers", "diverse", "non binary", "nonbinary", "other", "autre",
        "intersex", "indeterminate", "unspecified", "x unspecified",
    ),
    "U": (
        "u", "0", "9", "unknown", "unk", "not known", "not stated", "n a", "unbekannt",
        "inconnu", "desconocido", "неизвестно",
    ),
}  # fmt: skip


def normalise_sex(value: str) -> str:
    """Return ``"M"``, ``"F"``, ``"X"`` or ``"U"``; see the module docstring."""
    if not isinstance(value, str):
        raise NormalisationError("expected a string")
    if value.strip() == "<":
        return "X"
    key = fold(value)
    if not key:
        return "U"
    code = _lookup_table().get(key)
    if code is None:
        raise NormalisationError("unrecognised sex code")
    return code


@functools.cache
def _lookup_table() -> dict[str, str]:
    """Folded word -> code. A public vocabulary, not plaintext, so caching it is fine."""
    table: dict[str, str] = {}
    for code, words in SEX_WORDS.items():
        for word in words:
            key = fold(word)
            if table.setdefault(key, code) != code:
                raise RuntimeError(f"SEX_WORDS: {word!r} folds to a key of two codes")
    return table
