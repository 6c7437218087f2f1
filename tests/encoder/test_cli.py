"""The agency CLI as an analyst uses it (Typer's runner on the real app)."""

import stat

from typer.testing import CliRunner

from linkage.cli import app
from linkage.format import read_metadata
from linkage.keys import key_id, load_key
from linkage.schema import default_schema

runner = CliRunner()


def test_keygen_prints_only_key_id(tmp_path):
    path = tmp_path / "project.key"
    result = runner.invoke(app, ["keygen", "--out", str(path)])
    assert result.exit_code == 0, result.output
    key = load_key(path)
    assert result.stdout.strip() == key_id(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = runner.invoke(app, ["keygen", "--out", str(path)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_schema_init_and_check(tmp_path):
    path = tmp_path / "schema.json"
    assert runner.invoke(app, ["schema", "init", "--out", str(path)]).exit_code == 0
    result = runner.invoke(app, ["schema", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert default_schema().fingerprint() in result.stdout
    assert "1024 bits" in result.stdout and "date_of_birth" in result.stdout
    path.write_text("{}")
    bad = runner.invoke(app, ["schema", "check", str(path)])
    assert bad.exit_code == 1 and "invalid linkage schema" in bad.output
    assert "Traceback" not in bad.output


def test_encode_command(tmp_path, people, key_file):
    schema = tmp_path / "schema.json"
    schema.write_text(default_schema().to_json())
    src = tmp_path / "people.csv"
    people.to_csv(src, index=False)
    out = tmp_path / "people.clk.parquet"
    args = ["encode", "--schema", str(schema), "--key", str(key_file), "--input", str(src),
            "--output", str(out), "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "encoded 5 of 5 records" in result.stdout
    assert read_metadata(out).record_count == 5
    people.loc[0, "date_of_birth"] = "not a date"
    people.to_csv(src, index=False)
    failed = runner.invoke(app, args)
    assert failed.exit_code == 1
    assert "row 1, field 'date_of_birth'" in failed.output and "not a date" not in failed.output
