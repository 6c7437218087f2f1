"""Person and place names in any script: fold, split East Asian full names, drop titles
and particles, optionally sort the parts.

``normalise_name`` works on the parts (words) of ``fold(value)``:

* **Chinese and Korean full names written in one run** (no space, as both languages write
  them) are split into family and given name before folding: a run of 3 Han or Hangul
  characters is read as a one-character family name plus a two-character given name
  (``王小明`` -> ``wang xiaoming``, as a PRC passport writes it), unless its first two
  characters are a compound family name from ``COMPOUND_FAMILY_NAMES`` (``欧阳修`` ->
  ``ouyang xiu``); a run of 4 is split 2 + 2. Runs of 1, 2 or 5+ characters are left whole:
  a 2-character run is usually a given name (``小明``) or a compound family name, which
  pinyin writes as one word. Runs next to an interpunct (``买买提·艾力``, a transliterated
  foreign name) are never split. A Korean family name that stands alone or was split off is
  written in its usual passport spelling from ``KOREAN_FAMILY_NAMES`` (``김`` -> ``kim``,
  ``이`` -> ``lee``, ``박`` -> ``park``) instead of the letter-by-letter ``gim``/``i``/``bag``.
* **Titles** (``TITLES``) and **particles** (``PARTICLES``) are dropped wherever they stand,
  but never all parts: if only titles are left they are kept, and likewise for particles
  (``"Van"`` alone stays ``"van"``). Position-free dropping is deliberate: agencies write
  names given-name-first or family-name-first, so a rule such as "a particle followed by
  another part" would treat ``Das Amit`` and ``Amit Das`` differently, and it would not be
  idempotent once the parts are sorted. The price is that a real name part that happens to
  be in a list is dropped everywhere (the Chinese given name ``Bin``, the Vietnamese middle
  name ``Van``, the English nickname ``Al``); that is consistent across records, so it costs
  some discrimination, not matches. Pass ``titles=``/``particles=`` to use other lists;
  their entries must be folded single words (as ``fold`` returns them).
* **sort_parts** orders the parts alphabetically, so ``Kim Min-jun`` and ``Min-jun Kim``
  both give ``jun kim min``. Hyphenated parts are two parts (``fold`` turns hyphens into
  spaces), consistently for every record.

Every step only removes or reorders folded parts, so the function is idempotent for every
combination of options.
"""

from __future__ import annotations

import re
import unicodedata

from linkage.errors import NormalisationError
from linkage.normalize.text import fold

__all__ = [
    "COMPOUND_FAMILY_NAMES",
    "KOREAN_FAMILY_NAMES",
    "PARTICLES",
    "TITLES",
    "normalise_name",
]

#: Titles and honorifics, as folded words. Dropped wherever they stand (never all parts).
#: Left out on purpose: single letters (``m`` for Monsieur is far more often an initial),
#: words that are also common names or surnames (``lord``, ``don``, ``pan`` - a Chinese
#: surname -, ``sri``, ``kumari``, ``bay``) and abbreviations that fold into several parts.
TITLES: frozenset[str] = frozenset(
    {
        # English
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "revd", "fr",
        # Arabic, Persian, West African, Malay (Hajj pilgrims, religious titles)
        "haj", "haji", "hajji", "hadji", "hajj", "hajja", "hajjah", "hajah", "alhaji",
        "alhajji", "alhaja", "sheikh", "shaikh", "shaykh", "sheik",
        # German, Dutch
        "herr", "frau", "fraulein", "dhr", "mevr",
        # French
        "mme", "mlle", "monsieur", "madame", "mademoiselle",
        # Spanish, Portuguese
        "sr", "sra", "srta", "senor", "senora", "senorita",
        # Italian
        "sig", "sigra", "signor", "signora", "signorina", "dott",
        # Russian, Bulgarian, Ukrainian (transliterated: господин, госпожа, господиня)
        "gospodin", "gospozha", "gospodyn", "gospodinya",
        # Greek (κύριος, κυρία)
        "kyrios", "kyria",
        # Hindi, Nepali (श्री, श्रीमती)
        "shri", "shree", "smt", "shrimati", "sushri",
    }
)  # fmt: skip

