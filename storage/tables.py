"""The database tables (SQLAlchemy Core). Migrations in storage/migrations must agree."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(63)
HASH = String(64)

scheme_versions = Table(
    "scheme_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", ID, nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", HASH, nullable=False),
    Column("source", Text, nullable=False),
    Column("compiled", Text, nullable=False),  # the validated model as JSON
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("loaded_by", ID, nullable=True),
    UniqueConstraint("name", "version"),
)

org_versions = Table(
    "org_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("content_hash", HASH, nullable=False),
    Column("source", Text, nullable=False),
    Column("compiled", Text, nullable=False),
    # The working-day calendar in force, compiled (see WorkingCalendar.compile).
    Column("calendar", Text, nullable=True),
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("loaded_by", ID, nullable=True),
)

units = Table(
    "units",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("parent_id", ID, ForeignKey("units.id"), nullable=True),
)

people = Table(
    "people",
    metadata,
    Column("id", ID, primary_key=True),
    # Name and e-mail may be erased; history refers to the id only.
    Column("name", Text, nullable=True),
    Column("email", Text, nullable=True),
    Column("lang", String(2), nullable=False, server_default="lv"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("password_hash", Text, nullable=True),
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("person_id", ID, ForeignKey("people.id"), primary_key=True),
    Column("role", ID, primary_key=True),
    Column("unit_id", ID, ForeignKey("units.id"), primary_key=True),
    Index(None, "role", "unit_id"),
)

code_counters = Table(
    "code_counters",
    metadata,
    Column("prefix", String(8), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("unit_id", ID, ForeignKey("units.id"), nullable=False, index=True),
    Column("scheme_version_id", Integer, ForeignKey("scheme_versions.id"), nullable=False),
    Column("stage", ID, nullable=False, index=True),
    Column("stage_entered_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("responsible_id", ID, ForeignKey("people.id"), nullable=True, index=True),
    Column("budget_amount", Numeric(14, 2), nullable=True),
    Column("budget_currency", String(3), nullable=False, server_default="EUR"),
    Column("funding_instrument", ID, nullable=True),
    Column("partners", Text, nullable=False, server_default="[]"),  # JSON list
    Column("dates", Text, nullable=False, server_default="{}"),  # JSON {name: ISO date}
    # A handoff waiting to be acknowledged (details in `handoffs`).
    Column("handoff_since", UTCDateTime, nullable=True),
    Column("hold_since", UTCDateTime, nullable=True),
    Column("hold_reason", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, ForeignKey("people.id"), nullable=True),
    # The head of the project's history chain, so deleted trailing events are noticed.
    Column("head_seq", Integer, nullable=False),
    Column("head_hash", HASH, nullable=False),
    # The idea the project was promoted from (one project per idea).
    Column("idea_id", Integer, ForeignKey("ideas.id"), nullable=True, unique=True),
    # Code and title folded (workflow.labels.folded) for search; written with the title.
    Column("search_text", Text, nullable=False, server_default=text("''")),
)

checklist = Table(
    "checklist",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("item", ID, primary_key=True),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("checked_by", ID, ForeignKey("people.id"), nullable=True),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False, index=True),
    Column("action", ID, nullable=False),
    Column("from_stage", ID, nullable=False),
    Column("to_stage", ID, nullable=False),
    Column("from_level", String(16), nullable=False),
    Column("to_level", String(16), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("sent_by", ID, ForeignKey("people.id"), nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", ID, ForeignKey("people.id"), nullable=True),
)

history = Table(
    "history",
    metadata,
    # No surrogate key: the hash covers every stored column but its own.
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", ID, ForeignKey("people.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("action", ID, nullable=True),
    Column("from_stage", ID, nullable=True),
    Column("to_stage", ID, nullable=True),
    Column("comment", Text, nullable=True),
    Column("refs", Text, nullable=False, server_default="[]"),  # JSON list of document refs
    Column("data", Text, nullable=False, server_default="{}"),  # JSON object
    Column("prev_hash", HASH, nullable=False),
    Column("hash", HASH, nullable=False),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # stage | duty | handoff
    Column("stage", ID, nullable=False),
    Column("action", ID, nullable=True),  # the periodic duty's action
    Column("opened_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    # While the project is on hold: when the clock stopped and the working days left.
    Column("paused_at", UTCDateTime, nullable=True),
    Column("remaining_days", Integer, nullable=True),
    Index(None, "project_id", "closed_at"),
    Index(None, "closed_at", "due_at"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deadline_id", Integer, ForeignKey("deadlines.id"), nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False, index=True),
    Column("step", String(32), nullable=False),  # reminder0 | overdue | escalation1 …
    Column("role", ID, nullable=True),  # None: the responsible person, else the owner
    Column("fire_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime, nullable=True),
    UniqueConstraint("deadline_id", "step"),
    Index(None, "fired_at", "fire_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # One row per (deadline, step, recipient) or (event, recipient): created once, however
    # many sweeps or restarts; the e-mail Message-ID is derived from it.
    Column("key", String(200), nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=True, index=True),
    # The deadline a reminder or escalation is about (None for announcements).
    Column("deadline_id", Integer, ForeignKey("deadlines.id"), nullable=True, index=True),
    Column("recipient_id", ID, ForeignKey("people.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    # pending | sending | sent | failed | digest | digested | dropped
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index(None, "recipient_id", "kind"),
    Index(None, "status", "next_attempt_at"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("result", Text, nullable=True),
)

# -- ideas notebook and planning tools -------------------------------------------------

ideas = Table(
    "ideas",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("unit_id", ID, ForeignKey("units.id"), nullable=False, index=True),
    Column("proposer_id", ID, ForeignKey("people.id"), nullable=False),
    # JSON lists; few per idea and only ever read with the idea, so no child tables.
    Column("partners", Text, nullable=False, server_default="[]"),  # [{name, kind}]
    Column("instruments", Text, nullable=False, server_default="[]"),  # [instrument id]
    Column("tags", Text, nullable=False, server_default="[]"),  # [tag]
    Column("cost_amount", Numeric(14, 2), nullable=True),
    Column("cost_currency", String(3), nullable=False, server_default="EUR"),
    Column("priority", String(16), nullable=False, server_default="medium"),
    Column("status", String(32), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, ForeignKey("people.id"), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", ID, ForeignKey("people.id"), nullable=True),
)

risks = Table(
    "risks",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("number", Integer, primary_key=True),  # R1, R2 … per project
    Column("title", Text, nullable=False),
    Column("likelihood", Integer, nullable=True),  # 1–5; null until assessed
    Column("impact", Integer, nullable=True),  # 1–5; null until assessed
    Column("owner_id", ID, ForeignKey("people.id"), nullable=True),
    Column("mitigation", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | mitigating | closed
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, ForeignKey("people.id"), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", ID, ForeignKey("people.id"), nullable=True),
)

cba = Table(
    "cba",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("discount_rate", Numeric(7, 6), nullable=False),  # a fraction: 0.04 is 4 %
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", ID, ForeignKey("people.id"), nullable=True),
)

cba_years = Table(
    "cba_years",
    metadata,
    Column("project_id", Integer, ForeignKey("cba.project_id"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("cost", Numeric(14, 2), nullable=False),
    Column("benefit", Numeric(14, 2), nullable=False),
)

# -- the web interface ----------------------------------------------------------------

web_sessions = Table(
    "web_sessions",
    metadata,
    # The SHA-256 of the cookie's random token: a copy of the table opens no session.
    Column("id", String(64), primary_key=True),
    Column("person_id", ID, nullable=True, index=True),  # None before sign-in
    Column("data", Text, nullable=False),  # JSON: CSRF token, language, flash messages
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False, index=True),
)

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person", ID, nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "person", "at"),
    Index(None, "address", "at"),
)

# -- the audit ------------------------------------------------------------------------

audit_heads = Table(
    "audit_heads",
    metadata,
    # No foreign key: a head outlives its project, so `audit verify` can say it is gone.
    Column("project_id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),  # the last event a verify run found whole
    Column("hash", HASH, nullable=False),  # that event's hash
    Column("state", HASH, nullable=False),  # digest of the project's rows as verified
    Column("verified_at", UTCDateTime, nullable=False),
)

audit_runs = Table(
    "audit_runs",
    metadata,
    # One row per verify run that changed `audit_heads`, chained by `prev_digest`.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("verified_at", UTCDateTime, nullable=False),
    Column("mode", String(16), nullable=False),  # full | incremental
    Column("heads", Integer, nullable=False),  # rows of audit_heads after the run
    Column("heads_digest", HASH, nullable=False),  # over those rows
    Column("prev_digest", HASH, nullable=False),
    Column("digest", HASH, nullable=False),
)

# -- absences -------------------------------------------------------------------------

absences = Table(
    "absences",
    metadata,
    # Who is away when, and who stands in. No reason is stored: reasons are personal data
    # (often health data) that the routing of work does not need.
    Column("id", Integer, primary_key=True),
    Column("person_id", ID, ForeignKey("people.id"), nullable=False),
    Column("deputy_id", ID, ForeignKey("people.id"), nullable=True),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),  # the last day away
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),  # ended early: the person is back
    Index(None, "person_id", "ends_on"),
    Index(None, "ends_on"),
)

# -- financing ------------------------------------------------------------------------

financing = Table(
    "financing",
    metadata,
    # A project's financing plan: its costs in the plan's currency (EUR; LVL for
    # historical plans, converted at the fixed rate where figures are summed).
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("eligible", Numeric(14, 2), nullable=False),
    Column("ineligible", Numeric(14, 2), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", ID, ForeignKey("people.id"), nullable=True),
)
financing_sources = Table(
    "financing_sources",
    metadata,
    Column("project_id", Integer, ForeignKey("financing.project_id"), primary_key=True),
    Column("source", ID, primary_key=True),  # eu_fund | state_budget | municipality | …
    Column("amount", Numeric(14, 2), nullable=False),
)
financing_quarters = Table(
    "financing_quarters",
    metadata,
    Column("project_id", Integer, ForeignKey("financing.project_id"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("quarter", Integer, primary_key=True),  # 1–4
    Column("kind", ID, primary_key=True),  # expenditure | reimbursement
    Column("amount", Numeric(14, 2), nullable=False),
)
payment_requests = Table(
    "payment_requests",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("submitted_amount", Numeric(14, 2), nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("approved_amount", Numeric(14, 2), nullable=True),
    Column("approved_on", Date, nullable=True),
    Column("received_amount", Numeric(14, 2), nullable=True),
    Column("received_on", Date, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", ID, ForeignKey("people.id"), nullable=True),
)
