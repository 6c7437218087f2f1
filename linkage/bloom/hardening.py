"""Hardening of record-level filters (issue 7; see docs/hardening.md).

The encoder calls ``harden`` on the packed record-level filters of a batch, after all tokens
are hashed. The steps run in this fixed order (each only when the schema enables it):

1. salting: done earlier, at tokenisation (name tokens get ``"\\x1f" + salt`` appended);
2. balancing: ``x -> x || ~x`` (length doubles, Hamming weight becomes exactly L);
3. keyed bit permutation: ``out[j] = in[perm[j]]`` (always applied after balancing, so the
   complement half is interleaved with the original bits; ``permute`` alone permutes L bits);
4. XOR-folding: ``out[j] = in[j] ^ in[j + n/2]`` (length halves);
5. diffusion (Armknecht et al., PoPETs 2023): ``out[j] = XOR of in[i] for i in T_j``, where
   ``T_j`` is a keyed random set of ``t`` distinct input positions (length unchanged);
6. BLIP / randomised response: each bit flipped with probability ``f = 1 / (1 + e^eps)``
   (rounded up to a multiple of 2^-32).

Keys. Every keyed step has its own subkey ``derive_subkey(project_key, "hardening:<step>")``
and expands it with AES-256-CTR (all-zero nonce) into a keystream:

* permutation: ``perm = argsort(keystream(k_perm) as n little-endian uint64)`` (stable);
* diffusion: ``keystream(k_diff)`` read as ``n * (2t + 16)`` little-endian uint64 words, one
  row of ``2t + 16`` per output bit, each word taken modulo the input length; ``T_j`` is the
  first ``t`` distinct values of row ``j``, in order;
* BLIP: per filter row, ``row key = HMAC-SHA256(k_blip, packed row bytes before BLIP)`` and
  bit ``i`` flips when the i-th little-endian uint32 of ``keystream(row key)`` is below
  ``ceil(f * 2^32)``. The flips are a keyed pseudo-random function of the row's content: the
  same record encoded twice gets the same output (repeated uploads cannot be averaged to
  remove the noise), while records with different content get independent noise.

Nothing is cached: the permutation and diffusion maps are rebuilt per call from the key.
"""

from __future__ import annotations

import hmac
import math

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from linkage.errors import SchemaError
from linkage.keys import derive_subkey
from linkage.schema import HardeningSpec

__all__ = [
    "blip_flip_probability",
    "blip_flips",
    "diffusion_map",
    "harden",
    "hardened_bits",
    "keyed_permutation",
    "keystream",
    "pack_bits",
    "unpack_bits",
]

_ZERO_NONCE = bytes(16)
_BLIP_SCALE = 2**32


# --- bit layout (see linkage.format) -----------------------------------------------------------


def unpack_bits(filters: np.ndarray, bits: int | None = None) -> np.ndarray:
    """(rows, w) uint64 filters -> (rows, 64w) bool, bit i of word i // 64 at column i."""
    rows, words = filters.shape
    raw = np.ascontiguousarray(filters, dtype="<u8").view(np.uint8).reshape(rows, 8 * words)
    dense = np.unpackbits(raw, axis=1, bitorder="little").astype(np.bool_)
    return dense if bits is None else dense[:, :bits]


