"""Steps on Celery workers through `dagster-celery`: the executor of the `celery` mode and
the Celery app that `video-pipeline worker` serves.

A run still starts as one process (launched by the daemon); with the Celery executor that
process only orchestrates: each step becomes a task on the queue named by its
`dagster-celery/queue` op tag (`content` or `render`, see queues.py), and a worker listening
on that queue, on any machine reaching Postgres, S3 and the broker, executes it.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from dagster import Config, ExecutorDefinition, in_process_executor

import video_pipeline.pool_wait  # noqa: F401  (how a blocked step waits: see its docstring)
from video_pipeline.config import setting
from video_pipeline.queues import QUEUES

# A step is acknowledged only when it finished: a worker process killed mid-step (OOM, a
# lost machine) hands its task back to the queue for another worker. Steps are idempotent
# (every write replaces the partition's rows and objects), so running one again is safe.
CELERY_CONFIG: dict[str, Any] = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
    # How long an unacknowledged task waits before the broker gives it to another worker
    # when its worker vanished entirely; longer than any step may take.
    "broker_transport_options": {"visibility_timeout": 3600},
    "result_expires": 86400,
}


TASK_POLL_SECONDS = 0.1


class ExecutionSettings(Config):
    executor: Literal["in_process", "celery"] = setting(
        "VIDEO_PIPELINE_EXECUTOR",
        "in_process",
        "where steps run: `in_process` (one process per run; the embedded default) or "
        "`celery` (each step a task for `video-pipeline worker`s)",
    )
    broker_url: str | None = setting(
        "VIDEO_PIPELINE_BROKER_URL",
        None,
        "the Celery broker of the `celery` mode, a Redis-protocol server (`redis://host:6379/0`)",
        secret=True,
    )


class BrokerNotConfigured(RuntimeError):
    pass


def _require_broker(settings: ExecutionSettings) -> str:
    if not settings.broker_url:
        raise BrokerNotConfigured(
            "VIDEO_PIPELINE_EXECUTOR=celery needs VIDEO_PIPELINE_BROKER_URL, the URL of a "
            "Redis-protocol server (e.g. redis://127.0.0.1:6379/0)"
        )
    return settings.broker_url


def executor_for(settings: ExecutionSettings) -> ExecutorDefinition:
    """The executor of the deployment mode `settings.executor`."""
    if settings.executor == "in_process":
        return in_process_executor
    from dagster_celery import celery_executor, core_execution_loop

    _require_broker(settings)
    # The run's executor sleeps this long between looks at its tasks (dagster-celery: 1 s).
    # A project's steps are a chain, so each step waited up to that long after the previous
    # one's task ended, with the workers idle meanwhile.
    core_execution_loop.TICK_SECONDS = TASK_POLL_SECONDS  # type: ignore[assignment]
    # The URL stays an environment variable: resolved by each run, never shown in the UI.
    broker = {"env": "VIDEO_PIPELINE_BROKER_URL"}
    return celery_executor.configured(
        {"broker": broker, "backend": broker, "config_source": CELERY_CONFIG},
        name="celery",
    )


def celery_app(settings: ExecutionSettings) -> Any:
    """The Celery app of a worker: the same broker, backend and settings as the executor
    that sends it tasks, and dagster-celery's step task."""
    from dagster._core.execution.retries import RetryMode
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    broker = _require_broker(settings)
    app_args = CeleryExecutor(
        retries=RetryMode(RetryMode.DISABLED),
        broker=broker,
        backend=broker,
        config_source=CELERY_CONFIG,
    ).app_args()
    app = make_app(app_args)
    create_task(app)
    return app


def worker_argv(queues: list[str], concurrency: int, name: str | None) -> list[str]:
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        raise ValueError(f"unknown queue {', '.join(unknown)}: use {' or '.join(QUEUES)}")
    node = name or f"{'-'.join(queues)}-{uuid.uuid4().hex[:6]}"
    return [
        "worker",
        "--queues",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{node}@%h",
        "--prefetch-multiplier",
        "1",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]
