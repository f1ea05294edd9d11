"""The whole pipeline on real parts: a project inserted with SQL, the intake sensor, the
`make_video` job on the Postgres-backed instance, rows, vectors and an MP4 in S3."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import DagsterExecutionInterruptedError, RunsFilter

from video_pipeline.render.probe import probe
from video_pipeline.samples import demo_project
from video_pipeline.storage.object_store import ObjectStore, key_from_uri
from video_pipeline.storage.projects import project_overview
from video_pipeline_tests.helpers import (
    execute_request,
    insert_project_sql,
    materialization_metadata,
    project_row,
    tick_intake,
)

STAGES = {"sources", "research", "dna_profile", "safety_check", "script", "embeddings", "render"}


def demo_sources() -> list[dict[str, Any]]:
    return [
        {"role": s.role, "kind": s.kind, "uri": s.uri, "content": s.content}
        for s in demo_project().sources
    ]


def launch(
    engine: sa.Engine, defs: Any, instance: Any, url: str, **project: Any
) -> tuple[str, Any]:
    """Insert with SQL, tick the sensor, execute the run it requested for this project."""
    with engine.begin() as conn:
        project_id = insert_project_sql(conn, **project)
    requests = [r for r in tick_intake(defs, instance, url) if r.partition_key == project_id]
    assert len(requests) == 1, "the sensor must request exactly one run for a new project"
    assert requests[0].run_key == project_id
    return project_id, execute_request(defs, instance, requests[0])


def launch_demo(
    engine: sa.Engine, defs: Any, instance: Any, url: str, owner: str, **project: Any
) -> tuple[str, Any]:
    """`launch` of a short video of the demo material."""
    return launch(
        engine,
        defs,
        instance,
        url,
        owner=owner,
        title=project.pop("title", "How honeybees keep time"),
        brief="A short explainer on how bees find food.",
        settings={"duration_seconds": 12},
        sources=demo_sources(),
        **project,
    )


def render_failed_once(result: Any) -> None:
    """The run failed in render, which was not tried again."""
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events if e.step_key == "render"]
    assert "STEP_UP_FOR_RETRY" not in kinds and kinds[-1] == "STEP_FAILURE"


def counts(engine: sa.Engine, project_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: conn.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE project_id = :id"), {"id": project_id}
            ).scalar_one()
            for table in ("stage_outputs", "stage_states", "retrievable_text", "renders")
        }


@pytest.fixture(scope="module")
def rendered_project(stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any) -> str:
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="e2e-owner",
        title="How honeybees keep time",
        brief="A short explainer for curious teenagers about how bees find food.",
        settings={
            "aspect": "9:16",
            "resolution": "720p",
            "duration_seconds": 15,
            "camera_motion": "pan",
            "crossfade_seconds": 0.4,
        },
        sources=demo_sources(),
    )
    assert result.success, f"run failed: {project_row_detail(engine, project_id)}"
    return project_id


def project_row_detail(engine: sa.Engine, project_id: str) -> str:
    with engine.connect() as conn:
        return str(project_row(conn, project_id))


def test_every_stage_is_stored_and_the_video_lands_in_s3(
    rendered_project: str, engine: sa.Engine, store: ObjectStore, tmp_path: Path
) -> None:
    project_id = rendered_project
    with engine.connect() as conn:
        status = project_row(conn, project_id)
        stages = dict(
            conn.execute(
                sa.text("SELECT stage, payload FROM stage_outputs WHERE project_id = :id"),
                {"id": project_id},
            ).all()
        )
        states = dict(
            conn.execute(
                sa.text("SELECT stage, state FROM stage_states WHERE project_id = :id"),
                {"id": project_id},
            ).all()
        )
        chunk_kinds = dict(
            conn.execute(
                sa.text(
                    "SELECT kind, count(*) FROM retrievable_text "
                    "WHERE project_id = :id AND vector_dims(embedding) = dimension GROUP BY kind"
                ),
                {"id": project_id},
            ).all()
        )
        render_row = conn.execute(
            sa.text("SELECT * FROM renders WHERE project_id = :id"), {"id": project_id}
        ).one()

    assert status.status == "done", status.status_detail
    assert set(stages) == STAGES
    assert states == {stage: "done" for stage in STAGES}
    assert 5 <= len(stages["research"]["key_facts"]) <= 15
    assert stages["safety_check"]["decision"] == "allow"
    assert set(chunk_kinds) == {"source", "research", "script"}

    script = stages["script"]
    script_seconds = sum(scene["duration_seconds"] for scene in script["scenes"])
    bucket, key = key_from_uri(render_row.video_uri)
    assert bucket == store.bucket
    assert set(store.list_keys(f"projects/{project_id}/")) >= {
        f"projects/{project_id}/video.mp4",
        f"projects/{project_id}/thumbnail.jpg",
        f"projects/{project_id}/captions.srt",
        f"projects/{project_id}/captions.vtt",
    }
    local = store.download_file(key, tmp_path / "video.mp4")
    facts = probe(local)
    assert len(facts.video) == 1 and len(facts.audio) == 1
    assert (facts.video[0].width, facts.video[0].height) == (720, 1280)
    assert facts.video[0].codec == "h264" and facts.audio[0].codec == "aac"
    assert abs(facts.duration_seconds - script_seconds) <= 1.0
    assert render_row.duration_seconds == pytest.approx(facts.duration_seconds, abs=0.05)


def test_rematerializing_replaces_rows_and_objects(
    rendered_project: str, engine: sa.Engine, store: ObjectStore, defs: Any, instance: Any
) -> None:
    project_id = rendered_project
    before_counts = counts(engine, project_id)
    before_keys = sorted(store.list_keys(f"projects/{project_id}/"))
    job = defs.resolve_job_def("make_video")

    unchanged = job.execute_in_process(
        partition_key=project_id, instance=instance, raise_on_error=False
    )

    assert unchanged.success
    assert materialization_metadata(unchanged, "render")["reused_previous_render"] is True
    assert counts(engine, project_id) == before_counts
    assert sorted(store.list_keys(f"projects/{project_id}/")) == before_keys

    # A new caption colour changes the video: it is rendered again, in place.
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE projects SET settings = jsonb_set(settings, '{subtitle_style}', "
                '\'{"primary_colour": "#FFD700"}\') WHERE id = :id'
            ),
            {"id": project_id},
        )
    changed = job.execute_in_process(
        partition_key=project_id, instance=instance, raise_on_error=False
    )

    assert changed.success
    assert materialization_metadata(changed, "render")["reused_previous_render"] is False
    assert counts(engine, project_id) == before_counts
    assert sorted(store.list_keys(f"projects/{project_id}/")) == before_keys
    with engine.connect() as conn:
        assert project_row(conn, project_id).status == "done"


def set_caption_colour(engine: sa.Engine, project_id: str, colour: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE projects SET settings = jsonb_set(settings, '{subtitle_style}', "
                "jsonb_build_object('primary_colour', CAST(:colour AS text))) WHERE id = :id"
            ),
            {"id": project_id, "colour": colour},
        )


def published(store: ObjectStore, project_id: str) -> dict[str, bytes]:
    return {key: store.read_bytes(key) for key in store.list_keys(f"projects/{project_id}/")}


def test_a_render_stopped_while_uploading_leaves_the_published_video_whole(
    rendered_project: str,
    engine: sa.Engine,
    store: ObjectStore,
    defs: Any,
    instance: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Canceled once its files are uploaded but before they are put in place: the bucket
    keeps the previous render as it was; a stray video at the key is never reused."""
    project_id = rendered_project
    job = defs.resolve_job_def("make_video")
    before = published(store, project_id)

    def canceled(*_: Any) -> str:
        # As a terminate does: the run is marked canceling, then its process interrupted.
        run = instance.get_runs(RunsFilter(tags={"dagster/partition": project_id}), limit=1)[0]
        instance.report_run_canceling(run)
        raise DagsterExecutionInterruptedError()

    set_caption_colour(engine, project_id, "#00FF7F")
    with monkeypatch.context() as patched:
        patched.setattr(ObjectStore, "copy_within", canceled)
        stopped = job.execute_in_process(
            partition_key=project_id, instance=instance, raise_on_error=False
        )
    assert not stopped.success
    with engine.connect() as conn:
        assert project_row(conn, project_id).status == "canceled"
    after = published(store, project_id)
    assert {k: v for k, v in after.items() if "/staging/" not in k} == before

    # Another render's video left at the key (as a render stopped between its copies would):
    # the recorded render is not reused over it.
    set_caption_colour(engine, project_id, "#FFD700")
    video_key = f"projects/{project_id}/video.mp4"
    thumbnail_key = f"projects/{project_id}/thumbnail.jpg"
    store.client.put_object(
        Bucket=store.bucket, Key=video_key, Body=store.read_bytes(thumbnail_key)
    )
    again = job.execute_in_process(partition_key=project_id, instance=instance)
    assert materialization_metadata(again, "render")["reused_previous_render"] is False
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT size_bytes FROM renders WHERE project_id = :id"), {"id": project_id}
        ).one()
        assert project_row(conn, project_id).status == "done"
    assert store.size(video_key) == row.size_bytes
    assert not [k for k in store.list_keys(f"projects/{project_id}/") if "/staging/" in k]


