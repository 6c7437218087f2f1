"""Keyed random hashing of tokens to Bloom-filter bit positions (hazardous layer).

Each token gets k positions drawn from a keyed pseudo-random function of the token alone
(random hashing, Schnell et al.), not the ``h1 + i*h2`` double hashing that Niedermeyer et
al. (2014) broke. Position i of token t is the i-th little-endian uint32 of the PRF output
stream, reduced modulo the filter length:

* ``hmac-sha256``: block j = HMAC-SHA256(field key, bytes([j]) + utf8(t)), 8 positions per block;
* ``blake2b``: block j = BLAKE2b-512(bytes([j]) + utf8(t), key=field key), 16 positions per block.

Filter lengths are multiples of 64 (<= 8192), so the modulo bias is below 2^-19.
Nothing is cached: callers hash the unique tokens of one batch and drop the result.

HMAC-SHA256 runs batched through OpenSSL (the optional ``linkage.bloom._hmac`` extension:
the key pads are derived once per batch, ~10x faster than one ``hmac.digest`` per message);
without the extension the same bytes come from ``hmac.digest``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Literal

import numpy as np

try:
    from linkage.bloom import _hmac
except ImportError:  # the extension is optional (no compiler or no OpenSSL headers)
    _hmac = None

__all__ = ["HashFunction", "hmac_sha256_many", "token_positions", "token_words"]

HashFunction = Literal["hmac-sha256", "blake2b"]
_WORDS_PER_BLOCK = {"hmac-sha256": 8, "blake2b": 16}


def hmac_sha256_many(key: bytes, messages: Sequence[bytes], counter_blocks: int = 0, *,
                     native: bool = True) -> bytes:
    """HMAC-SHA256(key, m) of each message, 32 bytes each, back to back.

    With ``counter_blocks = b >= 1``: HMAC-SHA256(key, bytes([j]) + m) for j < b, i.e. 32*b
    bytes per message. ``native=False`` forces the pure-Python path (tests compare the two).
    """
    if native and _hmac is not None:
        ends = np.cumsum([len(m) for m in messages], dtype=np.int64)
        return _hmac.many(key, b"".join(messages), ends.tobytes(), counter_blocks)
    if counter_blocks == 0:
        return b"".join([hmac.digest(key, m, "sha256") for m in messages])
    prefixes = [bytes([j]) for j in range(counter_blocks)]
    return b"".join([hmac.digest(key, p + m, "sha256") for m in messages for p in prefixes])


def _prf_streams(function: HashFunction, key: bytes, tokens: Sequence[bytes], blocks: int) -> bytes:
    if function == "hmac-sha256":
        return hmac_sha256_many(key, tokens, blocks)
    if function == "blake2b":
        return b"".join(
            hashlib.blake2b(bytes([j]) + token, key=key, digest_size=64).digest()
            for token in tokens for j in range(blocks)
        )
    raise ValueError(f"unsupported hash function {function!r}")


def token_words(function: HashFunction, key: bytes, tokens: Sequence[str], k: int) -> np.ndarray:
    """The first k uint32 words of each token's PRF stream, (len(tokens), k)."""
    if k <= 0 or not tokens:
        return np.zeros((len(tokens), max(k, 0)), dtype=np.uint32)
    per_block = _WORDS_PER_BLOCK[function]
    blocks = -(-k // per_block)
    stream = _prf_streams(function, key, [t.encode("utf-8") for t in tokens], blocks)
    words = np.frombuffer(stream, dtype="<u4").reshape(len(tokens), blocks * per_block)
    return np.ascontiguousarray(words[:, :k], dtype=np.uint32)


def token_positions(
    function: HashFunction, key: bytes, tokens: Sequence[str], k: int, bits: int
) -> np.ndarray:
    """Bit positions (len(tokens), k) as uint32 for each token, each in [0, bits)."""
    return token_words(function, key, tokens, k) % np.uint32(bits)
