"""The ideas notebook, the risk register and the cost-benefit analysis; projects link to
the idea they were promoted from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.String(length=63), nullable=False),
        sa.Column("proposer_id", sa.String(length=63), nullable=False),
        sa.Column("partners", sa.Text(), server_default="[]", nullable=False),
        sa.Column("instruments", sa.Text(), server_default="[]", nullable=False),
        sa.Column("tags", sa.Text(), server_default="[]", nullable=False),
        sa.Column("cost_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("cost_currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("priority", sa.String(length=16), server_default="medium", nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_ideas_created_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"], ["people.id"], name=op.f("fk_ideas_proposer_id_people")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_ideas_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["people.id"], name=op.f("fk_ideas_updated_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
    )
    op.create_index(op.f("ix_ideas_status"), "ideas", ["status"])
    op.create_index(op.f("ix_ideas_unit_id"), "ideas", ["unit_id"])
    op.create_table(
        "risks",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=True),
        sa.Column("impact", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.String(length=63), nullable=True),
        sa.Column("mitigation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_risks_created_by_people")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"], name=op.f("fk_risks_owner_id_people")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_risks_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["people.id"], name=op.f("fk_risks_updated_by_people")
        ),
        sa.PrimaryKeyConstraint("project_id", "number", name=op.f("pk_risks")),
    )
    op.create_table(
        "cba",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("discount_rate", sa.Numeric(precision=7, scale=6), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_cba_project_id_projects")
        ),
        sa.ForeignKeyConstraint(["updated_by"], ["people.id"], name=op.f("fk_cba_updated_by_people")),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_cba")),
    )
    op.create_table(
        "cba_years",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("benefit", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["cba.project_id"], name=op.f("fk_cba_years_project_id_cba")
        ),
        sa.PrimaryKeyConstraint("project_id", "year", name=op.f("pk_cba_years")),
    )
    # SQLite cannot add a constraint to an existing table: batch mode copies it (with
    # foreign keys off, see env.py). PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("idea_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_projects_idea_id_ideas"), "ideas", ["idea_id"], ["id"])
        batch.create_unique_constraint(op.f("uq_projects_idea_id"), ["idea_id"])


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_constraint(op.f("uq_projects_idea_id"), type_="unique")
        batch.drop_constraint(op.f("fk_projects_idea_id_ideas"), type_="foreignkey")
        batch.drop_column("idea_id")
    op.drop_table("cba_years")
    op.drop_table("cba")
    op.drop_table("risks")
    op.drop_index(op.f("ix_ideas_unit_id"), table_name="ideas")
    op.drop_index(op.f("ix_ideas_status"), table_name="ideas")
    op.drop_table("ideas")
