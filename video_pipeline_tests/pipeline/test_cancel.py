"""Cancel and crashes through a real `dagster-daemon`: a cancel asked by the CLI (during
render), by the SQL contract (during research) or by Terminate in the UI's GraphQL API
stops the run, leaves no process and no object, records who and when, and the project can
be run again; a run worker killed with SIGKILL mid-render ends the project `failed` with
the reason, and a rerun completes it; so does a restart of everything mid-render."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterRunStatus
from dagster._core.launcher import LaunchRunContext
from dagster._core.launcher.base import WorkerStatus
from dagster_graphql import DagsterGraphQLClient

from video_pipeline.run_launcher import HOST_TAG, PID_TAG
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.fake_openai import FakeOpenAI, Fault
from video_pipeline_tests.helpers import current_project, insert_project_sql, stage_states
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources
from video_pipeline_tests.scale.cluster import BIN, Deployment, deployment, wait_for

# Long enough to be caught inside its encode: 30 s at 1080p with a slower preset.
SLOW_RENDER = {"VIDEO_PIPELINE_X264_PRESET": "slow"}


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def insert(engine: sa.Engine, **settings: Any) -> str:
    with engine.begin() as conn:
        return insert_project_sql(
            conn,
            owner="cancel",
            title="How honeybees run a hive",
            brief="A short explainer on how a honeybee colony works.",
            settings={"duration_seconds": 30, "resolution": "1080p", **settings},
            sources=demo_sources(),
        )


def status_of(engine: sa.Engine, project_id: str) -> str:
    return str(current_project(engine, project_id).status)


def render_count(engine: sa.Engine, project_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM renders WHERE project_id = :id"), {"id": project_id}
            ).scalar_one()
        )


def descendants(cluster: Deployment) -> list[psutil.Process]:
    daemon = psutil.Process(cluster.processes["daemon"].pid)
    return [p for p in daemon.children(recursive=True) if _alive(p)]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def encoder(cluster: Deployment) -> psutil.Process | None:
    """The render's encoding ffmpeg, if it runs."""
    for process in descendants(cluster):
        try:
            command = process.cmdline()
        except psutil.Error:
            continue
        if command and "ffmpeg" in command[0] and any(a.endswith("video.mp4") for a in command):
            return process
    return None


def until(condition: Callable[[], Any], timeout: float, what: str, cluster: Deployment) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:g} s\n" + cluster.log("daemon")[-4000:])


def cli(cluster: Deployment, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "video-pipeline"), *arguments],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_of(cluster: Deployment, project_id: str) -> Any:
    with cluster.instance() as instance:
        runs = [r for r in instance.get_runs() if r.tags.get("dagster/partition") == project_id]
        return runs[0] if runs else None


def ended_run(cluster: Deployment, project_id: str) -> Any:
    """The project's run once it has ended (within 30 s)."""
    return until(
        lambda: (r := run_of(cluster, project_id)) and r.is_finished and r,
        30,
        "the run ended",
        cluster,
    )


def render_attempts(cluster: Deployment, run_id: str) -> int:
    with cluster.instance() as instance:
        return sum(
            1
            for e in instance.all_logs(run_id, of_type=DagsterEventType.STEP_START)
            if e.step_key == "render"
        )


