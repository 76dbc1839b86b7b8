"""Outbox rows found by recipient and kind (the escalations addressed to a person, for
"Mani darbi"), so the lookup does not read every message the person ever received.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_recipient_id_kind", "outbox", ["recipient_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_outbox_recipient_id_kind", table_name="outbox")
