"""Alembic migrations for the tables in storage/tables.py.

Run them with ``storage.migrate.upgrade(db)`` (``shema init``); there is no alembic.ini,
Alembic is configured in code so this works from an installed wheel. A new revision:
change storage/tables.py, then autogenerate against a database at head, e.g.
``alembic.command.revision(storage.migrate.alembic_config(), "what changed",
autogenerate=True, rev_id="0002")`` with the connection in ``config.attributes``, clean
the result up by hand, and move ``storage.migrate.HEAD`` on.
"""
