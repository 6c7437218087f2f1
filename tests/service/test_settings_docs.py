"""Every service setting is documented in docs/service.md, and settings behave as written."""

from __future__ import annotations

import base64
import re
import stat
from pathlib import Path

import pytest

from linkage.errors import KeyFileError
from service.settings import Settings, load_master_key

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def test_every_setting_is_documented():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"LINKAGE_SERVICE_([A-Z0-9_]+)", text))
    fields = {name.upper() for name in Settings.model_fields}
    missing = sorted(fields - documented)
    assert not missing, f"settings missing from docs/service.md: {missing}"
    stale = sorted(documented - fields)
    assert not stale, f"docs/service.md documents settings that do not exist: {stale}"


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LINKAGE_SERVICE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LINKAGE_SERVICE_MAX_UPLOAD_BYTES", "1234")
    s = Settings()
    assert s.data_dir == tmp_path and s.max_upload_bytes == 1234
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'service.db'}"
    assert s.should_migrate
    assert not Settings(database_url="postgresql+psycopg://x/y").should_migrate


def test_master_key_is_generated_private_and_stable(tmp_path):
    s = Settings(data_dir=tmp_path / "d")
    key = load_master_key(s)
    path = s.effective_master_key_file
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(s) == key
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_master_key(s)


def test_master_key_from_settings(tmp_path):
    raw = bytes(range(32))
    s = Settings(data_dir=tmp_path, master_key=base64.b64encode(raw).decode())
    assert load_master_key(s) == raw
    assert not (tmp_path / "master.key").exists()
    with pytest.raises(KeyFileError):
        load_master_key(Settings(data_dir=tmp_path, master_key="c2hvcnQ="))
    with pytest.raises(KeyFileError, match="missing"):
        load_master_key(Settings(data_dir=tmp_path / "x", generate_master_key=False))
    assert "c2hvcnQ" not in repr(Settings(data_dir=tmp_path, master_key="c2hvcnQ="))
