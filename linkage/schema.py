"""The linkage schema: a declarative, versioned description of how records are encoded.

This module is neutral: it holds configuration only (no keys, no plaintext), so both the
agency-side encoder and the central service import it. The service uses it to display
settings and to compare fingerprints; it cannot encode anything with it.

The fingerprint is the SHA-256 of the canonical JSON of the fully expanded schema (every
default written out, keys sorted, no insignificant whitespace, UTF-8). Two schema files that
differ only in formatting or in omitted defaults have the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from linkage.errors import SchemaError

__all__ = [
    "SCHEMA_VERSION",
    "BlockingKeyPart",
    "BlockingKeySpec",
    "CountryNormaliser",
    "DateNormaliser",
    "DateTokeniser",
    "DocumentNormaliser",
    "FieldSpec",
    "FilterSpec",
    "HardeningSpec",
    "LinkageSchema",
    "NameNormaliser",
    "PhoneticTokeniser",
    "QGramTokeniser",
    "SexNormaliser",
    "TextNormaliser",
    "WholeTokeniser",
    "default_schema",
    "json_schema",
    "load_schema",
]

SCHEMA_VERSION = 1
_IDENT = r"^[a-z][a-z0-9_]{0,40}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- normalisers -------------------------------------------------------------------------


class NameNormaliser(_Strict):
    """Person or place names in any script: transliterate, fold, drop titles and particles."""

    kind: Literal["name"] = "name"
    drop_titles: bool = True
    drop_particles: bool = True
    sort_parts: bool = Field(
        True, description="Order-insensitive: 'Kim Min-jun' and 'Min-jun Kim' normalise alike."
    )


class TextNormaliser(_Strict):
    """Generic text: NFKC, case fold, transliterate, strip diacritics and punctuation."""

    kind: Literal["text"] = "text"


class DateNormaliser(_Strict):
    """Dates of birth; partial dates (year, year-month) are kept as partial."""

    kind: Literal["date"] = "date"
    ambiguous: Literal["day_first", "month_first", "error"] = Field(
        "day_first",
        description="How to read nn/nn/yyyy when both parts are <= 12.",
    )


class SexNormaliser(_Strict):
    kind: Literal["sex"] = "sex"


class CountryNormaliser(_Strict):
    """Country names (several languages) or ISO codes to ISO 3166-1 alpha-3."""

    kind: Literal["country"] = "country"


class DocumentNormaliser(_Strict):
    """Passport or ID numbers: no spaces or dashes, upper case."""

    kind: Literal["document"] = "document"


Normaliser = Annotated[
    NameNormaliser
    | TextNormaliser
    | DateNormaliser
    | SexNormaliser
    | CountryNormaliser
    | DocumentNormaliser,
    Field(discriminator="kind"),
]


# --- tokenisers --------------------------------------------------------------------------


class QGramTokeniser(_Strict):
    """Character q-grams. With ``per_part`` (default) each space-separated part is padded and
    cut on its own, so a value's tokens are the union of its parts' tokens: name order does
    not matter, and a name split over several columns gives the same tokens as written whole.
    """

    kind: Literal["qgram"] = "qgram"
    q: int = Field(2, ge=1, le=5)
    padding: bool = True
    per_part: bool = True


class PhoneticTokeniser(_Strict):
    """One phonetic code per name part (jellyfish)."""

    kind: Literal["phonetic"] = "phonetic"
    algorithm: Literal["nysiis", "metaphone", "soundex", "match_rating"] = "nysiis"


class DateTokeniser(_Strict):
    """Tokens for year, month, day and their pairs, so partial and swapped dates still overlap."""

    kind: Literal["date"] = "date"


class WholeTokeniser(_Strict):
    """The whole normalised value is one token (sex, nationality, document number)."""

    kind: Literal["whole"] = "whole"


Tokeniser = Annotated[
    QGramTokeniser | PhoneticTokeniser | DateTokeniser | WholeTokeniser,
    Field(discriminator="kind"),
]


# --- fields, blocking keys, hardening, filters ---------------------------------------------


class FieldSpec(_Strict):
    """One field of a person record and how it contributes to the encoding."""

    name: str = Field(pattern=_IDENT)
    columns: list[str] = Field(min_length=1, description="Input columns, joined with a space.")
    aliases_column: str | None = Field(
        None, description="Column of further values (aliases), separated by alias_separator."
    )
    alias_separator: str = Field("|", min_length=1, max_length=3)
    normaliser: Normaliser
    tokeniser: Tokeniser
    weight: int = Field(
        ge=0, le=64, description="Bits set per token (k independent keyed hash positions)."
    )
    missing: Literal["skip", "error"] = Field(
        "skip", description="skip: an empty value sets no bits; error: reject the record."
    )
    max_length: int = Field(200, ge=1, le=10_000, description="Longer values reject the record.")

    @property
    def input_columns(self) -> list[str]:
        cols = list(self.columns)
        if self.aliases_column:
            cols.append(self.aliases_column)
        return cols


class BlockingKeyPart(_Strict):
    field: str = Field(pattern=_IDENT)
    transform: Literal["phonetic_parts", "phonetic_pairs", "year", "month_day", "prefix3",
                       "whole"] = Field(
        description="phonetic_parts: one value per name part (robust to name order); "
        "phonetic_pairs: one value per unordered pair of distinct name-part codes (the code "
        "itself for a one-part name; robust to name order and to a missing part); "
        "year: the year of a date; month_day: month and day of a full date, unordered (robust "
        "to a wrong year and to swapped day and month); prefix3: first three characters; "
        "whole: the value."
    )


class BlockingKeySpec(_Strict):
    """An encoded blocking key: a keyed hash of the listed parts, computed by the encoder.

    A record gets one key per combination of part values over all its variants (so a record
    with two name parts and two aliases has several keys); two records are candidates when
    they share any key.
    """

    name: str = Field(pattern=_IDENT)
    parts: list[BlockingKeyPart] = Field(min_length=1)
    max_share: float | None = Field(
        None, gt=0, le=1,
        description="Leave out key values held by more than this share of the records of a "
        "batch (and by at least 10 of them). Frequent values are what a frequency attack on "
        "the keys can name (docs/privacy.md); their buckets are the largest anyway. Unset: "
        "every value is sent.",
    )

    @model_serializer(mode="wrap")
    def _omit_unset_cap(self, handler):
        # Unset, the cap is left out of the JSON, so schemas that do not use it keep the
        # fingerprint they had before the option existed (and match existing encodings).
        data = handler(self)
        if isinstance(data, dict) and data.get("max_share") is None:
            data.pop("max_share", None)
        return data


class HardeningSpec(_Strict):
    """Hardening of the record-level filter (see docs/hardening.md), in this fixed order:
    salting (at tokenisation), balancing, keyed permutation, XOR-folding, diffusion, BLIP.

    All techniques are off in this model's defaults; the published default schema
    chooses the combination measured in benchmarks/privacy_tradeoff.py. Every setting is part
    of the schema fingerprint.
    """

    salt_field: str | None = Field(
        None,
        description="Salt name tokens with this field's normalised value (a date field "
        "contributes its year). Pairs whose salt differs lose all name similarity.",
    )
    balance: bool = Field(
        False,
        description="Append the complement (constant Hamming weight, length doubles); "
        "always followed by the keyed permutation.",
    )
    permute: bool = Field(False, description="Keyed random permutation of the bit positions.")
    xor_fold: bool = Field(
        False, description="XOR the two halves of the filter (length halves; needs a multiple of 128)."
    )
    diffusion_inputs: int = Field(
        0,
        ge=0,
        le=64,
        description="Diffusion layer: every output bit is the XOR of this many keyed, randomly "
        "chosen input bits (Armknecht et al. 2023). 0 = no diffusion layer.",
    )
    blip_epsilon: float | None = Field(
        None,
        gt=0,
        le=20,
        description="BLIP randomised response: each output bit flips with probability "
        "1/(1+e^epsilon) (epsilon-DP per bit). None = no BLIP.",
    )


class FilterSpec(_Strict):
    bits: int = Field(1024, ge=64, le=8192, description="Record-level filter length (CLK).")
    hash_function: Literal["hmac-sha256", "blake2b"] = Field(
        "hmac-sha256",
        description="Keyed hash for random hashing (k independent positions per token). "
        "MD5/SHA-1 and double hashing are deliberately not offered.",
    )
    field_filters: bool = Field(False, description="Also write one filter per field.")
    field_bits: int = Field(256, ge=64, le=4096)

    @field_validator("bits", "field_bits")
    @classmethod
    def _multiple_of_64(cls, v: int) -> int:
        if v % 64:
            raise ValueError("filter lengths must be a multiple of 64 bits")
        return v


class LinkageSchema(_Strict):
    """A complete, versioned linkage schema."""

    schema_version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    record_id_column: str = "record_id"
    reference: Literal["pseudonym", "column"] = Field(
        "pseudonym",
        description="pseudonym: the record reference is a keyed hash of the record id; "
        "column: the record id is used as the reference as given (must already be opaque).",
    )
    filter: FilterSpec = FilterSpec()
    max_variants: int = Field(4, ge=1, le=16, description="Encodings kept per record (aliases).")
    fields: list[FieldSpec] = Field(min_length=1)
    blocking_keys: list[BlockingKeySpec] = []
    hardening: HardeningSpec = HardeningSpec()

    @model_validator(mode="after")
    def _check_references(self) -> LinkageSchema:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        if all(f.weight == 0 for f in self.fields):
            raise ValueError("at least one field must have a weight above 0")
        for key in self.blocking_keys:
            for part in key.parts:
                if part.field not in names:
                    raise ValueError(f"blocking key {key.name!r} uses unknown field {part.field!r}")
        salt = self.hardening.salt_field
        if salt is not None and salt not in names:
            raise ValueError(f"hardening salt_field {salt!r} is not a field")
        return self

    # -- derived ------------------------------------------------------------------------

    def canonical_json(self) -> str:
        data = self.model_dump(mode="json")
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical JSON; carried by every encoded file."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def input_columns(self) -> list[str]:
        """Every input column the schema reads, record id first, without duplicates."""
        cols = [self.record_id_column]
        for f in self.fields:
            for c in f.input_columns:
                if c not in cols:
                    cols.append(c)
        return cols

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise SchemaError(f"no field named {name!r}")

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def load_schema(path: str | Path) -> LinkageSchema:
    """Read and validate a schema file; errors name the file and the invalid entries."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"{p}: cannot read schema file ({exc.strerror})") from None
    try:
        return LinkageSchema.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
        )
        raise SchemaError(f"{p}: invalid linkage schema: {problems}") from None