def test_cancel_from_the_cli_during_render(stack: dict[str, str], store: ObjectStore) -> None:
    with deployment(stack, "cancel_render", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        time.sleep(1.0)  # inside the encode

        asked = time.monotonic()
        canceled = cli(cluster, "project", "cancel", project_id, "--by", "ops:ana")
        waited = time.monotonic() - asked
        assert canceled.returncode == 0, canceled.stdout + canceled.stderr
        assert "canceled: render: canceled by ops:ana at " in canceled.stdout
        until(lambda: encoder(cluster) is None, 30, "the encoder ended", cluster)
        run = ended_run(cluster, project_id)
        stopped = time.monotonic() - asked
        print(f"canceled in {waited:.1f} s, run and ffmpeg ended in {stopped:.1f} s")

        status = current_project(engine, project_id)
        assert status.status == "canceled"
        assert status.status_detail.startswith("render: canceled by ops:ana at ")
        assert stage_states(engine, project_id)["render"] == "canceled"
        assert run.status == DagsterRunStatus.CANCELED
        assert render_attempts(cluster, run.run_id) == 1, "the interrupted render is not retried"
        assert f"projects/{project_id}/video.mp4" not in store.list_keys(f"projects/{project_id}/")

        again = cli(cluster, "project", "cancel", project_id)
        assert again.returncode == 2 and "nothing to cancel" in again.stderr

        rerun = cli(cluster, "project", "rerun", project_id)
        assert rerun.returncode == 0, rerun.stderr
        assert wait_for(engine, [project_id], timeout=600) == {project_id: "done"}
        assert render_count(engine, project_id) == 1
        engine.dispose()


def test_a_terminate_from_another_host_reaches_the_run_through_its_status(
    stack: dict[str, str], store: ObjectStore
) -> None:
    """The webserver of the one-host deployment runs in another container than the run:
    it cannot signal the run's process, so the run watches its own status and stops once
    it reads CANCELING."""
    with deployment(stack, "terminate_elsewhere", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        run = run_of(cluster, project_id)
        with cluster.instance() as instance:
            instance.add_run_tags(run.run_id, {HOST_TAG: "another-container"})
            asked = time.monotonic()
            assert instance.run_launcher.terminate(run.run_id)
        until(lambda: encoder(cluster) is None, 30, "the encoder ended", cluster)
        run = ended_run(cluster, project_id)
        print(f"run and ffmpeg ended {time.monotonic() - asked:.1f} s after the terminate")
        assert run.status == DagsterRunStatus.CANCELED
        with contextlib.suppress(psutil.NoSuchProcess):
            assert not _alive(psutil.Process(int(run.tags[PID_TAG])))
        until(lambda: status_of(engine, project_id) == "canceled", 30, "canceled", cluster)
        assert stage_states(engine, project_id)["render"] == "canceled"
        assert f"projects/{project_id}/video.mp4" not in store.list_keys(f"projects/{project_id}/")
        engine.dispose()


def test_terminate_in_the_ui_during_render(stack: dict[str, str], store: ObjectStore) -> None:
    with deployment(stack, "terminate_render", SLOW_RENDER) as cluster:
        port = free_port()
        cluster.start_daemon()
        cluster.start(
            "webserver",
            [
                str(BIN / "dagster-webserver"),
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
        )
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        run = run_of(cluster, project_id)
        client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=60)
        until(lambda: _answers(port), 120, "the webserver answered", cluster)

        client.terminate_run(run.run_id)
        until(
            lambda: status_of(engine, project_id) == "canceled",
            30,
            "canceled",
            cluster,
        )
        until(lambda: encoder(cluster) is None, 30, "the encoder ended", cluster)

        assert current_project(engine, project_id).status_detail == "render: the run was terminated"
        assert stage_states(engine, project_id)["render"] == "canceled"
        ended = ended_run(cluster, project_id)
        assert ended.status == DagsterRunStatus.CANCELED
        assert render_attempts(cluster, run.run_id) == 1
        assert f"projects/{project_id}/video.mp4" not in store.list_keys(f"projects/{project_id}/")
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_cancel_by_the_sql_contract_during_research(
    stack: dict[str, str], fake_server: FakeOpenAI
) -> None:
    openai = {
        "VIDEO_PIPELINE_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_server.base_url,
        "OPENAI_TIMEOUT_SECONDS": "120",
    }
    fake_server.script(Fault("delay", seconds=60, reply="ResearchReply"))
    with deployment(stack, "cancel_research", openai) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine, duration_seconds=15, resolution="720p")
        until(
            lambda: stage_states(engine, project_id).get("research") == "running",
            300,
            "research started",
            cluster,
        )
        time.sleep(1.0)  # waiting on the silent provider
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE projects SET cancel_requested_at = now(), "
                    "cancel_requested_by = 'platform:user-7' WHERE id = :id"
                ),
                {"id": project_id},
            )
        asked = time.monotonic()
        until(
            lambda: status_of(engine, project_id) == "canceled",
            30,
            "canceled",
            cluster,
        )
        run = ended_run(cluster, project_id)
        print(f"research canceled and its run ended in {time.monotonic() - asked:.1f} s")

        status = current_project(engine, project_id)
        assert status.status_detail.startswith("research: canceled by platform:user-7 at ")
        assert stage_states(engine, project_id)["research"] == "canceled"
        assert run.status == DagsterRunStatus.CANCELED
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT stage FROM stage_outputs WHERE project_id = :id ORDER BY stage"),
                {"id": project_id},
            ).scalars()
            assert "research" not in list(stored)
            history = conn.execute(
                sa.text(
                    "SELECT from_status, to_status FROM project_events WHERE project_id = :id "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"id": project_id},
            ).one()
        assert tuple(history) == ("running", "canceled")
        engine.dispose()


