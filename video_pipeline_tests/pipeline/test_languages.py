"""A project in a script without Latin letters, inserted with SQL, through the real run: its
video lasts what was asked and says and shows only the project's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from video_pipeline.render.length import LENGTH_TOLERANCE
from video_pipeline.render.probe import probe
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.helpers import project_row
from video_pipeline_tests.pipeline.test_end_to_end import launch

MATERIAL = Path(__file__).parent.parent / "fixtures" / "languages" / "zh.txt"


def test_a_chinese_project_renders_in_chinese_at_the_length_asked(
    stack: dict[str, str],
    engine: sa.Engine,
    defs: Any,
    instance: Any,
    store: ObjectStore,
    tmp_path: Path,
) -> None:
    material = MATERIAL.read_text()
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="zh-owner",
        title="茶园的一天",
        brief="一个关于茶园的短视频。",
        settings={"language": "zh", "duration_seconds": 12, "resolution": "720p"},
        sources=[{"role": "material", "kind": "text", "uri": None, "content": material}],
    )
    with engine.connect() as conn:
        row = project_row(conn, project_id)
        script = conn.execute(
            sa.text(
                "SELECT payload FROM stage_outputs WHERE project_id = :id AND stage = 'script'"
            ),
            {"id": project_id},
        ).scalar_one()
    assert result.success and row.status == "done", row.status_detail
    facts = probe(store.download_file(f"projects/{project_id}/video.mp4", tmp_path / "v.mp4"))
    assert abs(facts.duration_seconds - 12) <= LENGTH_TOLERANCE * 12
    assert len(facts.video) == 1 and len(facts.audio) == 1
    captions = store.read_bytes(f"projects/{project_id}/captions.srt").decode()
    bodies = [scene["narration"] for scene in script["scenes"] if scene["kind"] == "body"]
    assert bodies and all(narration in material for narration in bodies)
    assert bodies[0].rstrip("。") in "".join(captions.split())
    spoken = " ".join(scene["narration"] for scene in script["scenes"])
    assert not any("a" <= ch.lower() <= "z" for ch in spoken), spoken
