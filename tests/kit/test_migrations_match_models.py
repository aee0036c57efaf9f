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
