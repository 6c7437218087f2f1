"""Deliberately weak baseline encodings, used only to show that the attack simulations work.

Field-level Bloom filters of one name field with *double hashing*, the construction of the
early PPRL literature (Schnell et al. 2009) that Niedermeyer et al. (2014) and Christen et al.
(2017, 2018) attacked: each padded q-gram ``g`` of the value sets the bits

    (h1(g) + i * h2(g)) mod L,  i = 0 .. k-1,

with ``h1``, ``h2`` two keyed hashes (here HMAC-SHA256 under two subkeys; the original used
HMAC-SHA1 and HMAC-MD5, which this project never uses). No hardening.

This module is not reachable from the linkage schema or the encoder configuration: nothing
in ``linkage.bloom`` imports it, and ``FilterSpec.hash_function`` offers keyed random
hashing only.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

import numpy as np

from linkage import tokens as tok
from linkage.keys import derive_subkey
from linkage.normalize.names import normalise_name

__all__ = ["WEAK_BITS", "WEAK_K", "double_hash_positions", "encode_weak", "weak_name", "weak_qgrams"]

WEAK_BITS = 1000
WEAK_K = 15


def weak_name(raw: str) -> str:
    """The value the weak encoder encodes: the normalised name (titles kept, parts unsorted)."""
    return normalise_name(raw, drop_titles=False, drop_particles=False)


def weak_qgrams(value: str, q: int = 2) -> list[str]:
    return tok.qgrams(value, q=q, padding=True) if value else []


def _h(key: bytes, token: str) -> int:
    return int.from_bytes(hmac.digest(key, token.encode("utf-8"), "sha256")[:8], "little")


def _positions(k1: bytes, k2: bytes, token: str, k: int, bits: int) -> np.ndarray:
    h1 = _h(k1, token) % bits
    h2 = 1 + _h(k2, token) % (bits - 1)
    return (h1 + np.arange(k, dtype=np.int64) * h2) % bits


def double_hash_positions(key: bytes, token: str, k: int, bits: int) -> np.ndarray:
    """The k positions (h1 + i*h2) mod bits of one token (h2 is never 0 mod bits)."""
    return _positions(derive_subkey(key, "weak:h1"), derive_subkey(key, "weak:h2"), token, k, bits)


def encode_weak(
    values: Sequence[str], key: bytes, *, bits: int = WEAK_BITS, k: int = WEAK_K, q: int = 2
) -> np.ndarray:
    """(len(values), bits) bool: one double-hashing Bloom filter per (normalised) value."""
    k1 = derive_subkey(key, "weak:h1")
    k2 = derive_subkey(key, "weak:h2")
    positions: dict[str, np.ndarray] = {}
    out = np.zeros((len(values), bits), dtype=np.bool_)
    for r, value in enumerate(values):
        for g in weak_qgrams(value, q):
            pos = positions.get(g)
            if pos is None:
                pos = positions[g] = _positions(k1, k2, g, k, bits)
            out[r, pos] = True
    return out
