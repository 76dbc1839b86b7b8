"""Persistence: SQLAlchemy Core tables, database set-up for SQLite and PostgreSQL, the
queries the engine runs, and Alembic migrations."""