def test_search_finds_the_owners_chunks_only(
    rendered_project: str, stack: dict[str, str], engine: sa.Engine
) -> None:
    from video_pipeline.providers.registry import ProviderSettings, build_embedder
    from video_pipeline.storage.vectors import search

    embedder = build_embedder(ProviderSettings())
    query = embedder.embed(["how bees find food"])[0]
    hits = search(engine, "e2e-owner", embedder.model, query, limit=5)
    assert hits and all(hit.project_id == rendered_project for hit in hits)
    assert search(engine, "someone-else", embedder.model, query, limit=5) == []


def test_background_music_is_mixed_under_the_voice(
    stack: dict[str, str],
    engine: sa.Engine,
    store: ObjectStore,
    defs: Any,
    instance: Any,
    tmp_path: Path,
) -> None:
    from video_pipeline.render.binaries import ffmpeg_path

    uploads = Path(stack["VIDEO_PIPELINE_DATA_DIR"]) / "uploads"  # where file sources live
    uploads.mkdir(exist_ok=True)
    music = uploads / "music.wav"
    subprocess.run(
        [
            str(ffmpeg_path()),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:duration=4",
            "-ac",
            "2",
            str(music),
        ],
        check=True,
    )
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="music-owner",
        title="How honeybees run a hive",
        brief="A short explainer on how a honeybee colony works.",
        settings={"aspect": "16:9", "resolution": "720p", "duration_seconds": 12},
        # Relative to the uploads folder, as another service may name it.
        sources=[*demo_sources(), {"role": "music", "kind": "file", "uri": "music.wav"}],
    )

    assert result.success, project_row_detail(engine, project_id)
    local = store.download_file(f"projects/{project_id}/video.mp4", tmp_path / "video.mp4")
    facts = probe(local)
    assert (facts.video[0].width, facts.video[0].height) == (1280, 720)
    assert len(facts.audio) == 1 and facts.audio[0].channels == 2
    # The 4 s track loops under the whole narration.
    assert facts.duration_seconds > 8


