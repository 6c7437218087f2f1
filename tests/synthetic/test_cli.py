"""The command line writes the files it says, with the requested settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from synthetic_data import preset, read_dataset
from synthetic_data.cli import main


def test_cli_writes_agencies_truth_and_manifest(tmp_path: Path) -> None:
    code = main(["--agencies", "4", "--people", "500", "--overlap", "0.3", "--seed", "7",
                 "--out", str(tmp_path), "--quiet", "--workers", "1"])
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["agency_a.csv", "agency_b.csv", "agency_c.csv", "agency_d.csv",
                     "manifest.json", "truth.csv"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["people"] == 500
    assert manifest["config"]["overlap"] == 0.3
    data = read_dataset(tmp_path)
    assert data.truth["entity_id"].nunique() == 500
    assert sum(manifest["records"].values()) == len(data.truth)


def test_cli_preset_parquet_and_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"people": 300, "duplicate_rate": 0.0,
                                  "corruption": {"typo": 0.5}}))
    out = tmp_path / "out"
    assert main(["--preset", "demo", "--config", str(config), "--format", "parquet",
                 "--log-corruptions", "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["people"] == 300
    assert manifest["config"]["overlap"] == preset("demo").overlap
    assert manifest["config"]["corruption"]["typo"] == 0.5
    log = pd.read_parquet(out / "corruptions.parquet")
    assert log["corruptions"].str.contains("typo:").mean() > 0.4
    truth = pd.read_parquet(out / "truth.parquet")
    assert not truth.duplicated(["agency", "entity_id"]).any()  # no duplicates asked


def test_cli_refuses_bad_settings(tmp_path: Path) -> None:
    assert main(["--overlap", "2", "--out", str(tmp_path), "--quiet"]) == 2
    assert not list(tmp_path.iterdir())


def test_python_dash_m_shows_progress(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "synthetic_data", "--preset", "demo", "--people", "200",
         "--out", str(tmp_path), "--workers", "1"],
        capture_output=True, text=True, check=True)
    assert "records" in run.stderr and "agency_a" in run.stderr
    assert (tmp_path / "agency_c.csv").exists()


def test_config_round_trips_through_json() -> None:
    import dataclasses

    from synthetic_data import (
        GeneratorConfig,
        MissingRates,
        config_from_dict,
        config_to_dict,
        default_agencies,
    )

    agencies = default_agencies(5)
    agencies = (dataclasses.replace(agencies[0], missing=MissingRates(phone=0.9), share=2.0),
                *agencies[1:])
    config = GeneratorConfig(people=123, agencies=agencies, overlap=0.4,
                             cultures={"RU": 1.0, "CN": 2.0})
    assert config_from_dict(json.loads(json.dumps(config_to_dict(config)))) == config
