"""The end-to-end demo: three agencies, one central service, one DPO, on embedded defaults.

    linkage-service demo [--out demo-output] [--people 600] [--seed 7] [--serve]

Every role runs as its own program, exactly as in production:

1. ``python -m synthetic_data`` writes records of three agencies in different countries
   (overlapping people in several scripts and spellings) and the ground truth;
2. each agency runs the ``linkage`` CLI locally: one shared ``keygen``, ``schema init``,
   ``encode`` (plaintext and key stay in the agency's folder);
3. the central service starts in this process on SQLite over loopback; the operator creates
   the project and credentials over HTTP;
4. each agency runs ``linkage upload``, one starts the run (``linkage run start --wait``),
   each downloads its own results (``linkage results``);
5. the DPO's report is downloaded from the DPO pages;
6. a summary: matches per agency pair, and precision/recall against the ground truth
   (computed here from the agencies' local reference maps - the only step that needs
   the agencies' side and the truth together, as an evaluation and never in production).

This module imports nothing from the plaintext zone: the agency side runs as subprocesses.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
from rich.console import Console
from rich.table import Table

from linkage.format import read_metadata

__all__ = ["DemoSummary", "run_demo"]

console = Console()


@dataclass(frozen=True)
class DemoSummary:
    precision: float
    recall: float
    f1: float
    predicted_pairs: int
    true_pairs: int
    report_path: Path
    service_url: str


def _run(cmd: list[str], *, env: dict[str, str] | None = None, quiet: bool = False) -> str:
    shown = " ".join(c if not c.startswith("lk_") else "<token>" for c in cmd)
    console.print(f"[dim]$ {shown}[/dim]", highlight=False)
    result = subprocess.run(cmd, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL if quiet else None, check=False)
    if result.returncode != 0:
        raise SystemExit(f"demo step failed ({result.returncode}): {shown}")
    return result.stdout


def _linkage(*args: str, env: dict[str, str] | None = None) -> str:
    exe = shutil.which("linkage") or str(Path(sys.executable).with_name("linkage"))
    return _run([exe, *args], env=env)


def _generate(out: Path, people: int, seed: int) -> dict:
    _run([sys.executable, "-m", "synthetic_data", "--preset", "demo", "--people", str(people),
          "--agencies", "3", "--seed", str(seed), "--out", str(out), "--format", "csv"])
    import json

    return json.loads((out / "manifest.json").read_text())


def _encode_agencies(root: Path, manifest: dict) -> dict[str, Path]:
    """Each agency encodes in its own folder with the shared key and schema."""
    shared = root / "shared-secret"
    shared.mkdir()
    _linkage("keygen", "--out", str(shared / "project.key"))
    _linkage("schema", "init", "--out", str(shared / "schema.json"))
    encoded = {}
    conventions = {a["name"]: a.get("date_format", "") for a in manifest["config"]["agencies"]}
    for agency in manifest["records"]:
        home = root / "agencies" / agency
        home.mkdir(parents=True)
        src = root / "data" / manifest["files"][agency]
        out = home / f"{agency}.clk.parquet"
        _linkage("encode", "--schema", str(shared / "schema.json"), "--key",
                 str(shared / "project.key"), "--input", str(src), "--output", str(out),
                 "--reference-map", str(home / "references.csv"), "--on-error", "skip",
                 # each analyst knows how their own agency writes dates
                 "--date-order", "month_first" if conventions[agency].startswith("mdy") else "day_first")
        encoded[agency] = out
    return encoded


def _operator_setup(url: str, operator_token: str, encoded: dict[str, Path],
                    schema_path: Path) -> tuple[str, dict]:
    md = read_metadata(next(iter(encoded.values())))
    # The schema is public (no secret): the operator passes it so the DPO report can show
    # its hardening, filter, field weights and blocking keys.
    linkage_schema = json.loads(schema_path.read_text(encoding="utf-8"))
    headers = {"Authorization": f"Bearer {operator_token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        project = http.post("/api/v1/projects", json={
            "name": "Demo: cross-border trafficking cases",
            "schema_fingerprint": md.schema_fingerprint,
            "key_id": md.key_id,
            "filter_bits": md.filter_bits,
            "agencies": [{"name": a} for a in encoded],
            "dpos": ["dpo"],
            "linkage_schema": linkage_schema,
        })
        project.raise_for_status()
        tokens = {}
        for role, subject in [*(("agency", a) for a in encoded), ("dpo", "dpo")]:
            r = http.post("/api/v1/credentials", json={"role": role, "subject": subject})
            r.raise_for_status()
            tokens[subject] = r.json()["token"]
    return project.json()["id"], tokens


def _agency_env(url: str, token: str) -> dict[str, str]:
    return {**os.environ, "LINKAGE_URL": url, "LINKAGE_TOKEN": token}


def _agency_round(url: str, project: str, tokens: dict, encoded: dict[str, Path]) -> None:
    for agency, path in encoded.items():
        _linkage("upload", project, str(path), "--no-progress", env=_agency_env(url, tokens[agency]))
    first = next(iter(encoded))
    _linkage("run", "start", project, "--wait", env=_agency_env(url, tokens[first]))
    for agency, path in encoded.items():
        _linkage("results", project, "--output", str(path.parent / "results.csv"),
                 env=_agency_env(url, tokens[agency]))


def _dpo_report(url: str, token: str, project: str, out: Path) -> Path:
    with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as http:
        http.post("/dpo/signin", data={"token": token}).raise_for_status()
        runs = http.get(f"/dpo/projects/{project}")
        runs.raise_for_status()
        api = httpx.get(f"{url}/api/v1/projects/{project}/runs",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)
        run_id = api.json()[0]["id"] if api.status_code == 200 and api.json() else "latest"
        report = http.get(f"/dpo/projects/{project}/runs/{run_id}/report.html")
        report.raise_for_status()
    out.write_bytes(report.content)
    return out


def _evaluate(root: Path, manifest: dict, encoded: dict[str, Path]) -> tuple[DemoSummary, Table]:
    truth = pd.read_csv(root / "data" / manifest["files"]["truth"], dtype=str)
    rows = []
    for agency, path in encoded.items():
        refs = pd.read_csv(path.parent / "references.csv", dtype=str)
        res = pd.read_csv(path.parent / "results.csv", dtype=str)
        merged = res.merge(refs, left_on="record_ref", right_on="ref")
        merged["agency"] = agency
        rows.append(merged[["agency", "record_id", "match_id", "decision"]])
    results = pd.concat(rows)
    matched = results[results.decision == "match"]
    predicted = set()
    for _, group in matched.groupby("match_id"):
        members = sorted(zip(group.agency, group.record_id, strict=True))
        predicted |= {(a, b) for a, b in itertools.combinations(members, 2) if a[0] != b[0]}
    true = set()
    for _, group in truth.groupby("entity_id"):
        members = sorted(zip(group.agency, group.record_id, strict=True))
        true |= {(a, b) for a, b in itertools.combinations(members, 2) if a[0] != b[0]}
    tp = len(predicted & true)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    table = Table(title="Matches per agency pair (decision = match)")
    for col in ("agency pair", "predicted", "true", "correct"):
        table.add_column(col)
    for a, b in itertools.combinations(sorted(encoded), 2):
        pp = {p for p in predicted if {p[0][0], p[1][0]} == {a, b}}
        tt = {p for p in true if {p[0][0], p[1][0]} == {a, b}}
        table.add_row(f"{a} - {b}", str(len(pp)), str(len(tt)), str(len(pp & tt)))
    summary = DemoSummary(precision, recall, f1, len(predicted), len(true), Path(), "")
    return summary, table


def run_demo(out: Path, *, people: int = 600, seed: int = 7, serve: bool = False) -> DemoSummary:
    from service.auth import issue_credential
    from service.server import start_server
    from service.settings import Settings

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    console.rule("1. synthetic records for three agencies")
    manifest = _generate(out / "data", people, seed)
    console.rule("2. each agency encodes locally with the shared key")
    encoded = _encode_agencies(out, manifest)
    console.rule("3. central service (SQLite, loopback) and operator set-up")
    settings = Settings(data_dir=out / "service")
    server = start_server(settings)
    try:
        from service.app import open_state

        state = open_state(settings)
        try:
            with state.db.transaction() as s:
                _, operator_token = issue_credential(s, role="operator", subject="operator",
                                                     label="demo", days=1, created_by="demo")
        finally:
            state.db.dispose()
        url = server.url
        project, tokens = _operator_setup(url, operator_token, encoded,
                                          out / "shared-secret" / "schema.json")
        console.rule("4. uploads, match run and each agency's own results")
        _agency_round(url, project, tokens, encoded)
        console.rule("5. DPO report")
        report = _dpo_report(url, tokens["dpo"], project, out / "dpo-report.html")
        summary, table = _evaluate(out, manifest, encoded)
        summary = DemoSummary(summary.precision, summary.recall, summary.f1,
                              summary.predicted_pairs, summary.true_pairs, report, url)
        console.rule("6. summary")
        console.print(table)
        console.print(
            f"cross-agency pairs: predicted {summary.predicted_pairs}, true {summary.true_pairs}; "
            f"precision {summary.precision:.3f}, recall {summary.recall:.3f}, F1 {summary.f1:.3f}"
        )
        console.print(f"DPO report (self-contained HTML): {report}")
        console.print(f"each agency's results: {out / 'agencies' / '<agency>' / 'results.csv'}")
        console.print(f"demo finished in {time.perf_counter() - started:.0f} s")
        if serve:
            console.print(f"service at {url}/dpo (DPO token: see {out / 'dpo.token'}); Ctrl-C stops")
            (out / "dpo.token").write_text(tokens["dpo"] + "\n")
            os.chmod(out / "dpo.token", 0o600)
            while True:
                time.sleep(3600)
        return summary
    finally:
        server.stop()
