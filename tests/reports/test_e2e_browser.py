"""End to end: the real service as its own process, a small linkage, and the DPO pages driven
in a real headless browser (Debian's chromium through Playwright; no browser download).

The browser runs with JavaScript disabled: the pages must work without it. The screenshot of
the report is saved as ``test-artifacts/dpo-report.png``.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _report_html import assert_self_contained, body_rows, read_html
from _report_service import run_scenario

from service.reports.model import suppress

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
REQUIRED = os.environ.get("LINKAGE_TEST_CHROMIUM")  # set by .ci/run: a missing browser fails
CHROMIUM = REQUIRED or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_or_skip():
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason, sync_playwright = "playwright is not installed (pip install -e '.[dev]')", None
    if reason is None and not os.access(CHROMIUM, os.X_OK):
        reason = f"no chromium at {CHROMIUM} (apt-get install chromium)"
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"LINKAGE_TEST_CHROMIUM is set but {reason}")
        pytest.skip(reason)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKAGE_SERVICE_")}
    env.update({
        "LINKAGE_SERVICE_DATA_DIR": str(tmp / "data"),
        "LINKAGE_SERVICE_DATABASE_URL": f"sqlite:///{tmp / 'service.db'}",
        "LINKAGE_SERVICE_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "LINKAGE_SERVICE_RUN_POLL_SECONDS": "0.05",
        "LINKAGE_SERVICE_RUN_HEARTBEAT_SECONDS": "0.2",
        "LINKAGE_SERVICE_SQLITE_SYNCHRONOUS": "NORMAL",
        "LINKAGE_SERVICE_RUN_THREADS": "1",
    })
    return env


def _settings(env):
    from service.settings import Settings

    return Settings(**{k.removeprefix("LINKAGE_SERVICE_").lower(): v for k, v in env.items()
                       if k.startswith("LINKAGE_SERVICE_")})


def _bootstrap(env) -> str:
    """Migrate the database and issue the operator's first token, as
    ``linkage-service operator create-token`` does (in-process: a second interpreter start
    costs seconds)."""
    from conftest import operator_token

    from service.app import open_state

    state = open_state(_settings(env))
    try:
        return operator_token(state)
    finally:
        state.db.dispose()


def _verify_chain(env):
    """The check ``linkage-service audit verify`` runs, on the server's database."""
    from service import audit
    from service.db.session import Database

    settings = _settings(env)
    db = Database(settings.effective_database_url, settings=settings)
    try:
        with db.session() as s:
            result = audit.verify(s)
            s.rollback()
    finally:
        db.dispose()
    return result


@pytest.fixture(scope="module")
def playwright_api():
    """Playwright's sync API, checked before the service is started."""
    return _browser_or_skip()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service (with the DPO pages) as a separate process on a loopback port."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = _env(tmp)
    operator = _bootstrap(env)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_serve_dpo.py")), str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the service exited: {proc.stderr.read()}"
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=30) as client:
            scenario = run_scenario(client, operator, tmp)
            yield url, client, scenario, env
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_dpo_reviews_a_run_in_a_real_browser(playwright_api, server, tmp_path):
    sync_playwright = playwright_api
    url, _client, sc, env = server
    summary = sc.run["summary"]
    pages: dict[str, str] = {}
    requests: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768},
                                          java_script_enabled=False, accept_downloads=True)
            context.on("request", lambda req: requests.append(req.url))
            page = context.new_page()

            # Sign in with the DPO token.
            page.goto(f"{url}/dpo")
            assert page.url == f"{url}/dpo/signin"
            pages["signin"] = page.content()
            page.get_by_label("Your DPO token").fill(sc.dpo_token)
            page.get_by_role("button", name="Sign in").click()
            assert page.url == f"{url}/dpo/projects"
            assert page.get_by_role("heading", level=1).inner_text() == "Your projects"
            pages["projects"] = page.content()
            assert "Someone else" not in pages["projects"]

            # Open the project, then the run report.
            page.get_by_role("link", name="Trafficking case review 2025").click()
            pages["project"] = page.content()
            page.get_by_role("link", name=f"Run {sc.run_id}").click()
            assert page.url == f"{url}/dpo/projects/{sc.project_id}/runs/{sc.run_id}"
            assert page.get_by_role("heading", level=1).inner_text() == "Linkage run report"

            # The figures agree with the run as the API reports it.
            assert page.get_by_test_id("matches-total").inner_text() == suppress(summary["matches"])
            assert page.get_by_test_id("possible-total").inner_text() == suppress(summary["possible_matches"])
            html = page.content()
            pages["run"] = html
            rows = body_rows(read_html(html).tables["agencies"])
            for agency, records in summary["records"].items():
                assert rows[agency][0] == suppress(records)
            assert page.locator("figure svg[role=img]").count() == 1
            assert page.locator("figure svg").bounding_box()["width"] > 500  # visible, scaled

            # Verify the audit chain with one click.
            page.get_by_role("button", name="Verify audit chain").click()
            result = page.locator("#audit-result")
            assert "Audit chain intact" in result.inner_text()
            shown = int(page.get_by_test_id("audit-result-entries").inner_text())
            pages["verified"] = page.content()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dpo-report.png"), full_page=True)

            # Download the report, then open it with every network request refused.
            with page.expect_download() as info:
                page.get_by_role("link", name="Download report (HTML)").click()
            saved = tmp_path / info.value.suggested_filename
            info.value.save_as(saved)
            exported = saved.read_text(encoding="utf-8")
            pages["export"] = exported

            offline = browser.new_context(offline=True, java_script_enabled=False)
            fetched: list[str] = []
            offline.on("request", lambda req: fetched.append(req.url))
            view = offline.new_page()
            view.goto(saved.as_uri())
            assert view.get_by_test_id("matches-total").inner_text() == suppress(summary["matches"])
            assert view.locator("svg[role=img]").count() == 1
            assert fetched == [saved.as_uri()]  # nothing but the file itself
            offline.close()
        finally:
            browser.close()

    # The chain is still intact, and longer by the entries of the views since the check.
    chain = _verify_chain(env)
    assert chain.ok and shown < chain.entries
    assert all(u.startswith(url) or u.startswith("file:") for u in requests), requests

    assert_self_contained(exported)
    assert (ARTIFACTS / "dpo-report.png").stat().st_size > 20_000
    needles = sc.refs + sc.names
    for name, html in pages.items():
        for needle in needles:
            assert needle not in html, (name, needle)
