"""Background match runs.

Run state lives in the database (``runs`` table); ``RunManager`` is the worker: a thread
that claims queued runs, links the uploads recorded in the run's input snapshot with
``linkage.matching.link`` and stores the per-agency results.

* Progress (stage, percent, comparisons, estimated time left) is written at most twice a
  second; a separate heartbeat thread stamps ``heartbeat_at`` every
  ``run_heartbeat_seconds`` and picks up cancellation requests made through the database.
* Cancellation: ``link``'s ``cancelled()`` callback checks an event set by the cancel
  endpoint (same process) or by the heartbeat (another process).
* Interruption: a run whose heartbeat is older than ``run_stale_after_seconds``, or whose
  worker process on this host no longer exists, is re-queued (resumed from the start with
  the same inputs and settings) while attempts are left and its uploads are intact, else
  marked failed and restartable. A graceful shutdown re-queues its run at once. So no run
  stays "running" after a restart.
* Reproducibility: the input snapshot fixes the upload of each agency and the config; the
  engine is deterministic, so the same uploads and settings give the same groups and ids.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from linkage.errors import DecryptionError, LinkageError
from linkage.format import EncodedData, FileMetadata, check_compatible
from linkage.matching import LinkCancelled, LinkProgress, LinkResult, MatchConfig, link
from service import audit
from service.db.models import Run, RunResult, Upload, utcnow
from service.db.session import Database
from service.settings import Settings
from service.storage import BlobStore
from service.uploads import load_encoded, purge_expired

__all__ = ["STAGE_RANGES", "RunManager", "new_run_id"]

log = logging.getLogger("service.runs")

# Share of the whole run (percent) covered by each stage.
STAGE_RANGES = {
    "loading": (0.0, 5.0),
    "blocking": (5.0, 20.0),
    "scoring": (20.0, 90.0),
    "solving": (90.0, 95.0),
    "saving": (95.0, 100.0),
}
_PROGRESS_INTERVAL = 0.5
# Worker ids with a live worker thread in this process (several apps may share a process).
_LIVE_WORKERS: set[str] = set()
_RESULT_BATCH = 50_000
# How often the worker loop erases uploads past their deletion date (retention).
RETENTION_CHECK_SECONDS = 60.0


def new_run_id() -> str:
    return f"run_{secrets.token_hex(10)}"


class _InputsGone(LinkageError):
    pass


class _Lost(Exception):
    """This worker no longer owns the run (taken over, or the project was deleted)."""


def _percent(stage: str, done: int, total: int) -> float:
    lo, hi = STAGE_RANGES.get(stage, (0.0, 100.0))
    frac = min(1.0, done / total) if total > 0 else 0.0
    return round(lo + (hi - lo) * frac, 2)


class RunManager:
    """The in-process run worker (one thread) plus the recovery of interrupted runs."""

    def __init__(self, db: Database, store: BlobStore, settings: Settings):
        self.db = db
        self.store = store
        self.settings = settings
        self.host = socket.gethostname()
        self.worker_id = f"{self.host}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cancel: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_purge = float("-inf")

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        _LIVE_WORKERS.add(self.worker_id)
        self._thread = threading.Thread(target=self._loop, name="linkage-run-worker",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        _LIVE_WORKERS.discard(self.worker_id)

    def wake(self) -> None:
        self._wake.set()

    def request_cancel(self, run_id: str) -> None:
        with self._lock:
            ev = self._cancel.get(run_id)
        if ev is not None:
            ev.set()

    def run_forever(self) -> None:
        """Run the worker loop in the calling thread (``linkage-service worker``)."""
        _LIVE_WORKERS.add(self.worker_id)
        try:
            self._loop()
        finally:
            _LIVE_WORKERS.discard(self.worker_id)

    # -- loop -----------------------------------------------------------------------------

    def purge_expired(self) -> int:
        """Erase uploads past their deletion date (the project's retention)."""
        self._last_purge = time.monotonic()
        return purge_expired(self.db, self.store)

    def _loop(self) -> None:
        while not self._stop.is_set():
            run_id = None
            try:
                if time.monotonic() - self._last_purge >= RETENTION_CHECK_SECONDS:
                    self.purge_expired()
                self.recover_interrupted()
                run_id = self._claim()
            except Exception:
                log.exception("run worker: database error")
            if run_id is not None:
                self._execute(run_id)
                continue
            self._wake.wait(self.settings.run_poll_seconds)
            self._wake.clear()

    def _claim(self) -> str | None:
        with self.db.transaction() as s:
            run_id = s.execute(
                select(Run.id).where(Run.status == "queued").order_by(Run.created_at).limit(1)
            ).scalar_one_or_none()
            if run_id is None:
                return None
            now = utcnow()
            res = s.execute(
                update(Run).where(Run.id == run_id, Run.status == "queued").values(
                    status="running", worker_id=self.worker_id, heartbeat_at=now,
                    started_at=now, attempts=Run.attempts + 1, stage="loading", percent=0.0,
                    done=0, total=0, comparisons=0, eta_seconds=None, error=None)
            )
            return run_id if res.rowcount == 1 else None

    # -- recovery -------------------------------------------------------------------------

    def _worker_gone(self, worker_id: str | None) -> bool:
        """True when the run's worker was a process on this host that no longer runs (or an
        earlier worker of this very process)."""
        if not worker_id:
            return True
        host, _, rest = worker_id.partition(":")
        pid_s, _, _ = rest.partition(":")
        if host != self.host or not pid_s.isdigit():
            return False
        if worker_id == self.worker_id:
            return False
        pid = int(pid_s)
        if pid == os.getpid():
            return worker_id not in _LIVE_WORKERS
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def recover_interrupted(self) -> int:
        """Re-queue or fail runs left "running" by a worker that stopped. Returns how many."""
        stale_before = utcnow() - timedelta(seconds=self.settings.run_stale_after_seconds)
        with self.db.read_session() as s:
            rows = s.execute(
                select(Run.id, Run.worker_id, Run.heartbeat_at).where(Run.status == "running")
            ).all()
            s.commit()
        count = 0
        for run_id, worker_id, heartbeat in rows:
            if worker_id == self.worker_id:
                continue
            stale = heartbeat is None or heartbeat < stale_before
            if stale or self._worker_gone(worker_id):
                count += self._recover(run_id, worker_id, heartbeat)
        return count

    def _recover(self, run_id: str, worker_id: str | None, heartbeat: datetime | None) -> int:
        with self.db.transaction() as s:
            run = s.execute(
                select(Run).where(Run.id == run_id, Run.status == "running").with_for_update()
            ).scalar_one_or_none()
            if run is None or run.worker_id != worker_id or run.heartbeat_at != heartbeat:
                return 0  # someone else recovered it, or it is alive after all
            intact = self._inputs_intact(s, run)
            resume = (self.settings.run_resume_interrupted and intact
                      and run.attempts < self.settings.run_max_attempts)
            s.execute(delete(RunResult).where(RunResult.run_id == run.id))
            if resume:
                _reset(run, "queued")
                audit.record(s, audit.SYSTEM, "run.resumed", f"run {run.id}", "success",
                             project_id=run.project_id, detail={"attempt": run.attempts + 1})
            else:
                reason = ("interrupted (service stopped during the run)" if intact else
                          "interrupted, and an upload of the run was replaced or deleted since")
                _finish(run, "failed", error=f"{reason}; start a new run", restartable=True)
                audit.record(s, audit.SYSTEM, "run.failed", f"run {run.id}", "failure",
                             project_id=run.project_id, detail={"reason": "interrupted"})
        log.warning("run %s was interrupted: %s", run_id, "re-queued" if resume else "failed")
        return 1

    @staticmethod
    def _inputs_intact(s: Session, run: Run) -> bool:
        ids = [v["upload_id"] for v in run.inputs.values()]
        rows = s.execute(select(Upload.id, Upload.blob_name).where(Upload.id.in_(ids))).all()
        return len(rows) == len(ids) and all(blob for _, blob in rows)

    # -- execution ------------------------------------------------------------------------

    def _execute(self, run_id: str) -> None:
        cancel = threading.Event()
        with self._lock:
            self._cancel[run_id] = cancel
        hb_stop = threading.Event()
        lost = threading.Event()
        hb = threading.Thread(target=self._heartbeat, args=(run_id, cancel, lost, hb_stop),
                              name=f"heartbeat-{run_id}", daemon=True)
        hb.start()
        started = time.monotonic()
        try:
            result, parties, load_seconds = self._link(run_id, cancel, started)
            if lost.is_set():
                raise _Lost
            self._save(run_id, result, parties, started, load_seconds)
        except LinkCancelled:
            if lost.is_set():
                log.warning("run %s was taken over or deleted; stopped", run_id)
            elif self._stop.is_set() and not self._user_cancelled(run_id):
                self._end(run_id, "queued", action="run.interrupted", outcome="requeued",
                          detail={"reason": "service shutdown"})
            else:
                self._end(run_id, "cancelled", action="run.cancelled", outcome="success",
                          restartable=True)
        except _Lost:
            log.warning("run %s was taken over or deleted; stopped", run_id)
        except _InputsGone as exc:
            self._end(run_id, "failed", error=str(exc), action="run.failed",
                      outcome="failure", restartable=True, detail={"reason": "inputs_gone"})
        except DecryptionError:
            self._end(run_id, "failed", error="a stored upload failed decryption (tampered or "
                      "wrong server key)", action="run.failed", outcome="failure",
                      restartable=False, detail={"reason": "decryption_failed"})
        except LinkageError as exc:
            self._end(run_id, "failed", error=str(exc)[:480], action="run.failed",
                      outcome="failure", restartable=True,
                      detail={"reason": type(exc).__name__})
        except Exception as exc:
            log.exception("run %s failed", run_id)
            self._end(run_id, "failed", error=f"internal error ({type(exc).__name__})",
                      action="run.failed", outcome="failure", restartable=True,
                      detail={"reason": type(exc).__name__})
        finally:
            hb_stop.set()
            hb.join()
            with self._lock:
                self._cancel.pop(run_id, None)

    def _user_cancelled(self, run_id: str) -> bool:
        with self.db.read_session() as s:
            flag = s.execute(select(Run.cancel_requested).where(Run.id == run_id)).scalar()
            s.commit()
        return bool(flag)

    def _heartbeat(self, run_id: str, cancel: threading.Event, lost: threading.Event,
                   stop: threading.Event) -> None:
        while not stop.wait(self.settings.run_heartbeat_seconds):
            try:
                with self.db.transaction() as s:
                    res = s.execute(
                        update(Run).where(Run.id == run_id, Run.worker_id == self.worker_id,
                                          Run.status == "running")
                        .values(heartbeat_at=utcnow())
                    )
                    flag = s.execute(select(Run.cancel_requested).where(Run.id == run_id)).scalar()
                if res.rowcount != 1:
                    lost.set()
                    cancel.set()
                    return
                if flag:
                    cancel.set()
            except Exception:
                log.exception("run %s: heartbeat failed", run_id)

    def _link(self, run_id: str, cancel: threading.Event, started: float
              ) -> tuple[LinkResult, dict[str, EncodedData], float]:
        """Load the run's uploads and link them; also returns the seconds spent loading."""
        t0 = time.monotonic()
        with self.db.read_session() as s:
            run = s.get(Run, run_id)
            assert run is not None
            inputs, config_raw = dict(run.inputs), dict(run.config)
            uploads = {u.id: u for u in s.execute(
                select(Upload).where(Upload.id.in_([v["upload_id"] for v in inputs.values()]))
            ).scalars()}
            s.commit()
        reporter = _ProgressWriter(self, run_id, started)
        parties: dict[str, EncodedData] = {}
        metadata: dict[str, FileMetadata] = {}
        agencies = sorted(inputs)
        for i, agency in enumerate(agencies):
            if cancel.is_set() or self._stop.is_set():
                raise LinkCancelled("cancelled")
            up = uploads.get(inputs[agency]["upload_id"])
            if up is None or not up.blob_name:
                raise _InputsGone(f"the upload of {agency} was replaced or deleted before the "
                                  "run could load it; start a new run")
            parties[agency] = load_encoded(self.store, up.blob_name, up.id)
            metadata[agency] = FileMetadata.from_json(json.dumps(up.file_metadata),
                                                      source=f"upload {up.id}")
            reporter("loading", i + 1, len(agencies), 0, force=True)
        check_compatible(metadata)
        load_seconds = time.monotonic() - t0
        config = MatchConfig.model_validate(config_raw)
        if self.settings.run_threads is not None:
            config = config.model_copy(update={"threads": self.settings.run_threads})

        def progress(p: LinkProgress) -> None:
            reporter(p.stage, p.done, p.total, p.comparisons)

        result = link(parties, config, progress=progress,
                      cancelled=lambda: cancel.is_set() or self._stop.is_set())
        return result, parties, load_seconds

    def _save(self, run_id: str, result: LinkResult, parties: dict[str, EncodedData],
              started: float, load_seconds: float) -> None:
        t0 = time.monotonic()
        reporter = _ProgressWriter(self, run_id, started)
        rows = _result_rows(run_id, result, parties)
        with self.db.transaction() as s:
            s.execute(delete(RunResult).where(RunResult.run_id == run_id))
        for i in range(0, len(rows), _RESULT_BATCH):
            with self.db.transaction() as s:
                if not self._owned(s, run_id):
                    raise _Lost
                _insert_results(s, rows[i : i + _RESULT_BATCH])
            reporter("saving", min(len(rows), i + _RESULT_BATCH), len(rows),
                     result.comparisons)
        summary = _summary(result, parties)
        summary["result_rows"] = _count_by_agency(rows, parties)
        # The service's own stages beside the engine's (seconds).
        summary["durations"]["load"] = round(load_seconds, 4)
        summary["durations"]["save"] = round(time.monotonic() - t0, 4)
        with self.db.transaction() as s:
            run = self._owned(s, run_id)
            if run is None:
                raise _Lost
            run.comparisons = result.comparisons
            _finish(run, "succeeded")
            run.percent, run.stage, run.eta_seconds = 100.0, "done", 0.0
            run.summary = summary
            audit.record(s, audit.SYSTEM, "run.finished", f"run {run_id}", "success",
                         project_id=run.project_id,
                         detail={"groups": summary["groups"], "matches": summary["matches"],
                                 "possible_matches": summary["possible_matches"]})

    def _owned(self, s: Session, run_id: str) -> Run | None:
        return s.execute(
            select(Run).where(Run.id == run_id, Run.worker_id == self.worker_id,
                              Run.status == "running").with_for_update()
        ).scalar_one_or_none()

    def _end(self, run_id: str, status: str, *, action: str, outcome: str,
             error: str | None = None, restartable: bool = False,
             detail: dict | None = None) -> None:
        try:
            with self.db.transaction() as s:
                s.execute(delete(RunResult).where(RunResult.run_id == run_id))
                run = self._owned(s, run_id)
                if run is None:
                    return
                if status == "queued":  # graceful shutdown: not a failed attempt
                    _reset(run, "queued")
                    run.attempts = max(0, run.attempts - 1)
                else:
                    _finish(run, status, error=error, restartable=restartable)
                audit.record(s, audit.SYSTEM, action, f"run {run_id}", outcome,
                             project_id=run.project_id, detail=detail)
        except Exception:
            log.exception("run %s: could not record its end", run_id)

    # -- progress -------------------------------------------------------------------------

    def write_progress(self, run_id: str, stage: str, done: int, total: int, comparisons: int,
                       percent: float, eta: float | None) -> None:
        with self.db.transaction() as s:
            s.execute(
                update(Run).where(Run.id == run_id, Run.worker_id == self.worker_id,
                                  Run.status == "running")
                .values(stage=stage, done=done, total=total, comparisons=comparisons,
                        percent=percent, eta_seconds=eta)
            )


class _ProgressWriter:
    """Throttled progress updates with an estimate of the time left."""

    def __init__(self, manager: RunManager, run_id: str, started: float):
        self.manager = manager
        self.run_id = run_id
        self.started = started
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int, comparisons: int,
                 force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < _PROGRESS_INTERVAL:
            return
        self.last = now
        pct = _percent(stage, done, total)
        elapsed = now - self.started
        eta = round(elapsed * (100.0 - pct) / pct, 1) if pct >= 1.0 else None
        with contextlib.suppress(Exception):
            self.manager.write_progress(self.run_id, stage, int(done), int(total),
                                        int(comparisons), pct, eta)


def _reset(run: Run, status: str) -> None:
    run.status = status
    run.worker_id = None
    run.heartbeat_at = None
    run.stage = status
    run.percent = 0.0
    run.done = run.total = run.comparisons = 0
    run.eta_seconds = None


def _finish(run: Run, status: str, *, error: str | None = None, restartable: bool = False
            ) -> None:
    run.status = status
    run.finished_at = utcnow()
    run.error = error
    run.restartable = restartable
    run.eta_seconds = None
    if status != "succeeded":
        run.stage = status


_RESULT_COLUMNS = ("run_id", "agency", "position", "record_ref", "match_id", "decision",
                   "other_agencies", "score")


def _result_rows(run_id: str, result: LinkResult, parties: dict[str, EncodedData]
                 ) -> list[tuple]:
    """One row per (agency record, group), as tuples in ``_RESULT_COLUMNS`` order; an
    agency's positions follow its record order, then the match id."""
    groups = result.groups
    match_ids = [g.match_id for g in groups]
    decisions = [g.decision for g in groups]
    scores = [float(g.score) for g in groups]
    names = sorted(parties)
    index_of = {n: i for i, n in enumerate(names)}
    others_cache: dict[tuple[tuple[str, ...], str], str] = {}
    party: list[int] = []
    record: list[int] = []
    group: list[int] = []
    others: list[str] = []
    for gi, g in enumerate(groups):
        present = tuple(sorted({m.party for m in g.members}))
        for m in g.members:
            key = (present, m.party)
            text = others_cache.get(key)
            if text is None:
                text = others_cache[key] = ",".join(p for p in present if p != m.party)
            party.append(index_of[m.party])
            record.append(m.record_index)
            group.append(gi)
            others.append(text)
    party_a, record_a, group_a = (np.asarray(x, dtype=np.int64) for x in (party, record, group))
    rows: list[tuple] = []
    for i, agency in enumerate(names):
        members = np.flatnonzero(party_a == i)
        # Match ids are numbered in group order, so the group index orders them too.
        members = members[np.lexsort((group_a[members], record_a[members]))]
        refs = parties[agency].refs[record_a[members]].tolist()
        gis = group_a[members].tolist()
        rows.extend(zip(itertools.repeat(run_id), itertools.repeat(agency),
                        range(len(gis)), refs, (match_ids[g] for g in gis),
                        (decisions[g] for g in gis), (others[k] for k in members.tolist()),
                        (scores[g] for g in gis), strict=False))
    return rows


def _insert_results(session: Session, rows: list[tuple]) -> None:
    """Bulk insert at driver level (COPY on PostgreSQL, executemany on SQLite): several
    times faster than ORM or Core bulk inserts for the hundreds of thousands of rows of a
    large run."""
    conn = session.connection()
    columns = ", ".join(_RESULT_COLUMNS)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY run_results ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO run_results ({columns}) "  # noqa: S608 - constants only
           f"VALUES ({', '.join([mark] * len(_RESULT_COLUMNS))})")
    conn.exec_driver_sql(sql, rows)