def test_a_project_deleted_while_it_renders_leaves_nothing_in_the_bucket(
    stack: dict[str, str],
    engine: sa.Engine,
    store: ObjectStore,
    defs: Any,
    instance: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another service deletes the row by SQL (its rows cascade) once the video is
    uploaded: the render takes its objects back and stops, without retrying."""
    import video_pipeline.assets.render as render_asset

    real_publish = render_asset.publish

    def publish_then_delete(*args: Any, **kwargs: Any) -> dict[str, str]:
        uris = real_publish(*args, **kwargs)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM projects WHERE id = :id"), {"id": args[1]})
        return uris

    monkeypatch.setattr(render_asset, "publish", publish_then_delete)
    project_id, result = launch_demo(
        engine, defs, instance, stack["DATABASE_URL"], owner="deleted-midway"
    )
    render_failed_once(result)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"project {project_id} was deleted while it ran" in str(
        failure.event_specific_data.error
    )
    assert store.list_keys(f"projects/{project_id}/") == []


def test_a_six_second_video_is_six_seconds_of_facts(
    stack: dict[str, str],
    engine: sa.Engine,
    store: ObjectStore,
    defs: Any,
    instance: Any,
    tmp_path: Path,
) -> None:
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="short-owner",
        title="How honeybees run a hive",
        brief="A very short clip about honeybees.",
        settings={"duration_seconds": 6},
        sources=demo_sources(),
    )
    assert result.success, project_row_detail(engine, project_id)
    facts = probe(store.download_file(f"projects/{project_id}/video.mp4", tmp_path / "v.mp4"))
    assert abs(facts.duration_seconds - 6) <= 0.05 * 6
    assert len(facts.video) == 1 and len(facts.audio) == 1


def test_a_video_that_fails_its_check_is_kept_apart_and_never_shown_as_the_video(
    stack: dict[str, str], engine: sa.Engine, store: ObjectStore, defs: Any, instance: Any
) -> None:
    """A character no font has (U+0378) in the title would be an empty box on the title card:
    the project fails its check, and the video goes under `rejected/`, not where the
    project's video is looked for."""
    project_id, result = launch_demo(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="rejected-owner",
        title="How honeybees \u0378 keep time",
    )
    assert not result.success
    with engine.connect() as conn:
        status, detail = project_row(conn, project_id)
    assert status == "failed" and "no font here has '\\u0378' (U+0378 unnamed)" in detail
    keys = store.list_keys(f"projects/{project_id}/")
    assert f"projects/{project_id}/rejected/video.mp4" in keys
    assert all("/rejected/" in key for key in keys), keys
    overview = project_overview(engine, project_id)
    assert overview is not None and overview["video_uri"] is None
    assert overview["rejected_video_uri"].endswith(f"projects/{project_id}/rejected/video.mp4")


def test_a_full_disk_fails_the_render_once_saying_where_to_make_room(
    stack: dict[str, str],
    engine: sa.Engine,
    defs: Any,
    instance: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scratch disk fills up while the render writes: one failure that names the file
    and the setting, not three encodes of the same full disk and a bare errno."""
    import video_pipeline.assets.render as render_asset

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", "/scratch/render/video.mp4")

    monkeypatch.setattr(render_asset, "render_video", disk_full)
    project_id, result = launch_demo(engine, defs, instance, stack["DATABASE_URL"], "full-disk")
    render_failed_once(result)
    with engine.connect() as conn:
        status, detail = project_row(conn, project_id)
    assert status == "failed"
    assert "the disk is full writing /scratch/render/video.mp4" in detail
    assert "VIDEO_PIPELINE_WORK_DIR" in detail
