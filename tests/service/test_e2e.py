"""End to end against a real uvicorn server on loopback: the agency CLI (``linkage``) drives
upload, run and results, every HTTP failure becomes one clear line, and a service killed
during a run comes back with the run failed-restartable and every upload intact."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pyarrow.parquet as pq
import pytest
from _service_helpers import (
    Api,
    metadata,
    operator_token,
    party_data,
    population,
    write_file,
)
from typer.testing import CliRunner

from linkage.cli import app as linkage_cli
from service.app import open_state
from service.server import start_server

pytestmark = pytest.mark.e2e


def _cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(linkage_cli, list(args),
                                env={"COLUMNS": "250", "LINKAGE_URL": "", "LINKAGE_TOKEN": "",
                                     "LINKAGE_CONFIG": "/nonexistent/client.toml",
                                     **(env or {})})
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def live(make_settings, tmp_path):
    settings = make_settings(max_upload_bytes=200_000)
    state = open_state(settings)
    op = operator_token(state)
    state.db.dispose()
    server = start_server(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            api = Api(client)
            pid = api.project(op, agencies=("agency-a", "agency-b"))
            yield dict(server=server, api=api, op=op, pid=pid, url=server.url,
                       a=api.credential(op, "agency", "agency-a"),
                       b=api.credential(op, "agency", "agency-b"),
                       dpo=api.credential(op, "dpo", "dpo-1"))
    finally:
        server.stop()


def test_agency_workflow(live, tmp_path):
    pid, url = live["pid"], live["url"]
    pop = population(300, seed=21)
    file_a = tmp_path / "a.clk.parquet"
    file_b = tmp_path / "b.clk.ndjson"
    write_file(file_a, party_data(pop, range(0, 200), prefix="a"))
    write_file(file_b, party_data(pop, range(100, 300), prefix="b"))

    shown = _cli("project", "show", pid, "--url", url, "--token", live["a"])
    assert shown.exit_code == 0, shown.output
    assert "test-key-1" in shown.output and "agency-a, agency-b" in shown.output

    env_a = {"LINKAGE_URL": url, "LINKAGE_TOKEN": live["a"]}
    up = _cli("upload", pid, str(file_a), env=env_a)
    assert up.exit_code == 0 and "uploaded upl_" in up.output and "200 records" in up.output
    again = _cli("upload", pid, str(file_a), "--no-progress", env=env_a)
    assert again.exit_code == 0 and "already current" in again.output

    config = tmp_path / "client.toml"
    config.write_text(f'url = "{url}"\ntoken = "{live["b"]}"\n')
    config.chmod(0o644)
    loose = _cli("upload", pid, str(file_b), "--config", str(config))
    assert loose.exit_code == 1 and "chmod 600" in loose.output
    config.chmod(0o600)
    up_b = _cli("upload", pid, str(file_b), env={"LINKAGE_CONFIG": str(config)})
    assert up_b.exit_code == 0, up_b.output

    started = _cli("run", "start", pid, "--wait", env=env_a)
    assert started.exit_code == 0, started.output
    assert "succeeded" in started.output and "100 matches" in started.output
    status = _cli("run", "status", pid, env=env_a)
    assert status.exit_code == 0 and "succeeded" in status.output

    table = _cli("results", pid, "--limit", "5", env=env_a)
    assert table.exit_code == 0 and "a-000100" in table.output and "b-0" not in table.output
    out_csv, out_pq = tmp_path / "res.csv", tmp_path / "res.parquet"
    assert _cli("results", pid, "-o", str(out_csv), env=env_a).exit_code == 0
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "record_ref,match_id,decision,other_agencies" and len(lines) == 101
    assert _cli("results", pid, "-o", str(out_pq), env=env_a).exit_code == 0
    assert pq.read_table(out_pq).num_rows == 100


def test_every_http_failure_is_one_clear_line(live, tmp_path):
    pid, url = live["pid"], live["url"]
    good = tmp_path / "a.parquet"
    write_file(good, party_data(population(50, seed=2), range(50), prefix="a"))
    wrong = tmp_path / "wrong.parquet"
    write_file(wrong, party_data(population(50, seed=2), range(50), prefix="a"),
               metadata(schema_fingerprint="e" * 64))
    big = tmp_path / "big.parquet"
    write_file(big, party_data(population(2000, seed=3), range(2000), prefix="a"))
    cases = {
        "unauthorised": (["upload", pid, str(good), "--url", url, "--token",
                          live["a"][:-2] + "xx"], "unauthorised"),
        "forbidden": (["upload", pid, str(good), "--url", url, "--token", live["dpo"]],
                      "forbidden"),
        "not found": (["project", "show", "prj_nope", "--url", url, "--token", live["a"]],
                      "not found"),
        "schema mismatch": (["upload", pid, str(wrong), "--url", url, "--token", live["a"]],
                            "upload rejected (schema_mismatch)"),
        "too large": (["upload", pid, str(big), "--url", url, "--token", live["a"]],
                      "too large"),
        "no results yet": (["results", pid, "--url", url, "--token", live["a"]],
                           "not found: finished run not found"),
        "not an encoded file": (["upload", pid, str(tmp_path), "--url", url, "--token",
                                 live["a"]], "error:"),
        "no token": (["project", "show", pid, "--url", url], "no token"),
    }
    for name, (args, expected) in cases.items():
        r = _cli(*args)
        assert r.exit_code == 1, (name, r.output)
        assert expected in r.output, (name, r.output)
        assert live["a"] not in r.output and live["dpo"] not in r.output
    live["server"].stop()
    down = _cli("project", "show", pid, "--url", url, "--token", live["a"])
    assert down.exit_code == 1 and "cannot reach the service" in down.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings, port: int, **env) -> subprocess.Popen:
    full = {**os.environ,
            "LINKAGE_SERVICE_DATA_DIR": str(settings.data_dir),
            "LINKAGE_SERVICE_DATABASE_URL": settings.effective_database_url,
            "LINKAGE_SERVICE_AUTO_MIGRATE": "true",
            "LINKAGE_SERVICE_MASTER_KEY": settings.master_key.get_secret_value(),
            "LINKAGE_SERVICE_RUN_THREADS": "1",
            "LINKAGE_SERVICE_RUN_HEARTBEAT_SECONDS": "0.2",
            "LINKAGE_SERVICE_LOG_LEVEL": "warning", **env}
    proc = subprocess.Popen([sys.executable, "-c", "from service.cli import main; main()",
                             "serve", "--port", str(port)], env=full)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


@pytest.mark.slow
def test_killed_during_a_run_loses_nothing(make_settings, tmp_path):
    settings = make_settings(max_upload_bytes=100 * 1024**2)
    state = open_state(settings)
    op = operator_token(state)
    state.db.dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(settings, port)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            api = Api(client)
            # All-pairs blocking makes the run long enough to be killed while scoring.
            pid = api.project(op, matching={"blocking": {"method": "none"}})
            pop = population(7000, seed=4)
            for k, agency in enumerate(("agency-a", "agency-b")):
                raw = write_file(tmp_path / f"{agency}.parquet",
                                 party_data(pop, range(k * 1000, k * 1000 + 6000),
                                            prefix=agency[-1]))
                tok = api.credential(op, "agency", agency)
                assert api.upload(tok, pid, raw).status_code == 201
            run = api.start_run(op, pid).json()
            api.wait_run(op, pid, run["id"], until=("running",))
            deadline = time.monotonic() + 30
            while api.get(f"/projects/{pid}/runs/{run['id']}", op).json()["stage"] != "scoring":
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    proc = _serve(settings, port, LINKAGE_SERVICE_RUN_RESUME_INTERRUPTED="false")
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            api = Api(client)
            done = api.wait_run(op, pid, run["id"], timeout=30)
            assert done["status"] == "failed" and done["restartable"] is True
            assert "interrupted" in done["error"]
            report = api.get(f"/projects/{pid}/report", op).json()
            assert [(u["agency"], u["record_count"]) for u in report["uploads"]] == [
                ("agency-a", 6000), ("agency-b", 6000)]
            again = api.start_run(op, pid)
            assert again.status_code == 202
            api.post(f"/projects/{pid}/runs/{again.json()['id']}/cancel", op)
    finally:
        proc.terminate()
        proc.wait(30)
