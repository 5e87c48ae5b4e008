"""Migrations build exactly the schema the models describe, and upgrade is idempotent."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import select

from accounts.models import Institution
from app.extensions import db


@pytest.mark.committed  # reads the schema through a second connection
def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.mark.committed  # Alembic migrates through its own connection
def test_upgrade_is_idempotent_and_seeds_the_universities(app):
    upgrade()
    codes = db.session.scalars(select(Institution.code).order_by(Institution.id)).all()
    assert codes == ["UVT", "UPT", "UMFT", "USVT"]


def test_cli_upgrade_on_a_fresh_sqlite_file(tmp_path):
    from app.factory import create_app
    from config import TestingConfig

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    config = type("Fresh", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Institution).where(Institution.code == "USVT")) is not None
        db.engine.dispose()
