"""Keyed random hashing of tokens to Bloom-filter bit positions (hazardous layer).

Each token gets k positions drawn from a keyed pseudo-random function of the token alone
(random hashing, Schnell et al.), not the ``h1 + i*h2`` double hashing that Niedermeyer et
al. (2014) broke. Position i of token t is the i-th little-endian uint32 of the PRF output
stream, reduced modulo the filter length:

* ``hmac-sha256``: block j = HMAC-SHA256(field key, bytes([j]) + utf8(t)), 8 positions per block;
* ``blake2b``: block j = BLAKE2b-512(bytes([j]) + utf8(t), key=field key), 16 positions per block.

Filter lengths are multiples of 64 (<= 8192), so the modulo bias is below 2^-19.
Nothing is cached: callers hash the unique tokens of one batch and drop the result.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["HashFunction", "token_positions", "token_words"]

HashFunction = Literal["hmac-sha256", "blake2b"]
_WORDS_PER_BLOCK = {"hmac-sha256": 8, "blake2b": 16}


def _prf_stream(function: HashFunction, key: bytes, token: bytes, blocks: int) -> bytes:
    if function == "hmac-sha256":
        return b"".join(hmac.digest(key, bytes([j]) + token, "sha256") for j in range(blocks))
    if function == "blake2b":
        return b"".join(
            hashlib.blake2b(bytes([j]) + token, key=key, digest_size=64).digest()
            for j in range(blocks)
        )
    raise ValueError(f"unsupported hash function {function!r}")


def token_words(function: HashFunction, key: bytes, tokens: Sequence[str], k: int) -> np.ndarray:
    """The first k uint32 words of each token's PRF stream, (len(tokens), k)."""
    if k <= 0 or not tokens:
        return np.zeros((len(tokens), max(k, 0)), dtype=np.uint32)
    per_block = _WORDS_PER_BLOCK[function]
    blocks = -(-k // per_block)
    stream = b"".join(_prf_stream(function, key, t.encode("utf-8"), blocks) for t in tokens)
    words = np.frombuffer(stream, dtype="<u4").reshape(len(tokens), blocks * per_block)
    return np.ascontiguousarray(words[:, :k], dtype=np.uint32)


def token_positions(
    function: HashFunction, key: bytes, tokens: Sequence[str], k: int, bits: int
) -> np.ndarray:
    """Bit positions (len(tokens), k) as uint32 for each token, each in [0, bits)."""
    return token_words(function, key, tokens, k) % np.uint32(bits)
