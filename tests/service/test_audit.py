"""The hash-chained audit trail: intact chains verify; edits, deletions, insertions and
reordering are detected and the first broken entry is named; concurrent appends stay one
chain on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from service import audit
from service.db.migrate import upgrade
from service.db.models import AuditEntry
from service.db.session import Database


@pytest.fixture
def db(db_url, tmp_path):
    database = Database(db_url)
    upgrade(database)
    yield database
    database.dispose()


def _fill(db: Database, n: int = 6) -> None:
    for i in range(n):
        with db.transaction() as s:
            audit.record(s, audit.Actor("agency", f"agency-{i % 2}"), "upload.received",
                         f"upload upl_{i}", project_id="prj_1", detail={"records": i})


def _verify(db: Database) -> audit.VerifyResult:
    with db.session() as s:
        return audit.verify(s)


def _exec(db: Database, sql: str, **params) -> None:
    with db.transaction() as s:
        s.execute(text(sql), params)


def test_intact_chain_verifies(db):
    assert _verify(db).ok and _verify(db).entries == 0
    _fill(db)
    result = _verify(db)
    assert result.ok and result.entries == 6 and result.head_seq == 6
    with db.session() as s:
        rows = s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(rows))
    assert rows[-1].entry_hash == result.head_hash


def test_rolled_back_action_leaves_no_entry(db):
    with pytest.raises(RuntimeError), db.transaction() as s:
        audit.record(s, audit.SYSTEM, "run.started", "run x")
        raise RuntimeError("the action failed")
    assert _verify(db).ok and _verify(db).entries == 0


def test_edited_entry_is_detected(db):
    _fill(db)
    _exec(db, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 3")
    r = _verify(db)
    assert not r.ok and r.first_broken == 3 and "altered" in r.reason


def test_edit_with_recomputed_hash_breaks_the_next_link(db):
    _fill(db)
    with db.transaction() as s:
        e = s.get(AuditEntry, 3)
        e.actor_name = "someone-else"
        e.entry_hash = audit.entry_hash(e.prev_hash, audit._entry_content(e))
    r = _verify(db)
    assert not r.ok and r.first_broken == 4


def test_deleted_entry_is_detected(db):
    _fill(db)
    _exec(db, "DELETE FROM audit_log WHERE seq = 4")
    r = _verify(db)
    assert not r.ok and r.first_broken == 4 and "missing" in r.reason


def test_deleted_last_entry_is_detected(db):
    _fill(db)
    _exec(db, "DELETE FROM audit_log WHERE seq = 6")
    r = _verify(db)
    assert not r.ok and r.first_broken == 6 and r.entries == 5


def test_reordered_entries_are_detected(db):
    _fill(db)
    # Swap the sequence numbers of entries 2 and 3 (through a free number).
    _exec(db, "UPDATE audit_log SET seq = 1000 WHERE seq = 2")
    _exec(db, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    _exec(db, "UPDATE audit_log SET seq = 3 WHERE seq = 1000")
    r = _verify(db)
    assert not r.ok and r.first_broken == 2


def test_inserted_entry_is_detected(db):
    _fill(db, 3)
    with db.transaction() as s:
        head = s.get(AuditEntry, 3)
        content = audit.canonical_content(
            seq=4, at=head.at, actor_role="operator", actor_name="x", action="project.created",
            object="project p", outcome="success", project_id=None, detail=None)
        s.add(AuditEntry(seq=4, at=head.at, actor_role="operator", actor_name="x",
                         action="project.created", object="project p", outcome="success",
                         project_id=None, detail=None, prev_hash=head.entry_hash,
                         entry_hash=audit.entry_hash(head.entry_hash, content)))
    r = _verify(db)  # a well-formed extra entry still disagrees with the chain head
    assert not r.ok and r.first_broken == 4


def test_concurrent_appends_form_one_chain(db):
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(15):
                with db.transaction() as s:
                    audit.record(s, audit.Actor("agency", f"a{k}"), "results.read", f"run {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    r = _verify(db)
    assert r.ok and r.entries == 120


def test_cli_verify(db, db_url, tmp_path, monkeypatch):
    from service.cli import app

    _fill(db)
    monkeypatch.setenv("LINKAGE_SERVICE_DATABASE_URL", db_url)
    monkeypatch.setenv("LINKAGE_SERVICE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact: 6 entries" in ok.output
    _exec(db, "UPDATE audit_log SET object = 'upload upl_x' WHERE seq = 2")
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "broken at entry 2" in bad.output