def render_slot_holders(cluster: Any) -> set[str]:
    """The runs holding a slot of the render pool."""
    with cluster.instance() as instance:
        info = instance.event_log_storage.get_concurrency_info("render")
    return {slot.run_id for slot in info.claimed_slots}


def test_a_run_worker_killed_mid_render_fails_the_project_and_a_rerun_completes_it(
    stack: dict[str, str], store: ObjectStore
) -> None:
    with deployment(stack, "killed_worker", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        ffmpeg = until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        time.sleep(1.0)
        worker = ffmpeg.parent()  # the in-process executor's run worker
        assert worker is not None
        killed = time.monotonic()
        os.kill(worker.pid, signal.SIGKILL)
        ffmpeg.kill()  # as if the machine's OOM killer or a reboot took both

        until(lambda: status_of(engine, project_id) == "failed", 60, "failed", cluster)
        print(f"failed {time.monotonic() - killed:.1f} s after the SIGKILL")
        status = current_project(engine, project_id)
        assert "SIGKILL" in status.status_detail, status.status_detail
        assert status.status_detail.startswith("render: run "), status.status_detail
        assert stage_states(engine, project_id)["render"] == "failed"
        run = run_of(cluster, project_id)
        assert run.status == DagsterRunStatus.FAILURE
        # The render step died holding a render pool slot; two such deaths would otherwise
        # keep every later render waiting for good.
        assert run.run_id not in render_slot_holders(cluster)
        # Nor does what it was rendering stay on the disk.
        scratch = Path(cluster.env["VIDEO_PIPELINE_WORK_DIR"]) / "video_pipeline" / project_id
        until(lambda: not list(scratch.glob(f"*-{run.run_id}")), 30, "scratch removed", cluster)

        rerun = cli(cluster, "project", "rerun", project_id)
        assert rerun.returncode == 0, rerun.stderr
        assert wait_for(engine, [project_id], timeout=600) == {project_id: "done"}
        assert render_count(engine, project_id) == 1
        keys = store.list_keys(f"projects/{project_id}/")
        assert f"projects/{project_id}/video.mp4" in keys
        engine.dispose()


def test_a_stop_signal_mid_render_fails_the_project_instead_of_canceling_it(
    stack: dict[str, str], store: ObjectStore
) -> None:
    """Ctrl-C of the dev stack reaches the run's process as SIGINT: nobody canceled the
    project, so it ends failed (the nightly retry and `project rerun` may run it again)."""
    with deployment(stack, "interrupted_render", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        ffmpeg = until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        worker = ffmpeg.parent()
        assert worker is not None
        worker.send_signal(signal.SIGINT)

        until(lambda: status_of(engine, project_id) == "failed", 60, "failed", cluster)
        detail = current_project(engine, project_id).status_detail
        assert detail.startswith("render: the run's process was stopped by a signal"), detail
        assert stage_states(engine, project_id)["render"] == "failed"
        assert f"projects/{project_id}/video.mp4" not in store.list_keys(f"projects/{project_id}/")
        engine.dispose()


def test_a_restart_mid_render_fails_the_run_instead_of_leaving_it_running(
    stack: dict[str, str], store: ObjectStore
) -> None:
    """The daemon, its fork server, the run's process and ffmpeg all killed at once (a machine
    restart, `make dev` stopped mid-run): the restarted daemon's run monitoring fails the run
    through the launcher's health check, so the project ends `failed` saying why, rather
    than `running` until max_runtime_seconds (6 h)."""
    with deployment(stack, "restart_render", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        ffmpeg = until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        run = run_of(cluster, project_id)
        with cluster.instance() as instance:
            launcher = instance.run_launcher
            assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING

        daemon = cluster.processes.pop("daemon")
        os.killpg(daemon.pid, signal.SIGKILL)
        until(lambda: not _alive(ffmpeg), 30, "everything killed", cluster)
        assert status_of(engine, project_id) == "running"
        restarted = time.monotonic()
        cluster.start_daemon()
        until(lambda: status_of(engine, project_id) == "failed", 120, "failed", cluster)
        print(f"failed {time.monotonic() - restarted:.1f} s after the daemon restarted")

        until(
            lambda: run.run_id not in render_slot_holders(cluster),
            90,
            "the dead run's render slot freed",
            cluster,
        )
        detail = current_project(engine, project_id).status_detail
        assert detail.startswith("render: run "), detail
        assert stage_states(engine, project_id)["render"] == "failed"
        assert "the run's process is gone" in detail
        assert "project rerun" in detail
        assert run_of(cluster, project_id).status == DagsterRunStatus.FAILURE
        assert f"projects/{project_id}/video.mp4" not in store.list_keys(f"projects/{project_id}/")

        # The health check of a live run, and of a run whose recorded pid now belongs to a
        # process started after it (a pid reused): the rerun's process is not the old run's.
        assert cli(cluster, "project", "rerun", project_id).returncode == 0
        rerun = until(
            lambda: (
                (r := run_of(cluster, project_id))
                and r.run_id != run.run_id
                and r.status == DagsterRunStatus.STARTED
                and r
            ),
            120,
            "the rerun started",
            cluster,
        )
        with cluster.instance() as instance:
            launcher = instance.run_launcher
            assert launcher.check_run_worker_health(rerun).status == WorkerStatus.RUNNING
            reused = run.with_tags({**run.tags, PID_TAG: rerun.tags[PID_TAG]})
            health = launcher.check_run_worker_health(reused)
        assert psutil.pid_exists(int(rerun.tags[PID_TAG]))
        assert health.status == WorkerStatus.FAILED
        assert "the run's process is gone" in str(health.msg)
        engine.dispose()


def test_a_run_launched_twice_runs_once_and_ends_its_project_done(
    stack: dict[str, str], store: ObjectStore
) -> None:
    """A second daemon against the same instance dequeues a run the first already launched:
    it is not run again, and its process's end does not fail the run."""
    with deployment(stack, "launched_twice", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        run = run_of(cluster, project_id)
        with cluster.instance() as instance:
            instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
            assert instance.get_run_by_id(run.run_id).tags[PID_TAG] == run.tags[PID_TAG]
        assert wait_for(engine, [project_id], timeout=600) == {project_id: "done"}
        assert run_of(cluster, project_id).status == DagsterRunStatus.SUCCESS
        assert render_count(engine, project_id) == 1
        engine.dispose()


def test_a_run_that_fails_outside_its_steps_names_the_error_in_the_project(
    stack: dict[str, str],
) -> None:
    """Celery mode with its broker gone (a restart, a wrong URL): the run fails before any
    step, and the project says why instead of "An exception was thrown during execution"."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    broker = {
        "VIDEO_PIPELINE_EXECUTOR": "celery",
        "VIDEO_PIPELINE_BROKER_URL": f"redis://127.0.0.1:{port}/0",
    }
    with deployment(stack, "broker_gone", broker) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine)
        assert wait_for(engine, [project_id], timeout=300) == {project_id: "failed"}
        detail = current_project(engine, project_id).status_detail
        assert "An exception was thrown during execution" in detail, detail
        assert f"127.0.0.1:{port}" in detail and "Connection refused" in detail, detail
        engine.dispose()
