"""Absence periods: who is away from when to when, and who stands in (no reason column:
reasons are personal data the routing does not need).

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(63), nullable=False),
        sa.Column("deputy_id", sa.String(63), nullable=True),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_absences_person_id_people"),
        sa.ForeignKeyConstraint(["deputy_id"], ["people.id"], name="fk_absences_deputy_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_absences"),
    )
    op.create_index("ix_absences_person_id_ends_on", "absences", ["person_id", "ends_on"])
    op.create_index("ix_absences_ends_on", "absences", ["ends_on"])


def downgrade() -> None:
    op.drop_index("ix_absences_ends_on", table_name="absences")
    op.drop_index("ix_absences_person_id_ends_on", table_name="absences")
    op.drop_table("absences")
