"""Engine and session handling.

SQLite (the embedded default) runs in WAL mode. A write session's transactions start with
``BEGIN IMMEDIATE`` so that a transaction never has to upgrade a read snapshot to a write
lock (which fails at once with "database is locked" under concurrency); inside one process
the write lock is handed over through a ``threading.Lock`` rather than SQLite's sleeping
busy handler, which keeps request latency flat under many concurrent clients. Other
processes (the CLI) wait through ``busy_timeout``. Read sessions (``read_session``) start
plain deferred transactions, take no lock and run beside the writer (WAL); a write
statement in a read session raises at once.

PostgreSQL runs at READ COMMITTED; code that must serialise (audit appends, switching the
current upload, starting a run) locks rows with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings

__all__ = ["Database"]

_SQLITE_BUSY_MS = 30_000
_LOCK_KEY = "pprl_write_lock_held"
_READ_ONLY = "pprl_read_only"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class Database:
    """An engine plus a session factory for one database URL."""

    def __init__(self, url: str, *, settings: Settings | None = None, echo: bool = False):
        settings = settings or Settings()
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": _SQLITE_BUSY_MS / 1000}
            kwargs["pool_size"] = settings.db_pool_size
            kwargs["max_overflow"] = settings.db_max_overflow
        else:
            kwargs["pool_size"] = settings.db_pool_size
            kwargs["max_overflow"] = settings.db_max_overflow
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, settings.sqlite_synchronous)
        self.read_engine: Engine = self.engine.execution_options(**{_READ_ONLY: True})
        self._factory = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._read_factory = sessionmaker(self.read_engine, expire_on_commit=False,
                                          autoflush=False)

    def session(self) -> Session:
        """A read-write session."""
        return self._factory()

    def read_session(self) -> Session:
        """A session for reads only (no write lock on SQLite)."""
        return self._read_factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        with self._factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    write_lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy, not pysqlite, issues BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        if not write_lock.acquire(timeout=_SQLITE_BUSY_MS / 1000):
            raise OperationalError("BEGIN IMMEDIATE", {}, TimeoutError("database is busy"))
        info = conn.connection.info
        info[_LOCK_KEY] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(info)
            raise

    def _release(info: dict) -> None:
        if info.pop(_LOCK_KEY, False):
            write_lock.release()

    # The commit/rollback events fire before SQLAlchemy calls the driver; finishing the
    # transaction here lets the lock go only after SQLite has released its own lock. The
    # driver's commit()/rollback() that follows is then a no-op.
    @event.listens_for(engine, "commit")
    def _on_commit(conn) -> None:
        try:
            conn.connection.dbapi_connection.execute("COMMIT")
        finally:
            _release(conn.connection.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn) -> None:
        try:
            dbapi = conn.connection.dbapi_connection
            if dbapi is not None and dbapi.in_transaction:
                dbapi.execute("ROLLBACK")
        finally:
            _release(conn.connection.info)

    @event.listens_for(engine, "before_cursor_execute")
    def _read_only_guard(conn, cursor, statement, parameters, context, executemany) -> None:
        if (conn.get_execution_options().get(_READ_ONLY)
                and statement.lstrip()[:7].upper().startswith(_WRITES)):
            raise RuntimeError("write statement in a read-only session")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, record) -> None:
        # Safety net: a connection never goes back to the pool holding the lock.
        if record.info.get(_LOCK_KEY):
            if dbapi_conn is not None and dbapi_conn.in_transaction:
                dbapi_conn.execute("ROLLBACK")
            _release(record.info)
