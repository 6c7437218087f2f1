"""Encrypted blob store for uploaded encodings (AES-256-GCM, chunked).

Layout of a blob file::

    header  = MAGIC (8) | chunk_size (4, big endian) | salt (16)
    chunk i = nonce (12) | AES-GCM(ciphertext + tag) of at most chunk_size bytes

Each blob has its own key, HKDF-SHA256(master key, salt, info = "pprl blob v1" | blob id).
Every chunk has a fresh random nonce and is authenticated with associated data binding the
header, the blob id, the chunk index and a "final chunk" flag, so chunks cannot be
reordered, dropped, moved to another blob, or the blob truncated, without decryption
failing. All chunks but the last hold exactly chunk_size plaintext bytes; the last holds
fewer (possibly none), which makes the plaintext length computable from the file size and
the blob randomly readable (``BlobReader``), so Parquet files are parsed straight from the
encrypted blob and decrypted data exists in memory only.

Every failure that depends on the key or the ciphertext raises
``linkage.errors.DecryptionError`` with its one fixed message.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linkage.errors import DecryptionError

__all__ = ["BlobReader", "BlobStore", "BlobWriter"]

MAGIC = b"PPRLBLB1"
_SALT = 16
_NONCE = 12
_TAG = 16
_HEADER = len(MAGIC) + 4 + _SALT
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _blob_key(master_key: bytes, salt: bytes, blob_id: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                info=b"pprl blob v1|" + blob_id.encode("ascii"))
    return AESGCM(hkdf.derive(master_key))


def _aad(header: bytes, blob_id: str, index: int, final: bool) -> bytes:
    return header + blob_id.encode("ascii") + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


class BlobWriter:
    """Streams plaintext into an encrypted blob at ``tmp_path``; ``commit`` moves it into
    place atomically. Used as a context manager, an uncommitted blob is removed."""

    def __init__(self, master_key: bytes, blob_id: str, tmp_path: Path, final_path: Path,
                 chunk_size: int):
        self.blob_id = blob_id
        self.tmp_path = tmp_path
        self.final_path = final_path
        self.chunk_size = chunk_size
        salt = secrets.token_bytes(_SALT)
        self._header = MAGIC + chunk_size.to_bytes(4, "big") + salt
        self._aead = _blob_key(master_key, salt, blob_id)
        self._buf = bytearray()
        self._index = 0
        self.plaintext_bytes = 0
        tmp_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._fh: io.BufferedWriter | None = os.fdopen(fd, "wb")
        self._fh.write(self._header)
        self._closed = False

    def write(self, data: bytes) -> None:
        self.plaintext_bytes += len(data)
        self._buf += data
        while len(self._buf) >= self.chunk_size:
            # A chunk is written as non-final only once more data is known to follow, so
            # a full buffer waits for the next write (or close) to decide.
            if len(self._buf) == self.chunk_size:
                break
            self._emit(bytes(self._buf[: self.chunk_size]), final=False)
            del self._buf[: self.chunk_size]

    def _emit(self, plain: bytes, *, final: bool) -> None:
        assert self._fh is not None
        nonce = secrets.token_bytes(_NONCE)
        ct = self._aead.encrypt(nonce, plain, _aad(self._header, self.blob_id, self._index, final))
        self._fh.write(nonce)
        self._fh.write(ct)
        self._index += 1

    def close(self) -> None:
        """Write the final chunk and sync the file to disk."""
        if self._closed:
            return
        if len(self._buf) == self.chunk_size:
            self._emit(bytes(self._buf), final=False)
            self._buf.clear()
        self._emit(bytes(self._buf), final=True)
        self._buf.clear()
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        self._closed = True

    def commit(self) -> Path:
        self.close()
        self.final_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(self.tmp_path, self.final_path)
        _fsync_dir(self.final_path.parent)
        return self.final_path

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._closed = True
        self.tmp_path.unlink(missing_ok=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.tmp_path.exists():
            self.discard()


class BlobReader(io.RawIOBase):
    """A seekable, read-only file object over the plaintext of an encrypted blob.

    Only the chunk currently read is held decrypted. ``str()`` names the blob (used in
    error messages of the file parsers) and never ends in ``.ndjson``, so
    ``linkage.format`` reads it as Parquet.
    """

    def __init__(self, master_key: bytes, blob_id: str, path: Path, *, label: str | None = None):
        super().__init__()
        self.blob_id = blob_id
        self.label = label or f"upload {blob_id}"
        try:
            self._fh = open(path, "rb")  # noqa: SIM115
        except OSError:
            raise DecryptionError() from None
        try:
            self._header = self._fh.read(_HEADER)
            if len(self._header) != _HEADER or not self._header.startswith(MAGIC):
                raise DecryptionError()
            self.chunk_size = int.from_bytes(self._header[len(MAGIC) : len(MAGIC) + 4], "big")
            salt = self._header[len(MAGIC) + 4 :]
            if self.chunk_size <= 0:
                raise DecryptionError()
            self._aead = _blob_key(master_key, salt, blob_id)
            self._layout(os.fstat(self._fh.fileno()).st_size - _HEADER)
        except BaseException:
            self._fh.close()
            raise
        self._pos = 0
        self._cached_index = -1
        self._cached = b""

    def _layout(self, body: int) -> None:
        record = _NONCE + self.chunk_size + _TAG
        self.n_full = body // record
        last = body - self.n_full * record
        if last < _NONCE + _TAG:
            raise DecryptionError()
        self.size = self.n_full * self.chunk_size + (last - _NONCE - _TAG)
        self.n_chunks = self.n_full + 1

    def __str__(self) -> str:
        return self.label

    def _chunk(self, index: int) -> bytes:
        if index == self._cached_index:
            return self._cached
        record = _NONCE + self.chunk_size + _TAG
        final = index == self.n_chunks - 1
        self._fh.seek(_HEADER + index * record)
        length = record if not final else None
        raw = self._fh.read(length) if length is not None else self._fh.read()
        if len(raw) < _NONCE + _TAG:
            raise DecryptionError()
        try:
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:],
                                       _aad(self._header, self.blob_id, index, final))
        except InvalidTag:
            raise DecryptionError() from None
        self._cached_index, self._cached = index, plain
        return plain

    # -- io.RawIOBase -------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        pos = base + offset
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        written = 0
        while written < len(view) and self._pos < self.size:
            index, start = divmod(self._pos, self.chunk_size)
            chunk = self._chunk(index)
            piece = chunk[start : start + len(view) - written]
            if not piece:
                break
            view[written : written + len(piece)] = piece
            written += len(piece)
            self._pos += len(piece)
        return written

    def verify_all(self) -> None:
        """Authenticate every chunk (detects tampering anywhere, including at the end)."""
        for i in range(self.n_chunks):
            self._chunk(i)

    def read_all(self) -> bytearray:
        """The whole plaintext in one buffer (every chunk authenticated), for parsers that
        are faster on memory than on a Python file object."""
        out = bytearray(self.size)
        view = memoryview(out)
        pos = 0
        for i in range(self.n_chunks):
            piece = self._chunk(i)
            view[pos : pos + len(piece)] = piece
            pos += len(piece)
        if pos != self.size:
            raise DecryptionError()
        self._cached_index, self._cached = -1, b""
        return out

    def iter_plaintext(self):
        for i in range(self.n_chunks):
            yield self._chunk(i)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.close()
        self._cached = b""
        super().close()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class BlobStore:
    """Encrypted blobs under ``root/<project id>/<blob id>.blob``; incoming blobs under
    ``root/.incoming`` until committed."""

    def __init__(self, root: Path, master_key: bytes, *, chunk_size: int = 1024**2):
        self.root = root
        self._key = master_key
        self.chunk_size = chunk_size

    def ensure_dirs(self) -> None:
        for p in (self.root, self.root / ".incoming"):
            p.mkdir(parents=True, exist_ok=True, mode=0o700)

    @staticmethod
    def _check_id(value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("invalid blob or project id")
        return value

    def blob_name(self, project_id: str, blob_id: str) -> str:
        return f"{self._check_id(project_id)}/{self._check_id(blob_id)}.blob"

    def path(self, blob_name: str) -> Path:
        project_id, _, file = blob_name.partition("/")
        self._check_id(project_id)
        self._check_id(file.removesuffix(".blob"))
        return self.root / project_id / file

    def writer(self, project_id: str, blob_id: str) -> BlobWriter:
        name = self.blob_name(project_id, blob_id)
        tmp = self.root / ".incoming" / f"{blob_id}.{secrets.token_hex(4)}.part"
        return BlobWriter(self._key, blob_id, tmp, self.path(name), self.chunk_size)

    def open_incoming(self, writer: BlobWriter, *, label: str | None = None) -> BlobReader:
        """Read back a closed, not yet committed blob."""
        return BlobReader(self._key, writer.blob_id, writer.tmp_path, label=label)

    def reader(self, blob_name: str, blob_id: str, *, label: str | None = None) -> BlobReader:
        return BlobReader(self._key, blob_id, self.path(blob_name), label=label)

    def delete(self, blob_name: str | None) -> None:
        if blob_name:
            self.path(blob_name).unlink(missing_ok=True)

    def delete_project(self, project_id: str) -> None:
        shutil.rmtree(self.root / self._check_id(project_id), ignore_errors=True)

    def sweep_incoming(self, older_than_seconds: float) -> int:
        """Remove incoming blobs of uploads that never finished (e.g. a crash mid-upload)."""
        removed = 0
        cutoff = time.time() - older_than_seconds
        for p in (self.root / ".incoming").glob("*.part"):
            with contextlib.suppress(OSError):
                if p.stat().st_mtime < cutoff:
                    p.unlink()
                    removed += 1
        return removed

    def sweep_orphans(self, known: set[str], older_than_seconds: float) -> int:
        """Remove committed blobs no database row refers to (crash between the file move
        and the database commit)."""
        removed = 0
        cutoff = time.time() - older_than_seconds
        for p in self.root.glob("*/*.blob"):
            name = f"{p.parent.name}/{p.name}"
            with contextlib.suppress(OSError):
                if name not in known and p.stat().st_mtime < cutoff:
                    p.unlink()
                    removed += 1
        return removed
