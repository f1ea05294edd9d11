"""The database schema. `projects` and `project_sources` are a public contract: other
services create work by inserting rows there. The rest belongs to the pipeline.

Alembic migrations create these tables; this module is what the code queries against.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB, REGCONFIG, TSVECTOR, UUID

metadata = sa.MetaData()


def _project_ref(primary_key: bool = False) -> sa.Column[str]:
    """The owning project; its rows go when the project goes."""
    return sa.Column(
        "project_id",
        UUID(as_uuid=False),
        sa.ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def is_project_id(value: str) -> bool:
    """Whether `value` can name a row of `projects` (its id is a UUID)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


projects = sa.Table(
    "projects",
    metadata,
    sa.Column(
        "id", UUID(as_uuid=False), primary_key=True, server_default=sa.text("gen_random_uuid()")
    ),
    sa.Column("owner_id", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("brief", sa.Text, nullable=False),
    sa.Column("settings", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("status", sa.Text, nullable=False, server_default="new"),
    sa.Column("status_detail", sa.Text),
    sa.Column("run_id", sa.Text),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    # Intake and retention state (video_pipeline/storage/partitions.py).
    sa.Column("partition_added_at", sa.DateTime(timezone=True)),
    sa.Column("partition_archived_at", sa.DateTime(timezone=True)),
    sa.Column("reruns", sa.Integer, nullable=False, server_default="0"),
    # Cancel requests (video_pipeline/storage/cancel.py).
    sa.Column("cancel_requested_at", sa.DateTime(timezone=True)),
    sa.Column("cancel_requested_by", sa.Text),
)

project_sources = sa.Table(
    "project_sources",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _project_ref(),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("uri", sa.Text),
    sa.Column("content", sa.Text),
)

stage_outputs = sa.Table(
    "stage_outputs",
    metadata,
    _project_ref(primary_key=True),
    sa.Column("stage", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text),
    _timestamp("updated_at"),
)

stage_states = sa.Table(
    "stage_states",
    metadata,
    _project_ref(primary_key=True),
    sa.Column("stage", sa.Text, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("run_id", sa.Text),
    _timestamp("updated_at"),
)

retrievable_text = sa.Table(
    "retrievable_text",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _project_ref(),
    # In the key because the table is partitioned by a hash of it (migration 0012).
    sa.Column("owner_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("dimension", sa.Integer, nullable=False),
    # No fixed dimension: one column serves every embedding model; large owners get partial
    # IVFFlat indexes over a cast expression, small ones are searched exactly (storage.vectors).
    sa.Column("embedding", Vector(), nullable=False),
    # The project's text search configuration and the generated full-text vector.
    sa.Column("text_config", REGCONFIG, nullable=False, server_default="simple"),
    sa.Column("tsv", TSVECTOR, sa.Computed("to_tsvector(text_config, content)")),
    sa.Index("ix_retrievable_text_owner_model", "owner_id", "model"),
    sa.Index("ix_retrievable_text_project", "project_id"),
)

renders = sa.Table(
    "renders",
    metadata,
    _project_ref(primary_key=True),
    sa.Column("video_uri", sa.Text, nullable=False),
    sa.Column("thumbnail_uri", sa.Text, nullable=False),
    sa.Column("srt_uri", sa.Text, nullable=False),
    sa.Column("vtt_uri", sa.Text, nullable=False),
    sa.Column("duration_seconds", sa.Float, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("probe", JSONB, nullable=False),
    _timestamp("updated_at"),
    # Hash of everything the render depends on; an equal hash means the stored video is current.
    sa.Column("input_hash", sa.Text),
)

provider_usage = sa.Table(
    "provider_usage",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _project_ref(),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("capability", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("input_units", sa.Integer, nullable=False),
    sa.Column("output_units", sa.Integer, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("cost_usd", sa.Numeric(12, 6), nullable=False),
    sa.Column("cached", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    _timestamp("created_at"),
)

response_cache = sa.Table(
    "response_cache",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    _timestamp("created_at"),
)

# --------------------------------------------------------------------------- platform

project_events = sa.Table(
    "project_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _project_ref(),
    sa.Column(
        "time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.clock_timestamp()
    ),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("stage", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("run_id", sa.Text),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "event_id",
        sa.BigInteger,
        sa.ForeignKey("project_events.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    _project_ref(),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    _timestamp("next_attempt_at"),
    _timestamp("created_at"),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
)

# Per-owner overrides of the deployment's defaults; NULL means "use the default".
owner_settings = sa.Table(
    "owner_settings",
    metadata,
    sa.Column("owner_id", sa.Text, primary_key=True),
    sa.Column("webhook_url", sa.Text),
    sa.Column("projects_per_day", sa.Integer),
    sa.Column("projects_in_progress", sa.Integer),
    sa.Column("cost_per_day_usd", sa.Numeric(12, 6)),
    sa.Column("cost_per_month_usd", sa.Numeric(12, 6)),
    _timestamp("updated_at"),
)

cost_estimates = sa.Table(
    "cost_estimates",
    metadata,
    _project_ref(primary_key=True),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("estimated_usd", sa.Numeric(12, 6), nullable=False),
    sa.Column("breakdown", JSONB, nullable=False),
    _timestamp("estimated_at"),
    sa.Column("actual_usd", sa.Numeric(12, 6)),
    sa.Column("settled_at", sa.DateTime(timezone=True)),
)

# Which projects read or wrote each cached reply, so deleting a project can remove the
# replies no other project uses.
response_cache_users = sa.Table(
    "response_cache_users",
    metadata,
    sa.Column(
        "key",
        sa.Text,
        sa.ForeignKey("response_cache.key", ondelete="CASCADE"),
        primary_key=True,
    ),
    _project_ref(primary_key=True),
)

# The contract way to delete: insert a row with a project_id or an owner_id; the
# `process_deletions` sensor removes the data and writes the report here.
deletion_requests = sa.Table(
    "deletion_requests",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("project_id", UUID(as_uuid=False)),
    sa.Column("owner_id", sa.Text),
    _timestamp("requested_at"),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("detail", sa.Text),
    sa.Column("report", JSONB),
    sa.Column("processed_at", sa.DateTime(timezone=True)),
)
