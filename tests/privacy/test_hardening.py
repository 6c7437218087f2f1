"""Hardening: pinned output bits, an independent re-computation of the specification, and
the properties each technique promises (docs/hardening.md)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.bloom.hardening import (
    blip_flip_probability,
    harden,
    hardened_bits,
    pack_bits,
    unpack_bits,
)
from linkage.errors import SchemaError
from linkage.keys import derive_subkey
from linkage.schema import HardeningSpec, default_schema

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "hardening_vectors.json"
KEY = bytes(range(32))


def _rows(hexes: list[str], bits: int) -> np.ndarray:
    dense = np.stack([np.unpackbits(np.frombuffer(bytes.fromhex(h), np.uint8), bitorder="little")
                      for h in hexes]).astype(bool)
    return dense[:, :bits]


def _random(rows: int, bits: int, fill: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((rows, bits)) < fill


# --- pinned vectors ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["balance", "permute", "xor_fold", "diffusion_t3", "blip_eps1", "all"])
def test_pinned_vectors(case):
    doc = json.loads(VECTORS.read_text())
    key = bytes.fromhex(doc["project_key"])
    inp = pack_bits(_rows(doc["input"], doc["bits"]))
    spec = HardeningSpec.model_validate(doc["cases"][case]["spec"])
    want = doc["cases"][case]["output"]
    got = unpack_bits(harden(inp, spec, key))
    assert got.shape[1] == hardened_bits(spec, doc["bits"])
    assert np.array_equal(got, _rows(want, got.shape[1]))


# --- the specification, re-computed independently -------------------------------------------


def _aes_ctr(key: bytes, n: int) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    return enc.update(bytes(n)) + enc.finalize()


def _spec_perm(key: bytes, n: int) -> np.ndarray:
    sub = derive_subkey(key, "hardening:permutation")
    words = [int.from_bytes(_aes_ctr(sub, 8 * n)[8 * i : 8 * i + 8], "little") for i in range(n)]
    return np.asarray(sorted(range(n), key=lambda i: (words[i], i)))


def test_balance_and_permutation_follow_the_spec():
    x = _random(3, 128, 0.3, 1)
    perm = _spec_perm(KEY, 256)
    want = np.concatenate([x, ~x], axis=1)[:, perm]
    assert np.array_equal(unpack_bits(harden(pack_bits(x), HardeningSpec(balance=True), KEY)), want)
    perm128 = _spec_perm(KEY, 128)
    got = unpack_bits(harden(pack_bits(x), HardeningSpec(permute=True), KEY))
    assert np.array_equal(got, x[:, perm128])


def test_xor_fold_follows_the_spec():
    x = _random(3, 256, 0.3, 2)
    got = unpack_bits(harden(pack_bits(x), HardeningSpec(xor_fold=True), KEY))
    assert np.array_equal(got, x[:, :128] ^ x[:, 128:])


def test_diffusion_follows_the_spec():
    t, n = 4, 128
    x = _random(2, n, 0.3, 3)
    sub = derive_subkey(KEY, "hardening:diffusion")
    c = 2 * t + 16
    stream = _aes_ctr(sub, 8 * n * c)
    want = np.zeros((2, n), dtype=bool)
    for j in range(n):
        picked: list[int] = []
        for w in range(c):
            word = int.from_bytes(stream[8 * (j * c + w) : 8 * (j * c + w) + 8], "little") % n
            if word not in picked:
                picked.append(word)
            if len(picked) == t:
                break
        want[:, j] = np.bitwise_xor.reduce(x[:, picked], axis=1)
    got = unpack_bits(harden(pack_bits(x), HardeningSpec(diffusion_inputs=t), KEY))
    assert np.array_equal(got, want)


def test_blip_follows_the_spec():
    import hmac

    eps, n = 1.5, 128
    x = _random(2, n, 0.3, 4)
    sub = derive_subkey(KEY, "hardening:blip")
    threshold = math.ceil(blip_flip_probability(eps) * 2**32)
    want = x.copy()
    for r in range(2):
        row_key = hmac.digest(sub, np.packbits(x[r], bitorder="little").tobytes(), "sha256")
        stream = _aes_ctr(row_key, 4 * n)
        for i in range(n):
            if int.from_bytes(stream[4 * i : 4 * i + 4], "little") < threshold:
                want[r, i] ^= True
    got = unpack_bits(harden(pack_bits(x), HardeningSpec(blip_epsilon=eps), KEY))
    assert np.array_equal(got, want)


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(words=st.integers(1, 8), fill=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_balancing_gives_constant_weight(words, fill, seed):
    x = _random(5, 64 * words, fill, seed)
    h = unpack_bits(harden(pack_bits(x), HardeningSpec(balance=True), KEY))
    assert h.shape[1] == 128 * words
    assert (h.sum(axis=1) == 64 * words).all()


@settings(max_examples=25, deadline=None)
@given(words=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_permutation_preserves_weight_and_is_keyed(words, seed):
    x = _random(5, 64 * words, 0.3, seed)
    h = unpack_bits(harden(pack_bits(x), HardeningSpec(permute=True), KEY))
    assert (h.sum(axis=1) == x.sum(axis=1)).all()
    other = unpack_bits(harden(pack_bits(x), HardeningSpec(permute=True), bytes(32)))
    if words > 1 and x.any():
        assert not np.array_equal(h, other)


def test_xor_fold_halves_length_and_needs_128():
    assert hardened_bits(HardeningSpec(xor_fold=True), 1024) == 512
    assert hardened_bits(HardeningSpec(balance=True, xor_fold=True), 1024) == 1024
    assert hardened_bits(HardeningSpec(balance=True), 1024) == 2048
    with pytest.raises(SchemaError, match="multiple of 128"):
        hardened_bits(HardeningSpec(xor_fold=True), 192)
    with pytest.raises(SchemaError, match="diffusion_inputs"):
        hardened_bits(HardeningSpec(diffusion_inputs=40), 64)


@pytest.mark.parametrize("eps", [0.5, 2.0, 4.0])
def test_blip_flip_rate_matches_epsilon(eps):
    x = _random(400, 1024, 0.3, 5)
    h = unpack_bits(harden(pack_bits(x), HardeningSpec(blip_epsilon=eps), KEY))
    f = 1 / (1 + math.exp(eps))
    rate = (h ^ x).mean()
    sd = math.sqrt(f * (1 - f) / x.size)
    assert abs(rate - f) < 5 * sd + 1e-4
    assert blip_flip_probability(eps) >= f  # rounded up: never a weaker guarantee


def test_blip_is_deterministic_per_content():
    x = _random(50, 512, 0.3, 6)
    x[1] = x[0]
    spec = HardeningSpec(blip_epsilon=2.0)
    a = unpack_bits(harden(pack_bits(x), spec, KEY))
    b = unpack_bits(harden(pack_bits(x[::-1].copy()), spec, KEY))[::-1]
    assert np.array_equal(a, b)  # same record, same flips, whatever the batch
    assert np.array_equal(a[0], a[1])  # identical content, identical output
    assert not np.array_equal(a[2] ^ x[2], a[3] ^ x[3])  # different rows, independent noise


def test_diffusion_keeps_length_and_every_output_depends_on_t_inputs():
    n, t = 256, 5
    spec = HardeningSpec(diffusion_inputs=t)
    base = np.zeros((1, n), dtype=bool)
    out0 = unpack_bits(harden(pack_bits(base), spec, KEY))
    assert out0.shape == (1, n) and not out0.any()
    influence = np.zeros(n, dtype=int)
    for i in range(n):
        e = base.copy()
        e[0, i] = True
        influence += unpack_bits(harden(pack_bits(e), spec, KEY))[0]
    assert (influence == t).all()  # each output bit is the XOR of exactly t distinct inputs


def test_no_hardening_is_the_identity():
    x = pack_bits(_random(4, 256, 0.3, 7))
    assert harden(x, HardeningSpec(), KEY) is x


def test_hardening_settings_change_the_fingerprint():
    base = default_schema()
    changed = base.model_copy(update={"hardening": HardeningSpec(diffusion_inputs=4)})
    assert type(base).model_validate(changed.model_dump()).fingerprint() != base.fingerprint()
    with pytest.raises(ValueError):
        HardeningSpec(blip_epsilon=0)
    with pytest.raises(ValueError):
        HardeningSpec(unknown=True)
