import os
import stat

import pytest

from linkage.errors import KeyFileError
from linkage.keys import (
    SecretKey,
    derive_project_key,
    derive_subkey,
    generate_key,
    key_id,
    load_key,
    write_key,
)


def test_round_trip_and_mode(tmp_path):
    key = generate_key()
    path = tmp_path / "project.key"
    write_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key
    assert key.raw.hex() not in repr(key)
    assert key_id(key) in repr(key)


def test_refuses_overwrite_and_group_readable(tmp_path):
    key = generate_key()
    path = tmp_path / "k"
    write_key(key, path)
    with pytest.raises(KeyFileError, match="already exists"):
        write_key(generate_key(), path)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match="group or others"):
        load_key(path)


def test_malformed_key_file(tmp_path):
    path = tmp_path / "k"
    path.write_text('{"kind": "other"}')
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="not a valid"):
        load_key(path)


def test_key_id_is_stable_and_not_the_key():
    key = SecretKey(bytes(range(32)))
    kid = key_id(key)
    assert kid.startswith("kid-") and len(kid) == 36
    assert bytes(range(32)).hex()[:16] not in kid
    assert key_id(SecretKey(bytes(range(32)))) == kid
    assert key_id(SecretKey(bytes(range(1, 33)))) != kid


def test_subkeys_differ_by_purpose_and_project():
    key = SecretKey(bytes(32))
    p1 = derive_project_key(key, "a" * 64)
    p2 = derive_project_key(key, "b" * 64)
    assert p1 != p2
    assert derive_subkey(p1, "field:name") != derive_subkey(p1, "field:sex")
    assert len(derive_subkey(p1, "x", 16)) == 16


def test_secret_key_is_not_hashable():
    with pytest.raises(TypeError):
        hash(generate_key())
