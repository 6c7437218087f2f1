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

import asyncio
import contextlib
import itertools
import json
import logging
import operator
import os
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from linkage.errors import DecryptionError, LinkageError
from linkage.format import EncodedData, FileMetadata, check_compatible
from linkage.matching import LinkCancelled, LinkProgress, LinkResult, MatchConfig, link
from service import audit, results_store
from service.db.models import Run, RunResult, RunResultBlock, Upload, utcnow
from service.db.session import Database
from service.settings import Settings
from service.storage import BlobStore
from service.uploads import load_encoded, purge_expired

__all__ = ["STAGE_RANGES", "RunManager", "RunWatch", "new_run_id"]

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
        self._watchers: dict[str, set[RunWatch]] = {}

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

    # -- change notification (long polls of the status endpoint) ------------------------

    def watch(self, run_id: str) -> RunWatch:
        """A ticket that fires when this process changes the run's status (a run claimed,
        finished, failed, cancelled or re-queued). Take it *before* reading the run, so a
        change between the read and the wait is not missed; ``close`` it after. Changes made
        by a worker in another process are not signalled (long polls re-read on a timer)."""
        w = RunWatch(self, run_id)
        with self._lock:
            self._watchers.setdefault(run_id, set()).add(w)
        return w

    def _unwatch(self, w: RunWatch) -> None:
        with self._lock:
            ws = self._watchers.get(w.run_id)
            if ws is not None:
                ws.discard(w)
                if not ws:
                    del self._watchers[w.run_id]

    def notify(self, run_id: str) -> None:
        """Wake the long polls waiting on ``run_id`` (call after the change committed)."""
        with self._lock:
            ws = self._watchers.pop(run_id, set())
        for w in ws:
            w.fire()

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
            claimed = run_id if res.rowcount == 1 else None
        if claimed is not None:
            self.notify(claimed)
        return claimed

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
            _delete_results(s, run.id)
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
        self.notify(run_id)
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
        metadata: dict[str, FileMetadata] = {}
        blobs: dict[str, tuple[str, str]] = {}
        agencies = sorted(inputs)
        for agency in agencies:
            up = uploads.get(inputs[agency]["upload_id"])
            if up is None or not up.blob_name:
                raise _InputsGone(f"the upload of {agency} was replaced or deleted before the "
                                  "run could load it; start a new run")
            blobs[agency] = (up.blob_name, up.id)
            metadata[agency] = FileMetadata.from_json(json.dumps(up.file_metadata),
                                                      source=f"upload {up.id}")
        check_compatible(metadata)
        # Decrypting and parsing release the GIL for the most part: the uploads load in
        # parallel (about half the time of one after the other for three agencies).
        if cancel.is_set() or self._stop.is_set():
            raise LinkCancelled("cancelled")
        parties: dict[str, EncodedData] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, min(len(agencies), os.cpu_count() or 1)),
                                  thread_name_prefix=f"load-{run_id}")
        try:
            futures = {pool.submit(load_encoded, self.store, *blobs[a]): a for a in agencies}
            for future in as_completed(futures):
                if cancel.is_set() or self._stop.is_set():
                    raise LinkCancelled("cancelled")
                parties[futures[future]] = future.result()
                reporter("loading", len(parties), len(agencies), 0, force=True)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        parties = {a: parties[a] for a in agencies}
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
        """Store the results and finish the run in one transaction: the rows, the summary
        (with the aggregates the reports need) and the "succeeded" status commit together,
        so a run never shows partial results."""
        t0 = time.monotonic()
        _ProgressWriter(self, run_id, started)("saving", 0, 1, result.comparisons, force=True)
        members = _Members(result, parties)
        blocks = {agency: results_store.encode_table(table)
                  for agency, table in _result_tables(result, parties, members).items()}
        summary = _summary(result, parties, members)
        summary["result_storage"] = results_store.STORAGE
        del members
        # The service's own stages beside the engine's (seconds).
        summary["durations"]["load"] = round(load_seconds, 4)
        with self.db.transaction() as s:
            run = self._owned(s, run_id)
            if run is None:
                raise _Lost
            _delete_results(s, run_id)
            for agency, agency_blocks in blocks.items():
                results_store.insert_blocks(s, run_id, agency, agency_blocks)
            run.comparisons = result.comparisons
            _finish(run, "succeeded")
            run.percent, run.stage, run.eta_seconds = 100.0, "done", 0.0
            summary["durations"]["save"] = round(time.monotonic() - t0, 4)
            run.summary = summary
            audit.record(s, audit.SYSTEM, "run.finished", f"run {run_id}", "success",
                         project_id=run.project_id,
                         detail={"groups": summary["groups"], "matches": summary["matches"],
                                 "possible_matches": summary["possible_matches"]})
        self.notify(run_id)

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
                _delete_results(s, run_id)
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
        self.notify(run_id)

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


