"""Projects carry their code and title folded for search (lower case, no diacritics), so
a list filters in the database whatever the archive's size.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow.labels import folded

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=sa.text("''")))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, code, title FROM projects")).all()
    for pid, code, title in rows:
        conn.execute(
            sa.text("UPDATE projects SET search_text = :s WHERE id = :id"),
            {"s": folded(f"{code} {title}"), "id": pid},
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("search_text")