def json_schema() -> dict:
    """The JSON Schema of linkage schema files (published as linkage/linkage-schema.json)."""
    return LinkageSchema.model_json_schema()


def default_schema() -> LinkageSchema:
    """The documented default schema for person records (see docs/schema.md)."""
    name = NameNormaliser()
    return LinkageSchema(
        name="person-default",
        description=(
            "Person records from several jurisdictions: full name with aliases (bigrams and "
            "phonetic codes), date of birth, sex, nationality, country and place of birth, document number."
        ),
        fields=[
            FieldSpec(
                name="name",
                columns=["given_name", "middle_name", "family_name"],
                aliases_column="aliases",
                normaliser=name,
                tokeniser=QGramTokeniser(q=2, padding=True),
                weight=10,
            ),
            FieldSpec(
                name="name_phonetic",
                columns=["given_name", "family_name"],
                aliases_column="aliases",
                normaliser=name,
                tokeniser=PhoneticTokeniser(algorithm="nysiis"),
                weight=12,
            ),
            FieldSpec(
                name="date_of_birth",
                columns=["date_of_birth"],
                normaliser=DateNormaliser(),
                tokeniser=DateTokeniser(),
                weight=12,
            ),
            FieldSpec(
                name="sex",
                columns=["sex"],
                normaliser=SexNormaliser(),
                tokeniser=WholeTokeniser(),
                weight=6,
            ),
            FieldSpec(
                name="nationality",
                columns=["nationality"],
                normaliser=CountryNormaliser(),
                tokeniser=WholeTokeniser(),
                weight=6,
            ),
            FieldSpec(
                name="country_of_birth",
                columns=["country_of_birth"],
                normaliser=CountryNormaliser(),
                tokeniser=WholeTokeniser(),
                weight=4,
            ),
            FieldSpec(
                name="place_of_birth",
                columns=["place_of_birth"],
                normaliser=name,
                tokeniser=QGramTokeniser(q=2, padding=True),
                weight=4,
            ),
            FieldSpec(
                name="document_number",
                columns=["document_number"],
                normaliser=DocumentNormaliser(),
                tokeniser=QGramTokeniser(q=3, padding=False),
                weight=4,
            ),
        ],
        # Measured with benchmarks/blocking.py (docs/matching.md): with the matcher's
        # nearest-neighbour refinement of oversized buckets these four coarse keys keep
        # 0.99 of the true pairs of the synthetic data (the four finer keys they replace,
        # phonetic part + year, phonetic part + month/day, phonetic pair and date of birth +
        # sex, kept 0.965-0.973). phon survives a missing or wrong date of birth and a typo
        # in one name part, name_prefix a different spelling of the family name, dob a
        # name in another script, year_sex_country a name in another script with a wrong day
        # or month. Every key is a frequency-attack surface (docs/matching.md).
        blocking_keys=[
            BlockingKeySpec(
                name="phon",
                parts=[BlockingKeyPart(field="name_phonetic", transform="phonetic_parts")],
            ),
            BlockingKeySpec(
                name="name_prefix",
                parts=[BlockingKeyPart(field="name", transform="prefix3")],
            ),
            BlockingKeySpec(
                name="dob",
                parts=[BlockingKeyPart(field="date_of_birth", transform="whole")],
            ),
            BlockingKeySpec(
                name="year_sex_country",
                parts=[
                    BlockingKeyPart(field="date_of_birth", transform="year"),
                    BlockingKeyPart(field="sex", transform="whole"),
                    BlockingKeyPart(field="country_of_birth", transform="whole"),
                ],
            ),
        ],
        # Chosen by measurement (benchmarks/privacy_tradeoff.py, docs/hardening.md): the
        # highest F1 among the settings under which no simulated attack re-identifies more
        # than 1% of records with precision above 50%. Output: 512-bit filters.
        hardening=HardeningSpec(xor_fold=True),
    )


if __name__ == "__main__":  # python -m linkage.schema: rewrite the published JSON Schema
    _target = Path(__file__).with_name("linkage-schema.json")
    _target.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
