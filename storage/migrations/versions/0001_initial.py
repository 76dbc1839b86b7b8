"""The initial tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_counters",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name=op.f("pk_code_counters")),
    )
    op.create_table(
        "org_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("compiled", sa.Text(), nullable=False),
        sa.Column("calendar", sa.Text(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=63), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_versions")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=2), server_default="lv", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_table(
        "scheme_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("compiled", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=63), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_versions")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_scheme_versions_name_version")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.String(length=63), nullable=False),
        sa.Column("scheme_version_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=63), nullable=False),
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("responsible_id", sa.String(length=63), nullable=True),
        sa.Column("budget_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("budget_currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("funding_instrument", sa.String(length=63), nullable=True),
        sa.Column("partners", sa.Text(), server_default="[]", nullable=False),
        sa.Column("dates", sa.Text(), server_default="{}", nullable=False),
        sa.Column("handoff_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=True),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_projects_created_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"], ["people.id"], name=op.f("fk_projects_responsible_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_version_id"],
            ["scheme_versions.id"],
            name=op.f("fk_projects_scheme_version_id_scheme_versions"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_projects_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("code", name=op.f("uq_projects_code")),
    )
    op.create_index(
        op.f("ix_projects_responsible_id"), "projects", ["responsible_id"], unique=False
    )
    op.create_index(op.f("ix_projects_stage"), "projects", ["stage"], unique=False)
    op.create_index(op.f("ix_projects_unit_id"), "projects", ["unit_id"], unique=False)
    op.create_table(
        "role_assignments",
        sa.Column("person_id", sa.String(length=63), nullable=False),
        sa.Column("role", sa.String(length=63), nullable=False),
        sa.Column("unit_id", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_role_assignments_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_role_assignments_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("person_id", "role", "unit_id", name=op.f("pk_role_assignments")),
    )
    op.create_index(
        op.f("ix_role_assignments_role_unit_id"),
        "role_assignments",
        ["role", "unit_id"],
        unique=False,
    )
    op.create_table(
        "checklist",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=63), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_by", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["checked_by"], ["people.id"], name=op.f("fk_checklist_checked_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_checklist_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", "item", name=op.f("pk_checklist")),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=63), nullable=False),
        sa.Column("from_stage", sa.String(length=63), nullable=False),
        sa.Column("to_stage", sa.String(length=63), nullable=False),
        sa.Column("from_level", sa.String(length=16), nullable=False),
        sa.Column("to_level", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sa.String(length=63), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["people.id"], name=op.f("fk_handoffs_acknowledged_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_handoffs_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["people.id"], name=op.f("fk_handoffs_sent_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    op.create_index(op.f("ix_handoffs_project_id"), "handoffs", ["project_id"], unique=False)
    op.create_table(
        "history",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=63), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=63), nullable=True),
        sa.Column("from_stage", sa.String(length=63), nullable=True),
        sa.Column("to_stage", sa.String(length=63), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("refs", sa.Text(), server_default="[]", nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["people.id"], name=op.f("fk_history_actor_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_history_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", "seq", name=op.f("pk_history")),
    )


def downgrade() -> None:
    op.drop_table("history")
    op.drop_table("handoffs")
    op.drop_table("checklist")
    op.drop_table("role_assignments")
    op.drop_table("projects")
    op.drop_table("units")
    op.drop_table("scheme_versions")
    op.drop_table("people")
    op.drop_table("org_versions")
    op.drop_table("code_counters")
