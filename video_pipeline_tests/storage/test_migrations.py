from __future__ import annotations

import sqlalchemy as sa

from video_pipeline.devstack.postgres import ensure_database
from video_pipeline.storage.migrate import downgrade, upgrade

EXPECTED = {
    "projects",
    "project_sources",
    "stage_outputs",
    "stage_states",
    "retrievable_text",
    "renders",
    "provider_usage",
    "response_cache",
    "project_events",
    "webhook_deliveries",
    "owner_settings",
    "cost_estimates",
    "response_cache_users",
    "deletion_requests",
}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_up_down_up_on_a_fresh_database(stack: dict[str, str]) -> None:
    url = stack["DATABASE_URL"].replace("/video_pipeline?", "/migration_check?")
    from pathlib import Path

    from video_pipeline.devstack.embedded import read_state

    state = read_state(Path(stack["VIDEO_PIPELINE_DATA_DIR"]))
    assert state is not None
    ensure_database(state.postgres, "migration_check")

    upgrade(url)
    assert _tables(url) == EXPECTED
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("projects")}
        vector = conn.execute(
            sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).scalar_one()
    engine.dispose()
    assert {
        "id",
        "owner_id",
        "title",
        "brief",
        "settings",
        "status",
        "status_detail",
        "created_at",
        "updated_at",
    } <= columns
    assert tuple(int(x) for x in vector.split(".")[:2]) >= (0, 8)

    downgrade(url)
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == EXPECTED
