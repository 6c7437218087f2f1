"""Script-independent text folding: any script in, lower-case ASCII ``[a-z0-9 ]`` out.

``fold`` is the base of every other normaliser. The steps, in order:

1. Apostrophe-like characters are deleted (``O'Brien``, ``O’Brien`` and ``OʼBrien`` all
   give ``obrien``; ``ʿAbd`` gives ``abd``). Deleting rather than spacing keeps elided forms
   (``D'Angelo``) as one part, so the result does not depend on which apostrophe an agency's
   keyboard produced.
2. Unicode NFKC (full-width forms, ligatures such as ``ﬁ``, compatibility digits) and
   ``str.casefold`` (``ß`` -> ``ss``, final sigma, Turkish ``İ``).
3. Symbols (emoji, currency, ``©``), separators and control characters become spaces, format
   characters (zero-width joiners, soft hyphens, BOM) are deleted. Without this step
   ``anyascii`` would spell symbols out as words (``€`` -> ``EUR``, ``🙂`` ->
   ``:slight_smile:``) that were never part of a name.
4. Two small corrections for scripts where plain ``anyascii`` loses what romanised
   documents keep (see below), then ``anyascii`` transliterates every script to Latin and
   removes diacritics.
5. Apostrophes produced by transliteration (Arabic hamza and ayn, Cyrillic hard and soft
   signs) are deleted, every other non-alphanumeric character becomes a space, and
   whitespace is collapsed.

The result contains only ``a-z``, ``0-9`` and single inner spaces, so ``fold`` is
idempotent: ``fold(fold(x)) == fold(x)``.

Script notes (what linkage can and cannot expect):

* **Latin, Cyrillic, Greek, Armenian, Georgian, Vietnamese, Turkish, Romanian**: letter by
  letter transliteration; results are close to passport spellings (``Олександр`` ->
  ``oleksandr``, ``Şükrü`` -> ``sukru``, ``Nguyễn`` -> ``nguyen``, ``ı``/``İ`` -> ``i``).
  Russian and Ukrainian share letters, so ``Микола`` gives ``mikola`` where a Ukrainian
  passport writes ``MYKOLA``; the q-gram tokens still overlap.
* **Greek**: the digraphs that ELOT 743 (Greek passports) romanises as units are applied
  before ``anyascii``, which would otherwise write ``υ`` as ``y`` inside them:
  ``ου`` -> ``ou``, ``αυ``/``ευ``/``ηυ`` -> ``av``/``ev``/``iv`` (``af``/``ef``/``if``
  before a voiceless consonant or at the end of a word), ``γγ`` -> ``ng``, ``γξ`` ->
  ``nx``, ``γχ`` -> ``nch``. So ``Παπαδόπουλος`` -> ``papadopoulos``, ``Ευάγγελος`` ->
  ``evangelos``, ``Ευθύμιος`` -> ``efthymios``.
* **Arabic script (Arabic, Persian, Urdu)**: short vowels are not written, so no
  transliteration recovers ``muhammad`` from ``محمد`` (``mhmd``). Plain ``anyascii``
  additionally drops the letters that do carry vowels (alif) or spell them in an
  apostrophe that step 5 deletes (hamza on alif, ayn), turning ``أحمد`` into ``hmd``. Before
  transliteration we therefore write alif and alif with madda or wasla as ``a``, alif with
  hamza above as ``a`` and below as ``i`` (``إبراهيم`` -> ``ibrahym``), ayn as ``a``
  (``علي`` -> ``aly``), alif maqsura and ta marbuta as ``a`` (``فاطمة`` -> ``fatma``); and
  the word-initial article ``ال`` is written as the separate word ``al``, as romanised
  records write ``al-`` (``الرشيد`` -> ``al rshyd``; ``الله`` -> ``allah``). On 48 common
  Arabic given names this raises the mean padded-bigram Dice with the usual romanisation
  from 0.32 (plain ``anyascii``) to 0.59; a few names that start with ayn and an ``o``/``u``
  or ``e`` sound (``عمر`` Omar) lose a little. Cross-script matches of Arabic names remain
  partial; they rely on the q-gram overlap.
* **Hebrew**: consonants only (``דוד כהן`` -> ``dvd khhn``); no correction is attempted.
* **Devanagari, Bengali, Thai, Khmer and other abugidas**: ``anyascii`` drops the inherent
  vowel (``शर्मा`` -> ``srma``, ``สมชาย`` -> ``smchay``), so matches against romanised
  spellings are partial.
* **Chinese (Han) and Korean (Hangul)**: ``anyascii`` gives one capitalised syllable per
  character with no spaces (``王小明`` -> ``WangXiaoMing``, ``김민준`` -> ``GimMinJun``).
  ``fold`` keeps each run of characters together as one word (``wangxiaoming``), because
  that is how pinyin writes a given name (``Xiaoming``) and a place (``北京`` ->
  ``beijing``), so a given-name or place column written in Han matches its pinyin exactly.
  The syllable boundaries are not marked. Splitting every syllable was measured (padded
  bigram Dice) and does not help: for a given name or a place it turns an exact match
  into 0.84 (``xiao ming`` against ``xiaoming``), and for a whole name it changes nothing
  (``wangxiaoming`` 0.88, ``wang xiao ming`` 0.89 against ``wang xiaoming``). A whole
  Chinese or Korean name written in one run (``王小明``) is split into family and given
  name by ``linkage.normalize.names.normalise_name`` (``wang xiaoming``, Dice 1.0 and
  shared phonetic codes), because only that function knows it is looking at a name.
  Han characters are always read in Mandarin, so Japanese kanji (``山田`` -> ``shantian``,
  not ``yamada``) and Cantonese or Wade-Giles spellings (``Chan``, ``Chang``) do not match;
  Japanese kana are fine (``やまだ`` -> ``yamada``).
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

from linkage.errors import NormalisationError

__all__ = ["fold"]

# Apostrophes, primes, modifier letters used for ayn/hamza/glottal stops, Hebrew geresh.
# Deleted before NFKC because NFKC turns the acute accent U+00B4 into a space + combining mark.
_APOSTROPHES = "'`´‘’‚‛′‵ʹʻʼʽʾʿˈˊˋꞌ׳＇｀"
_DELETE_APOSTROPHES = str.maketrans("", "", _APOSTROPHES)

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# --- Greek digraphs (ELOT 743) ---------------------------------------------------------
_GREEK_VOICELESS = "θκξπστφχψς"
_GREEK_AU_VOICELESS = re.compile(rf"([αεη])[υύ](?=[{_GREEK_VOICELESS}]|$|[^\w])")
_GREEK_AU = re.compile(r"([αεη])[υύ]")
_GREEK_AU_LATIN = {"α": "a", "ε": "e", "η": "i"}
_GREEK_SIMPLE = (("ου", "ou"), ("ού", "ou"), ("γγ", "ng"), ("γξ", "nx"), ("γχ", "nch"))

# --- Arabic script -------------------------------------------------------------------------
_ARABIC_LETTER = r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff]"
_ARABIC_MARK = r"[\u064b-\u065f\u0670]"
_ARABIC_ALLAH = re.compile(rf"(?<!{_ARABIC_LETTER})الله(?!{_ARABIC_LETTER})")
_ARABIC_ARTICLE = re.compile(rf"(?<!{_ARABIC_LETTER})ال(?={_ARABIC_LETTER}{{2}})")
# Hamza-alif carries its own vowel only when no vowel sign follows it.
_ARABIC_HAMZA_ALIF = re.compile(rf"([أإ])(?!{_ARABIC_MARK})")
_ARABIC_LETTERS = str.maketrans(
    {
        "ا": "a",  # alif
        "آ": "a",  # alif with madda
        "ٱ": "a",  # alif wasla
        "أ": "",  # alif with hamza above, followed by a vowel sign that is transliterated
        "إ": "",  # alif with hamza below, idem
        "ع": "a",  # ayn
        "ى": "a",  # alif maqsura
        "ة": "a",  # ta marbuta
    }
)


def fold(value: str) -> str:
    """Fold ``value`` in any script to lower-case ASCII words separated by single spaces.

    Returns ``""`` when nothing alphanumeric is left. Raises ``NormalisationError`` when
    ``value`` is not a ``str``. See the module docstring for the steps and for what each
    script transliterates to (including the handling of Chinese and Korean).
    """
    if not isinstance(value, str):
        raise NormalisationError("expected a string")
    text = unicodedata.normalize("NFKC", value.translate(_DELETE_APOSTROPHES)).casefold()
    if not text.isascii():
        text = _transliterate(text)
    text = text.lower().translate(_DELETE_APOSTROPHES)
    return _NON_ALNUM.sub(" ", text).strip()


def _transliterate(text: str) -> str:
    text = _strip_symbols(text)
    if any("\u0370" <= ch <= "\u03ff" for ch in text):
        text = _greek_digraphs(text)
    if any("\u0600" <= ch <= "\u06ff" for ch in text):
        text = _arabic_vowel_letters(text)
    return anyascii(text)


def _strip_symbols(text: str) -> str:
    """Symbols, separators and controls become spaces; format characters are deleted."""
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        out.append(" " if category[0] in "SZC" else ch)
    return "".join(out)


def _greek_digraphs(text: str) -> str:
    for greek, latin in _GREEK_SIMPLE:
        text = text.replace(greek, latin)
    text = _GREEK_AU_VOICELESS.sub(lambda m: _GREEK_AU_LATIN[m.group(1)] + "f", text)
    return _GREEK_AU.sub(lambda m: _GREEK_AU_LATIN[m.group(1)] + "v", text)


def _arabic_vowel_letters(text: str) -> str:
    text = _ARABIC_ALLAH.sub(" allah ", text)
    text = _ARABIC_ARTICLE.sub("al ", text)
    text = _ARABIC_HAMZA_ALIF.sub(lambda m: "a" if m.group(1) == "أ" else "i", text)
    return text.translate(_ARABIC_LETTERS)