def _count_by_agency(rows: list[tuple], parties: dict[str, EncodedData]) -> dict[str, int]:
    counts = dict.fromkeys(sorted(parties), 0)
    for r in rows:
        counts[r[1]] += 1
    return counts


def _summary(result: LinkResult, parties: dict[str, EncodedData]) -> dict:
    decisions = result.decisions()
    linked: dict[str, set[int]] = {a: set() for a in parties}
    for g in result.groups:
        for m in g.members:
            linked[m.party].add(m.record_index)
    hist = result.score_histogram
    sugg = result.threshold_suggestion
    return {
        "groups": len(result.groups),
        "matches": decisions.get("match", 0),
        "possible_matches": decisions.get("possible", 0),
        "records": {a: int(d.n_records) for a, d in sorted(parties.items())},
        "linked_records": {a: len(v) for a, v in sorted(linked.items())},
        "candidate_pairs": int(result.candidate_pairs),
        "comparisons": int(result.comparisons),
        "durations": {k: round(float(v), 4) for k, v in result.durations.items()},
        "threshold_suggestion": None if sugg is None else round(float(sugg.threshold), 4),
        "score_histogram": {"edges": [float(x) for x in hist.edges],
                            "counts": [int(x) for x in hist.counts]},
        "blocking": asdict(result.blocking_stats),
    }


