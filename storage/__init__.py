"""Persistence, and the only place SQL is written: the tables (tables.py), database
set-up for SQLite and PostgreSQL (database.py), Alembic migrations, and one module per
noun that the engine calls — projects (rows, history, checklist, handoffs), deadlines
(clocks and timers), outbox, ideas, planning (risks, cost-benefit analysis), versions
(schemes, organisation, units, people), accounts (passwords, web sessions), reports,
status, jobs and audit (the streams `audit verify` reads)."""
