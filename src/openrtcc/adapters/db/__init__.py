"""SQLAlchemy tables, repositories and Alembic migrations for SQLite and PostgreSQL/PostGIS."""