#: Name particles (prepositions, articles, patronymic links), as folded words. Dropped
#: wherever they stand (never all parts): ``al-Rashid`` -> ``rashid``, ``bin Laden`` ->
#: ``laden``. ``mac``/``mc`` are part of the name and are not particles. Left out on
#: purpose although they are particles in some languages: ``le`` (Lê is one of the three
#: most frequent Vietnamese family names) and ``das`` (a very frequent Bengali and Odia
#: family name); ``ben`` (an English given name).
PARTICLES: frozenset[str] = frozenset(
    {
        # Arabic, Malay
        "al", "el", "bin", "ibn", "bint", "binti", "binte", "abu",
        # Dutch, German, Frisian
        "van", "von", "zu", "der", "den", "ter", "ten",
        # Romance languages
        "de", "da", "di", "du", "la", "dos", "del", "della", "delle", "dello", "degli", "dei",
    }
)  # fmt: skip

#: Two-character Chinese and Korean compound family names (simplified and traditional).
COMPOUND_FAMILY_NAMES: frozenset[str] = frozenset(
    {
        "欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官", "东方", "東方", "皇甫", "令狐",
        "慕容", "司徒", "夏侯", "长孙", "長孫", "宇文", "尉迟", "尉遲", "公孙", "公孫", "轩辕",
        "軒轅", "端木", "独孤", "獨孤", "南宫", "南宮", "西门", "西門", "澹台", "澹臺", "申屠",
        "闻人", "聞人", "呼延", "万俟", "萬俟", "赫连", "赫連",
        "남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방",
    }
)  # fmt: skip

#: The most frequent Korean family names and their usual passport spelling (covers about
#: nine in ten people); others are transliterated letter by letter.
KOREAN_FAMILY_NAMES: dict[str, str] = {
    "김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang",
    "조": "cho", "윤": "yoon", "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo",
    "신": "shin", "권": "kwon", "황": "hwang", "안": "ahn", "송": "song", "류": "ryu",
    "전": "jeon", "홍": "hong", "고": "ko", "문": "moon", "양": "yang", "손": "son", "배": "bae",
    "백": "baek", "허": "heo", "유": "yoo", "남": "nam", "심": "shim", "노": "noh", "하": "ha",
    "곽": "kwak", "성": "sung", "차": "cha", "주": "joo", "우": "woo", "구": "koo", "민": "min",
    "진": "jin", "나": "na", "지": "ji", "엄": "um", "채": "chae", "원": "won", "천": "chun",
    "방": "bang", "공": "kong", "현": "hyun", "함": "ham", "변": "byun",
}  # fmt: skip

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HANGUL = "\uac00-\ud7a3"
# A maximal run of Han or of Hangul characters that is not glued to other letters or digits,
# nor to an interpunct: Chinese writes foreign names syllable by syllable with "·" between
# the parts (买买提·艾力, Maimaiti Aili), and those parts are not family + given name.
_EAST_ASIAN_RUN = re.compile(rf"(?<![\w·‧・])(?:[{_HAN}]+|[{_HANGUL}]+)(?![\w·‧・])")


def normalise_name(
    value: str,
    *,
    drop_titles: bool = True,
    drop_particles: bool = True,
    sort_parts: bool = False,
    titles: frozenset[str] | None = None,
    particles: frozenset[str] | None = None,
) -> str:
    """Normalise a person or place name; returns folded parts joined by one space.

    Returns ``""`` when ``value`` has no letters or digits. ``titles``/``particles`` replace
    ``TITLES``/``PARTICLES`` when given. Raises ``NormalisationError`` when ``value`` is not
    a ``str``. See the module docstring for the rules.
    """
    if not isinstance(value, str):
        raise NormalisationError("expected a string")
    parts = fold(_split_east_asian_names(value)).split()
    if drop_titles:
        parts = _drop_unless_all(parts, TITLES if titles is None else titles)
    if drop_particles:
        parts = _drop_unless_all(parts, PARTICLES if particles is None else particles)
    if sort_parts:
        parts.sort()
    return " ".join(parts)


def _drop_unless_all(parts: list[str], words: frozenset[str]) -> list[str]:
    kept = [part for part in parts if part not in words]
    return kept or parts


def _split_east_asian_names(value: str) -> str:
    if value.isascii():
        return value
    # NFC, not NFKC: composes decomposed Hangul without touching what fold() must see first
    # (NFKC would turn the acute accent used as an apostrophe into a space).
    return _EAST_ASIAN_RUN.sub(_family_given, unicodedata.normalize("NFC", value))


def _family_given(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 3:
        cut = 2 if run[:2] in COMPOUND_FAMILY_NAMES else 1
    elif len(run) == 4:
        cut = 2
    elif len(run) == 1:
        return KOREAN_FAMILY_NAMES.get(run, run)
    else:
        return run
    family, given = run[:cut], run[cut:]
    return f" {KOREAN_FAMILY_NAMES.get(family, family)} {given} "
