"""Plaintext zone: normalisation of identity values (pure functions)."""

from __future__ import annotations

from linkage.normalize.country import to_alpha3
from linkage.normalize.dates import PartialDate, parse_date
from linkage.normalize.documents import normalise_document
from linkage.normalize.names import PARTICLES, TITLES, normalise_name
from linkage.normalize.sex import normalise_sex
from linkage.normalize.text import fold

__all__ = [
    "PARTICLES",
    "TITLES",
    "PartialDate",
    "fold",
    "normalise_document",
    "normalise_name",
    "normalise_sex",
    "parse_date",
    "to_alpha3",
]
