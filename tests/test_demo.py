"""README command 1: the end-to-end demo, every role as its own program, on SQLite."""

import pandas as pd
import pytest

from service.demo import run_demo


@pytest.mark.e2e
def test_demo_links_three_agencies_end_to_end(tmp_path):
    out = tmp_path / "demo"
    summary = run_demo(out, people=150, seed=11)
    assert summary.true_pairs > 20
    assert summary.precision >= 0.95
    assert summary.recall >= 0.6
    report = summary.report_path.read_text(encoding="utf-8")
    assert "<html" in report.lower()
    # the operator passed the linkage schema: the report shows its settings
    assert "not reported to the service" not in report
    assert "fields and their weights" in report
    # the DPO report holds no record reference and no name of any agency's records
    for agency_dir in (out / "agencies").iterdir():
        refs = pd.read_csv(agency_dir / "references.csv", dtype=str)
        assert not [r for r in refs.ref if r in report]
    for data in (out / "data").glob("agency_*.csv"):
        people = pd.read_csv(data, dtype=str, keep_default_na=False)
        names = {n for n in people.family_name if len(n) >= 5}
        assert not [n for n in names if n in report]
