"""Killing ffmpeg in the middle of a render leaves no object at the video's key, and the
step's retry policy renders it again."""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil
import sqlalchemy as sa

from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.helpers import project_row
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources, launch


class FfmpegKiller(threading.Thread):
    """Kills the first ffmpeg that encodes to `video.mp4` once it has run a little, and
    notes which objects appeared in the bucket between its start and right after the kill."""

    def __init__(self, store: ObjectStore) -> None:
        super().__init__(daemon=True)
        self.store = store
        self.keys_before = set(store.list_keys("projects/"))
        self.new_keys_after_kill: set[str] | None = None
        self.killed = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            # Only this test's own ffmpeg: other renders may run on the same machine.
            for process in psutil.Process().children(recursive=True):
                try:
                    info = process.as_dict(["cmdline", "create_time"])
                except psutil.NoSuchProcess:
                    continue
                cmdline = info["cmdline"] or []
                if not any("ffmpeg" in part for part in cmdline[:1]):
                    continue
                if not any(part.endswith("video.mp4") for part in cmdline):
                    continue
                if time.time() - info["create_time"] < 0.5:
                    continue
                process.kill()
                self.new_keys_after_kill = set(self.store.list_keys("projects/")) - self.keys_before
                self.killed.set()
                return
            time.sleep(0.05)


def test_killed_encode_leaves_nothing_at_the_final_key_and_the_retry_succeeds(
    stack: dict[str, str], engine: sa.Engine, store: ObjectStore, defs: Any, instance: Any
) -> None:
    killer = FfmpegKiller(store)
    killer.start()
    try:
        project_id, result = launch(
            engine,
            defs,
            instance,
            stack["DATABASE_URL"],
            owner="interrupted",
            title="How honeybees run a hive",
            brief="A short explainer on how a honeybee colony works.",
            settings={"duration_seconds": 30},
            sources=demo_sources(),
        )
    finally:
        killer.stop.set()
        killer.join()

    assert killer.killed.is_set(), "the test never saw the render's ffmpeg"
    assert killer.new_keys_after_kill == set(), "a killed render must not publish anything"
    assert result.success
    events = [e.event_type_value for e in result.all_events if e.step_key == "render"]
    assert "STEP_UP_FOR_RETRY" in events and events[-1] == "STEP_SUCCESS"
    keys = store.list_keys(f"projects/{project_id}/")
    assert f"projects/{project_id}/video.mp4" in keys
    with engine.connect() as conn:
        assert project_row(conn, project_id).status == "done"
