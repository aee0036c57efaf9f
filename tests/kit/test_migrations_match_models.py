"""The migrations build exactly the schema the models describe: a migration that drifts
from its model (an index made unique in one and not the other, a missing column) would
otherwise only show on a deployed database, never in tests that create tables from models."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import powerpost.models  # noqa: F401  (registers every table on Base.metadata)
from powerpost.kit.db import Base
from powerpost.kit.migrate import upgrade


def test_migrated_sqlite_schema_equals_the_models(tmp_path: Path) -> None:
    path = tmp_path / "drift.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_every_revision_id_fits_alembic_version() -> None:
    """PostgreSQL stores the revision in alembic_version.version_num, a VARCHAR(32); a longer
    id migrates on SQLite (which ignores lengths) and fails on PostgreSQL."""
    from alembic.script import ScriptDirectory

    from powerpost.kit.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    too_long = [s.revision for s in scripts.walk_revisions() if len(s.revision) > 32]
    assert too_long == []