def pack_bits(dense: np.ndarray) -> np.ndarray:
    """(rows, n) bool with n a multiple of 64 -> (rows, n/64) uint64 (little-endian words)."""
    rows, n = dense.shape
    if n % 64:
        raise ValueError("packed filters need a multiple of 64 bits")
    packed = np.packbits(dense, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False).reshape(rows, n // 64)


# --- keyed randomness --------------------------------------------------------------------------


def keystream(key: bytes, nbytes: int) -> bytes:
    """AES-256-CTR keystream of ``nbytes`` under a 32-byte key, nonce/counter block zero."""
    enc = Cipher(algorithms.AES(key), modes.CTR(_ZERO_NONCE)).encryptor()
    return enc.update(bytes(nbytes)) + enc.finalize()


def keyed_permutation(key: bytes, n: int) -> np.ndarray:
    """A uniformly random permutation of range(n) determined by the key."""
    words = np.frombuffer(keystream(key, 8 * n), dtype="<u8")
    return np.argsort(words, kind="stable").astype(np.int64)


def diffusion_map(key: bytes, n_in: int, n_out: int, t: int) -> np.ndarray:
    """(n_out, t) int64: the ``t`` distinct input positions XORed into each output bit."""
    if not 1 <= t <= n_in // 2:
        raise SchemaError(f"diffusion_inputs must be between 1 and {n_in // 2} for {n_in} bits")
    c = 2 * t + 16
    words = np.frombuffer(keystream(key, 8 * n_out * c), dtype="<u8").reshape(n_out, c)
    cand = (words % np.uint64(n_in)).astype(np.int64)
    earlier = np.tril(np.ones((c, c), dtype=np.bool_), -1)  # [j, i]: i comes before j
    dup = ((cand[:, :, None] == cand[:, None, :]) & earlier).any(axis=2)
    if int((~dup).sum(axis=1).min()) < t:  # probability far below 2^-100 for t <= n/2
        raise SchemaError("diffusion map: not enough distinct inputs drawn")
    first = np.argsort(dup, axis=1, kind="stable")[:, :t]
    return np.take_along_axis(cand, first, axis=1)


def blip_flip_probability(epsilon: float) -> float:
    """The flip probability used for ``epsilon``: 1/(1+e^eps) rounded up to k / 2^32.

    Rounding up keeps the guarantee: the effective per-bit epsilon ln((1-f)/f) is never
    larger than the configured one.
    """
    f = 1.0 / (1.0 + math.exp(epsilon))
    return math.ceil(f * _BLIP_SCALE) / _BLIP_SCALE


def blip_flips(dense: np.ndarray, key: bytes, epsilon: float) -> np.ndarray:
    """(rows, n) bool mask of the bits BLIP flips, a keyed function of each row's content."""
    rows, n = dense.shape
    threshold = np.uint32(min(math.ceil(blip_flip_probability(epsilon) * _BLIP_SCALE), 2**32 - 1))
    packed = np.packbits(dense, axis=1, bitorder="little")
    stream = b"".join(
        keystream(hmac.digest(key, packed[r].tobytes(), "sha256"), 4 * n) for r in range(rows)
    )
    words = np.frombuffer(stream, dtype="<u4").reshape(rows, n)
    return words < threshold


# --- the pipeline ------------------------------------------------------------------------------


def hardened_bits(spec: HardeningSpec, bits: int) -> int:
    """Length of the filter after hardening; raises SchemaError for an impossible setting."""
    n = 2 * bits if spec.balance else bits
    if spec.xor_fold:
        if n % 128:
            raise SchemaError(
                f"hardening xor_fold needs a filter length that is a multiple of 128 (got {n})"
            )
        n //= 2
    if spec.diffusion_inputs and spec.diffusion_inputs > n // 2:
        raise SchemaError(f"hardening diffusion_inputs must be at most {n // 2} for {n} bits")
    return n


def harden(filters: np.ndarray, spec: HardeningSpec, project_key: bytes) -> np.ndarray:
    """Apply the configured bit-level hardening to (rows, bits/64) uint64 filters."""
    bit_steps = spec.balance or spec.permute or spec.xor_fold or spec.diffusion_inputs
    if not bit_steps and spec.blip_epsilon is None:
        return filters
    hardened_bits(spec, filters.shape[1] * 64)  # validate before any work
    only_fold = not (spec.balance or spec.permute or spec.diffusion_inputs)
    if spec.xor_fold and only_fold and spec.blip_epsilon is None:
        # XOR-folding alone is word-aligned (the length is a multiple of 128): the same bits
        # as the dense path below, without unpacking every bit to a byte
        half = filters.shape[1] // 2
        return np.ascontiguousarray(filters[:, :half] ^ filters[:, half:], dtype=np.uint64)
    dense = unpack_bits(filters)
    if spec.balance:
        dense = np.concatenate([dense, ~dense], axis=1)
    if spec.balance or spec.permute:
        perm = keyed_permutation(derive_subkey(project_key, "hardening:permutation"), dense.shape[1])
        dense = dense[:, perm]
    if spec.xor_fold:
        half = dense.shape[1] // 2
        dense = dense[:, :half] ^ dense[:, half:]
    if spec.diffusion_inputs:
        n = dense.shape[1]
        mapping = diffusion_map(
            derive_subkey(project_key, "hardening:diffusion"), n, n, spec.diffusion_inputs
        )
        out = dense[:, mapping[:, 0]]
        for i in range(1, spec.diffusion_inputs):
            out ^= dense[:, mapping[:, i]]
        dense = out
    if spec.blip_epsilon is not None:
        dense = dense ^ blip_flips(dense, derive_subkey(project_key, "hardening:blip"), spec.blip_epsilon)
    return pack_bits(np.ascontiguousarray(dense))
