"""Name pools, romanisation by agency system, and name variants (nicknames, equivalents)."""

from synthetic_data.names.equivalents import equivalent_in
from synthetic_data.names.nicknames import nicknames_for
from synthetic_data.names.pools import CulturePools, NamePool, load_pools
from synthetic_data.names.romanise import SYSTEMS, romanise, variants

__all__ = [
    "SYSTEMS",
    "CulturePools",
    "NamePool",
    "equivalent_in",
    "load_pools",
    "nicknames_for",
    "romanise",
    "variants",
]
