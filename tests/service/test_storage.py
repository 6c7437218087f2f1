"""Encrypted blob store: round trips, random access, and every kind of tampering fails."""

from __future__ import annotations

import io
import os
import secrets

import pytest

from linkage.errors import DecryptionError
from service.storage import MAGIC, BlobStore

KEY = secrets.token_bytes(32)
CHUNK = 4096


def _store(tmp_path, key=KEY) -> BlobStore:
    store = BlobStore(tmp_path / "blobs", key, chunk_size=CHUNK)
    store.ensure_dirs()
    return store


def _put(store: BlobStore, data: bytes, blob_id: str = "upl_1", pieces: int = 7) -> str:
    w = store.writer("prj_1", blob_id)
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        w.write(data[i : i + step])
    w.commit()
    return store.blob_name("prj_1", blob_id)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])
def test_round_trip_and_random_access(tmp_path, size):
    store = _store(tmp_path)
    data = secrets.token_bytes(size)
    name = _put(store, data)
    with store.reader(name, "upl_1") as r:
        assert r.size == size
        assert r.read() == data
        for pos in (0, size // 2, max(0, size - 5)):
            r.seek(pos)
            assert r.read(10) == data[pos : pos + 10]
        tail = min(3, size)
        r.seek(-tail, io.SEEK_END)
        assert r.read() == data[size - tail :]


@pytest.mark.parametrize("size", [0, 1, CHUNK, 5 * CHUNK + 17])
def test_read_all_returns_the_whole_plaintext(tmp_path, size):
    store = _store(tmp_path)
    data = secrets.token_bytes(size)
    name = _put(store, data)
    with store.reader(name, "upl_1") as r:
        assert bytes(r.read_all()) == data
        assert r.read() == data  # the position is untouched


def test_ciphertext_holds_no_plaintext(tmp_path):
    store = _store(tmp_path)
    data = b"agency-ref-000123," * 2000
    name = _put(store, data)
    raw = store.path(name).read_bytes()
    assert raw.startswith(MAGIC)
    assert b"agency-ref" not in raw
    assert os.stat(store.path(name)).st_mode & 0o077 == 0


def _tampered(tmp_path, mutate) -> tuple[BlobStore, str]:
    store = _store(tmp_path)
    name = _put(store, secrets.token_bytes(3 * CHUNK + 100))
    path = store.path(name)
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(mutate(raw)))
    return store, name


def _chunks(raw: bytearray) -> tuple[bytes, list[bytes]]:
    header = bytes(raw[: len(MAGIC) + 4 + 16])
    rec = 12 + CHUNK + 16
    body = raw[len(header) :]
    return header, [bytes(body[i : i + rec]) for i in range(0, len(body), rec)]


def _flip(raw):
    raw[len(raw) // 2] ^= 1
    return raw


def _swap(raw):
    header, chunks = _chunks(raw)
    chunks[0], chunks[1] = chunks[1], chunks[0]
    return header + b"".join(chunks)


def _drop_middle(raw):
    header, chunks = _chunks(raw)
    return header + b"".join(chunks[:1] + chunks[2:])


def _drop_last(raw):
    header, chunks = _chunks(raw)
    return header + b"".join(chunks[:-1])


def _truncate(raw):
    return raw[:-5]


def _header(raw):
    raw[len(MAGIC) + 5] ^= 0xFF  # the salt
    return raw


@pytest.mark.parametrize("mutate", [_flip, _swap, _drop_middle, _drop_last, _truncate, _header])
def test_tampering_is_detected(tmp_path, mutate):
    store, name = _tampered(tmp_path, mutate)
    with pytest.raises(DecryptionError) as info, store.reader(name, "upl_1") as r:
        r.verify_all()
    assert str(info.value) == "decryption failed"
    with pytest.raises(DecryptionError), store.reader(name, "upl_1") as r:
        r.read_all()


def test_wrong_key_or_blob_id_fails(tmp_path):
    store = _store(tmp_path)
    name = _put(store, b"x" * 10_000)
    other = BlobStore(store.root, secrets.token_bytes(32), chunk_size=CHUNK)
    with pytest.raises(DecryptionError), other.reader(name, "upl_1") as r:
        r.read()
    # A blob moved to another upload's name does not decrypt under that id.
    os.replace(store.path(name), store.path(store.blob_name("prj_1", "upl_2")))
    with pytest.raises(DecryptionError), store.reader(store.blob_name("prj_1", "upl_2"),
                                                      "upl_2") as r:
        r.read()


def test_uncommitted_writer_leaves_nothing(tmp_path):
    store = _store(tmp_path)
    with store.writer("prj_1", "upl_9") as w:
        w.write(b"abc" * 1000)
    assert not list((store.root / ".incoming").iterdir())
    assert not store.path(store.blob_name("prj_1", "upl_9")).exists()


def test_ids_cannot_escape_the_store(tmp_path):
    store = _store(tmp_path)
    with pytest.raises(ValueError):
        store.blob_name("../x", "upl_1")
    with pytest.raises(ValueError):
        store.path("prj_1/../../etc.blob")
