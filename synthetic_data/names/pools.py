"""Name pools per culture: frozen Faker draws plus the curated Arabic and Persian tables.

A pool is a list of distinct native names with frequencies; people are sampled from it with
numpy (vectorised inverse-CDF lookups), and each name's romanised forms, variants and
nicknames are computed once per pool entry, never per record. Pools load on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from synthetic_data.cultures import CULTURES, Culture
from synthetic_data.names.curated import ARABIC, PERSIAN
from synthetic_data.names.nicknames import nicknames_for
from synthetic_data.names.romanise import romanise, variants

__all__ = ["KINDS", "CulturePools", "NamePool", "load_pools"]

POOLS_FILE = Path(__file__).resolve().parent / "name_pools.json"
KINDS = ("given_m", "given_f", "family_m", "family_f", "middle_m", "middle_f")


@dataclass(eq=False)
class NamePool:
    """Distinct native names of one culture and kind, with sampling weights."""

    culture: str
    kind: str
    lang: str
    names: tuple[str, ...]
    weights: np.ndarray
    kana: dict[str, str] | None = None
    _cdf: np.ndarray = field(init=False, repr=False)
    _forms: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _variants: tuple[tuple[str, ...], ...] | None = field(default=None, repr=False)
    _nicknames: tuple[tuple[str, ...], ...] | None = field(default=None, repr=False)
    _has_nickname: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        cdf = np.cumsum(self.weights, dtype=np.float64)
        self._cdf = cdf / cdf[-1]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def is_family(self) -> bool:
        return self.kind.startswith("family")

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Pool indices for uniforms ``u`` in [0, 1) (inverse CDF, so frequencies hold)."""
        idx = np.searchsorted(self._cdf, u, side="right")
        return np.minimum(idx, len(self.names) - 1).astype(np.int32)

    def _kana(self, name: str) -> str | None:
        return self.kana.get(name) if self.kana else None

    def forms(self, system: str) -> tuple[str, ...]:
        """Each name as an agency romanising by ``system`` writes it."""
        if system not in self._forms:
            self._forms[system] = tuple(
                romanise(n, self.lang, system, family=self.is_family, kana=self._kana(n))
                for n in self.names
            )
        return self._forms[system]

    def variants(self) -> tuple[tuple[str, ...], ...]:
        """Each name's distinct romanisations (passport form first)."""
        if self._variants is None:
            self._variants = tuple(
                variants(n, self.lang, family=self.is_family, kana=self._kana(n))
                for n in self.names
            )
        return self._variants

    @property
    def has_nickname(self) -> np.ndarray:
        """Boolean per name: a nickname is known."""
        if self._has_nickname is None:
            self._has_nickname = np.array([bool(x) for x in self.nicknames()], dtype=bool)
        return self._has_nickname

    def nicknames(self) -> tuple[tuple[str, ...], ...]:
        """Known nicknames of each name (native script for Cyrillic, Latin otherwise)."""
        if self._nicknames is None:
            out = []
            for n, std in zip(self.names, self.forms("icao"), strict=True):
                out.append(nicknames_for(n) or (nicknames_for(std) if std != n else ()))
            self._nicknames = tuple(out)
        return self._nicknames


@dataclass(frozen=True)
class CulturePools:
    culture: Culture
    pools: dict[str, NamePool]

    def pool(self, kind: str, female: bool) -> NamePool:
        return self.pools[f"{kind}_{'f' if female else 'm'}"]


def _from_entries(c: Culture, kind: str, entries: list, kana: dict | None) -> NamePool:
    names = tuple(str(e[0]) for e in entries)
    weights = np.array([float(e[1]) for e in entries], dtype=np.float64)
    return NamePool(c.code, kind, c.lang, names, weights, kana)


def _resolve(c: Culture, raw: dict, kana: dict | None) -> dict[str, NamePool]:
    pools: dict[str, NamePool] = {}
    for kind in KINDS:  # references ("family_f": "family_m") point at an earlier kind
        value = raw[kind]
        pools[kind] = pools[value] if isinstance(value, str) else _from_entries(
            c, kind, value, kana)
    return pools


def _curated_raw(table: dict[str, tuple], middle_from_father: bool) -> dict:
    raw: dict = {k: [[e[0], e[1]] for e in v] for k, v in table.items()}
    raw["family_f"] = "family_m"
    raw["middle_m"] = "given_m"
    # Arabic middle names are the father's given name (nasab), for sons and daughters alike.
    raw["middle_f"] = "given_m" if middle_from_father else "given_f"
    return raw


@cache
def load_pools() -> dict[str, CulturePools]:
    """Every culture's pools, keyed by culture code (loaded once per process)."""
    frozen = json.loads(POOLS_FILE.read_text(encoding="utf-8"))["cultures"]
    out: dict[str, CulturePools] = {}
    for c in CULTURES:
        if c.code == "AR":
            raw = _curated_raw(ARABIC, middle_from_father=True)
        elif c.code == "FA":
            raw = _curated_raw(PERSIAN, middle_from_father=False)
        else:
            raw = frozen[c.code]
        kana = raw.get("kana") if isinstance(raw.get("kana"), dict) else None
        out[c.code] = CulturePools(c, _resolve(c, raw, kana))
    return out
