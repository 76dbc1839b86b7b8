"""Financing plans: a project's costs, its sources, its quarterly expenditure and
reimbursements, and its payment requests.

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_MONEY = sa.Numeric(precision=14, scale=2)


def upgrade() -> None:
    op.create_table(
        "financing",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("eligible", _MONEY, nullable=False),
        sa.Column("ineligible", _MONEY, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_financing_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["people.id"], name=op.f("fk_financing_updated_by_people")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_financing")),
    )
    op.create_table(
        "financing_sources",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=63), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["financing.project_id"],
            name=op.f("fk_financing_sources_project_id_financing"),
        ),
        sa.PrimaryKeyConstraint("project_id", "source", name=op.f("pk_financing_sources")),
    )
    op.create_table(
        "financing_quarters",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["financing.project_id"],
            name=op.f("fk_financing_quarters_project_id_financing"),
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "year", "quarter", "kind", name=op.f("pk_financing_quarters")
        ),
    )
    op.create_table(
        "payment_requests",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("submitted_amount", _MONEY, nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("approved_amount", _MONEY, nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("received_amount", _MONEY, nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_payment_requests_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["people.id"], name=op.f("fk_payment_requests_updated_by_people")
        ),
        sa.PrimaryKeyConstraint("project_id", "number", name=op.f("pk_payment_requests")),
    )


def downgrade() -> None:
    op.drop_table("payment_requests")
    op.drop_table("financing_quarters")
    op.drop_table("financing_sources")
    op.drop_table("financing")