class RunWatch:
    """One long poll's ticket (``RunManager.watch``): ``await wait(timeout)`` returns True
    when the run changed, False on timeout. Usable from any event loop; fired from the
    worker thread."""

    def __init__(self, manager: RunManager, run_id: str):
        self.manager = manager
        self.run_id = run_id
        self._fired = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._future: asyncio.Future | None = None

    def fire(self) -> None:
        self._fired.set()
        loop, fut = self._loop, self._future
        if loop is not None and fut is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_resolve, fut)

    async def wait(self, timeout: float) -> bool:
        if self._fired.is_set():
            return True
        self._loop = asyncio.get_running_loop()
        self._future = self._loop.create_future()
        if self._fired.is_set():  # fired before the future existed
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._future), timeout)
        return self._fired.is_set()

    def close(self) -> None:
        self.manager._unwatch(self)

    def __enter__(self) -> RunWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(True)


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


class _Members:
    """The groups' members as columns: party (index into the sorted agency names), record
    index and group index, one entry per member in group order; ``present`` is the bit set
    of the agencies in each group; the groups' match ids (Arrow), decisions and scores.
    Built in one pass over the engine's group objects (C-level ``map``s, no per-member
    Python code) and shared by the result rows, the summary and the report aggregates."""

    def __init__(self, result: LinkResult, parties: dict[str, EncodedData]):
        groups = result.groups
        n_groups = len(groups)
        self.names = sorted(parties)
        index_of = {n: i for i, n in enumerate(self.names)}
        per_group = list(map(_MEMBERS, groups))
        self.sizes = np.fromiter(map(len, per_group), np.int64, n_groups)
        flat = list(itertools.chain.from_iterable(per_group))
        del per_group
        n = len(flat)
        self.party = np.fromiter(map(index_of.__getitem__, map(_PARTY, flat)), np.int64, n)
        self.record = np.fromiter(map(_RECORD, flat), np.int64, n)
        del flat
        self.group = np.repeat(np.arange(n_groups, dtype=np.int64), self.sizes)
        self.is_match = np.fromiter(map("match".__eq__, map(_DECISION, groups)), np.bool_,
                                    n_groups)
        self.scores = np.fromiter(map(_SCORE, groups), np.float64, n_groups)
        self.match_ids = pa.array(list(map(_MATCH_ID, groups)), pa.string())
        # Bit sets of agencies: uint64 while they fit, Python integers beyond 64 agencies.
        if len(self.names) <= 64:
            self.bit = np.left_shift(np.uint64(1), self.party.astype(np.uint64))
            self.present = np.zeros(n_groups, np.uint64)
            if n_groups and self.sizes.min() > 0:  # members are contiguous per group
                starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1]))
                self.present = np.bitwise_or.reduceat(self.bit, starts)
            else:
                np.bitwise_or.at(self.present, self.group, self.bit)
        else:
            self.bit = np.empty(n, dtype=object)
            self.bit[:] = [1 << p for p in self.party.tolist()]
            self.present = np.zeros(n_groups, dtype=object)
            np.bitwise_or.at(self.present, self.group, self.bit)

    def has(self, i: int) -> np.ndarray:
        """Per group: whether agency ``i`` has a record in it."""
        if self.present.dtype == object:
            return np.array([(int(m) >> i) & 1 == 1 for m in self.present.tolist()],
                            dtype=np.bool_)
        return (self.present >> np.uint64(i)) & np.uint64(1) == np.uint64(1)

    def others(self) -> tuple[pa.Array, np.ndarray]:
        """The distinct texts "other agencies of the group, comma-separated (sorted)" and,
        per member, the index of its text."""
        mask = self.present[self.group] & ~self.bit
        uniq, inverse = np.unique(mask, return_inverse=True)
        texts = [",".join(n for i, n in enumerate(self.names) if (int(m) >> i) & 1)
                 for m in uniq.tolist()]
        return pa.array(texts, pa.string()), inverse.reshape(-1)


