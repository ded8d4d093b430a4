"""Alembic environment: one set of migrations for SQLite and PostgreSQL."""

from alembic import context
from sqlalchemy import create_engine

from openrtcc.adapters.db.tables import metadata

url = context.config.get_main_option("sqlalchemy.url")


def _ours(name, type_, parent_names) -> bool:
    """SQLite keeps the R*Tree's shadow tables itself; autogenerate must not try to drop them."""
    return not (type_ == "table" and name and name.startswith("camera_rtree"))


def run() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=metadata, render_as_batch=True, include_name=_ours)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True, include_name=_ours)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
