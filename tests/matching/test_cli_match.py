"""``linkage match``, ``evaluate`` and ``suggest-threshold`` on small encoded files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from linkage.cli import app
from linkage.cli.match_cmds import party_name
from linkage.format import EncodedFileWriter, FileMetadata
from linkage.matching.simulate import simulate_parties

FINGERPRINT = "ab" * 32


def metadata(fingerprint: str = FINGERPRINT, key_id: str = "key-1", bits: int = 1024):
    return FileMetadata(schema_fingerprint=fingerprint, key_id=key_id, filter_bits=bits,
                        max_variants=2, encoder_version="test")


@pytest.fixture
def files(tmp_path):
    sim = simulate_parties(300, ["agency_a", "agency_b", "agency_c"], coverage=0.7,
                           alias_rate=0.2, flip=(0.01, 0.04), seed=3)
    paths = []
    for name, data in sim.parties.items():
        path = tmp_path / f"{name}.clk.parquet"
        with EncodedFileWriter(path, metadata()) as w:
            w.write(data)
        paths.append(path)
    truth = tmp_path / "truth.csv"
    sim.truth.rename(columns={"party": "agency", "ref": "record_id"}).to_csv(truth, index=False)
    return paths, truth, sim


runner = CliRunner()


def test_match_writes_one_row_per_member(files, tmp_path):
    paths, _, sim = files
    out = tmp_path / "matches.parquet"
    res = runner.invoke(app, ["match", *map(str, paths), "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(out)
    assert list(df.columns) == ["match_id", "decision", "party", "ref", "score", "cluster_size"]
    assert set(df["party"]) == {"agency_a", "agency_b", "agency_c"}
    assert set(df["decision"]) <= {"match", "possible"}
    sizes = df.groupby("match_id").size()
    assert (df.set_index("match_id")["cluster_size"].groupby(level=0).first() == sizes).all()
    # at most one record per agency in a group, and the members are the same person
    truth = sim.truth.set_index(["party", "ref"])["entity_id"]
    matched = df[df["decision"] == "match"]
    assert not matched.duplicated(["match_id", "party"]).any()
    entity = [truth[(p, r)] for p, r in zip(matched["party"], matched["ref"], strict=True)]
    assert (matched.assign(e=entity).groupby("match_id")["e"].nunique() == 1).mean() > 0.99
    assert "candidate pairs" in res.output and "wrote" in res.output


def test_match_csv_output_and_party_names(files, tmp_path):
    paths, _, _ = files
    out = tmp_path / "m.csv"
    res = runner.invoke(app, ["match", str(paths[0]), str(paths[1]), "--out", str(out),
                              "--party", "x", "--party", "y", "--solver", "optimal",
                              "--no-possible"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert set(df["party"]) == {"x", "y"} and set(df["decision"]) == {"match"}


@pytest.mark.parametrize(("change", "label"), [
    ({"fingerprint": "cd" * 32}, "schema fingerprint"),
    ({"key_id": "key-2"}, "key id"),
    ({"bits": 512}, "filter length"),
])
def test_incompatible_files_are_refused_naming_both(files, tmp_path, change, label):
    paths, _, _ = files
    odd = tmp_path / "odd_agency.clk.parquet"
    bits = change.get("bits", 1024)
    data = simulate_parties(5, ["z"], bits=bits, seed=1).parties["z"]
    with EncodedFileWriter(odd, metadata(**change)) as w:
        w.write(data)
    out = tmp_path / "never.parquet"
    res = runner.invoke(app, ["match", str(paths[0]), str(odd), "--out", str(out)])
    assert res.exit_code == 1
    assert label in res.output
    assert str(paths[0]) in res.output.replace("\n", "") or paths[0].name in res.output
    assert "odd_agency.clk.parquet" in res.output.replace("\n", "")
    assert not out.exists()


def test_evaluate_reports_quality_and_blocking(files, tmp_path):
    paths, truth, _ = files
    res = runner.invoke(app, ["evaluate", *map(str, paths), "--truth", str(truth)],
                        terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "precision" in res.output and "pair completeness" in res.output
    # against a matches file alone
    out = tmp_path / "m.parquet"
    assert runner.invoke(app, ["match", *map(str, paths), "--out", str(out)]).exit_code == 0
    res = runner.invoke(app, ["evaluate", "--matches", str(out), "--truth", str(truth)],
                        terminal_width=200)
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if line.strip().startswith("│ match "))
    precision, recall = (float(x) for x in row.split("│")[2:4])
    assert precision > 0.99 and recall > 0.9


def test_suggest_threshold_prints_estimates(files):
    paths, _, _ = files
    res = runner.invoke(app, ["suggest-threshold", *map(str, paths)], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "est. precision" in res.output


def test_party_name_is_the_stem_before_clk(tmp_path):
    assert party_name(tmp_path / "agency_a.clk.parquet") == "agency_a"
    assert party_name(tmp_path / "b.clk.ndjson") == "b"
    assert party_name(tmp_path / "c.parquet") == "c"


def test_one_file_is_not_enough(files, tmp_path):
    paths, _, _ = files
    res = runner.invoke(app, ["match", str(paths[0]), "--out", str(tmp_path / "x.parquet")])
    assert res.exit_code != 0


def test_duplicate_party_names_are_refused(files, tmp_path):
    paths, _, _ = files
    res = runner.invoke(app, ["match", str(paths[0]), str(paths[0]),
                              "--out", str(tmp_path / "x.parquet")])
    assert res.exit_code != 0
    assert "party names must differ" in res.output


def test_variants_survive_the_file_round_trip(files):
    paths, _, sim = files
    from linkage.format import read_encoded

    _, data = read_encoded(paths[0])
    assert np.array_equal(data.clk, sim.parties["agency_a"].clk)


def test_oversized_bucket_policy_is_an_option(files, tmp_path):
    """A tiny --max-bucket makes LSH buckets oversized: refined by default, dropped with
    --oversized skip (fewer candidates, and the summary says so)."""
    paths, _, _ = files
    outs = {}
    for policy in ("nearest", "skip"):
        out = tmp_path / f"{policy}.parquet"
        res = runner.invoke(app, ["match", *map(str, paths[:2]), "--out", str(out),
                                  "--blocking", "lsh", "--lsh-rows", "8", "--max-bucket", "2",
                                  "--oversized", policy, "--nearest-k", "2"])
        assert res.exit_code == 0, res.output
        outs[policy] = res.output
    assert "oversized buckets refined" in outs["nearest"]
    refined = next(line for line in outs["nearest"].splitlines() if "buckets refined" in line)
    skipped = next(line for line in outs["skip"].splitlines() if "buckets skipped" in line)
    assert not refined.split("refined")[1].strip().startswith("0 ")
    assert not skipped.split("skipped")[1].strip().startswith("0 ")


def test_unknown_oversized_policy_is_a_usage_error(files, tmp_path):
    paths, _, _ = files
    res = runner.invoke(app, ["match", *map(str, paths[:2]), "--out", str(tmp_path / "m.csv"),
                              "--oversized", "sometimes"])
    assert res.exit_code == 2 and "Traceback" not in res.output