_MEMBERS = operator.attrgetter("members")
_PARTY = operator.attrgetter("party")
_RECORD = operator.attrgetter("record_index")
_DECISION = operator.attrgetter("decision")
_SCORE = operator.attrgetter("score")
_MATCH_ID = operator.attrgetter("match_id")
_DECISIONS = pa.array(["possible", "match"], pa.string())  # indexed by is_match


def _result_tables(result: LinkResult, parties: dict[str, EncodedData],
                   members: _Members | None = None) -> dict[str, pa.Table]:
    """Per agency, its result rows in position order as an Arrow table
    (``results_store.SCHEMA``: record_ref, match_id, decision, other_agencies, score): one
    row per (agency record, group), ordered by the agency's record order, then the match
    id. Built with Arrow ``take`` (no per-row Python objects)."""
    m = members or _Members(result, parties)
    texts, text_of = m.others()
    out: dict[str, pa.Table] = {}
    for i, agency in enumerate(m.names):
        idx = np.flatnonzero(m.party == i)
        # Match ids are numbered in group order, so the group index orders them too.
        idx = idx[np.lexsort((m.group[idx], m.record[idx]))]
        gis = m.group[idx]
        refs = pa.array(parties[agency].refs[m.record[idx]], pa.string())
        out[agency] = pa.table([
            refs,
            m.match_ids.take(gis),
            _DECISIONS.take(m.is_match[gis].astype(np.int8)),
            texts.take(text_of[idx]),
            pa.array(m.scores[gis], pa.float64()),
        ], schema=results_store.SCHEMA)
    return out


def _delete_results(session: Session, run_id: str) -> None:
    session.execute(delete(RunResultBlock).where(RunResultBlock.run_id == run_id))
    session.execute(delete(RunResult).where(RunResult.run_id == run_id))


def _report_aggregates(m: _Members) -> dict:
    """What the DPO reports count from the results, computed once when the run is saved:
    groups per agency and per pair of agencies (by decision) and groups by their number of
    records (``service.reports.build`` reads these; older runs are counted in SQL)."""
    match = m.is_match
    has = [m.has(i) for i in range(len(m.names))]

    def counts(sel: np.ndarray) -> dict[str, int]:
        n_match = int(np.count_nonzero(sel & match))
        return {"match": n_match, "possible": int(np.count_nonzero(sel)) - n_match}

    sizes: dict[str, dict[str, int]] = {}
    for size in np.unique(m.sizes).tolist():
        sizes[str(size)] = counts(m.sizes == size)
    return {
        "agency_groups": {a: counts(has[i]) for i, a in enumerate(m.names)},
        "pair_groups": {f"{a}|{b}": counts(has[i] & has[j])
                        for (i, a), (j, b) in itertools.combinations(enumerate(m.names), 2)},
        "cluster_sizes": sizes,
    }


def _summary(result: LinkResult, parties: dict[str, EncodedData], m: _Members) -> dict:
    n_match = int(np.count_nonzero(m.is_match))
    linked = {}
    for i, a in enumerate(m.names):
        seen = np.zeros(parties[a].n_records, dtype=np.bool_)
        seen[m.record[m.party == i]] = True
        linked[a] = int(np.count_nonzero(seen))
    hist = result.score_histogram
    sugg = result.threshold_suggestion
    return {
        "groups": len(result.groups),
        "matches": n_match,
        "possible_matches": len(result.groups) - n_match,
        "records": {a: int(d.n_records) for a, d in sorted(parties.items())},
        "linked_records": linked,
        "candidate_pairs": int(result.candidate_pairs),
        "comparisons": int(result.comparisons),
        "durations": {k: round(float(v), 4) for k, v in result.durations.items()},
        "threshold_suggestion": None if sugg is None else round(float(sugg.threshold), 4),
        "score_histogram": {"edges": [float(x) for x in hist.edges],
                            "counts": [int(x) for x in hist.counts]},
        "blocking": asdict(result.blocking_stats),
        "result_rows": {a: int(np.count_nonzero(m.party == i)) for i, a in enumerate(m.names)},
        "report": _report_aggregates(m),
    }


