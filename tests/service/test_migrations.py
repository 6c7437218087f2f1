"""The Alembic migrations build exactly the schema of the stored models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.db.migrate import current_revision, head_revision, upgrade
from service.db.models import Base
from service.db.session import Database


def test_migrations_match_the_models(db_url):
    db = Database(db_url)
    try:
        upgrade(db)
        upgrade(db)  # idempotent
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True}), Base.metadata)
            conn.rollback()
        assert diff == []
    finally:
        db.dispose()
