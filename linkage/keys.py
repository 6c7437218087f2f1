"""Project secrets and the subkeys derived from them (plaintext zone, agency side only).

The shared secret is 256 random bits from ``secrets``. Everything keyed is derived from it
with HKDF-SHA256 (``cryptography``), each purpose with its own ``info`` label, so that a
subkey for one field or purpose says nothing about another:

    project key  = HKDF(secret, salt=SALT, info="pprl/v1/project/" + schema fingerprint)
    purpose key  = HKDF(project key, salt=SALT, info="pprl/v1/" + purpose)

The key id is HKDF(secret, info="pprl/v1/key-id") truncated to 128 bits: a fingerprint that
lets files and the service check that agencies used the same secret without revealing it.

Nothing here caches a key: callers derive what they need for a batch and drop it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linkage.errors import KeyFileError

__all__ = [
    "KEY_BYTES",
    "SecretKey",
    "derive_project_key",
    "derive_subkey",
    "generate_key",
    "key_id",
    "load_key",
    "write_key",
]

KEY_BYTES = 32
_SALT = b"pprl-linkage key derivation v1"
_FILE_KIND = "pprl-linkage-secret"


class SecretKey:
    """A 256-bit secret. Its repr never shows the bytes."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != KEY_BYTES:
            raise KeyFileError(f"a secret key must be exactly {KEY_BYTES} bytes")
        self._raw = raw

    @property
    def raw(self) -> bytes:
        return self._raw

    def __repr__(self) -> str:
        return f"SecretKey(id={key_id(self)})"

    def __reduce__(self):  # picklable for worker processes on the same machine
        return (SecretKey, (self._raw,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and secrets.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        raise TypeError("secret keys are not hashable (they must not be used as cache keys)")


def _hkdf(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(ikm)


def generate_key() -> SecretKey:
    return SecretKey(secrets.token_bytes(KEY_BYTES))


def key_id(key: SecretKey) -> str:
    """Public fingerprint of the secret: 'kid-' + 32 hex digits (128 bits of HKDF output)."""
    return "kid-" + _hkdf(key.raw, b"pprl/v1/key-id", 16).hex()


def derive_project_key(key: SecretKey, schema_fingerprint: str) -> bytes:
    """Per-project key: binds every encoding to one schema, so encodings from two projects
    sharing a secret cannot be compared."""
    return _hkdf(key.raw, b"pprl/v1/project/" + schema_fingerprint.encode("ascii"))


def derive_subkey(project_key: bytes, purpose: str, length: int = 32) -> bytes:
    """Per-purpose subkey, e.g. ``field:name``, ``blocking:surname_year``, ``reference``."""
    return _hkdf(project_key, b"pprl/v1/" + purpose.encode("utf-8"), length)


def write_key(key: SecretKey, path: str | Path, *, overwrite: bool = False) -> None:
    """Write the key file with mode 0600, created exclusively (never widened, never replaced
    unless ``overwrite``)."""
    p = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    body = json.dumps(
        {"kind": _FILE_KIND, "version": 1, "key": base64.b64encode(key.raw).decode("ascii")}
    )
    try:
        fd = os.open(p, flags, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{p}: already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise KeyFileError(f"{p}: cannot create key file ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(body + "\n")


def load_key(path: str | Path) -> SecretKey:
    """Read a key file; refuse one that others can read (mode must not exceed 0600)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise KeyFileError(f"{p}: cannot read key file ({exc.strerror})") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{p}: key file is accessible by group or others (mode {stat.S_IMODE(st.st_mode):o});"
            " run: chmod 600 " + str(p)
        )
    try:
        doc = json.loads(p.read_text(encoding="ascii"))
        if doc.get("kind") != _FILE_KIND or doc.get("version") != 1:
            raise ValueError("unknown key file kind or version")
        raw = base64.b64decode(doc["key"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KeyFileError(f"{p}: not a valid linkage key file") from None
    return SecretKey(raw)
