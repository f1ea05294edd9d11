"""Dagster's default run launcher (each run in a process its code server starts), plus the
health check that run monitoring asks launchers for.

Without it, a run whose process died together with its code server (a machine restart,
`make dev` stopped mid-run, the one-host code server container restarted) stays STARTED
until `run_monitoring.max_runtime_seconds`: its project shows `running` and the run holds a
run slot and its owner's slot for hours. With it, the monitoring daemon fails such a run on
its next poll, and the `project_run_failed` sensor ends the project `failed` with the reason;
`project rerun` starts it again.
"""

from __future__ import annotations

import json

import psutil
from dagster import DagsterEventType, DagsterRun
from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import GetCurrentRunsResult
from dagster._serdes import deserialize_value


class MonitoredRunLauncher(DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """RUNNING while the code server that started the run still runs it (or, on this
        host, while the run's process lives on after its code server); FAILED once neither
        holds it; UNKNOWN when a code server on another host cannot be reached."""
        address = json.loads(run.tags.get(GRPC_INFO_TAG) or "{}")
        if not address:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "not started by a code server")
        where = address.get("socket") or f"{address.get('host')}:{address.get('port')}"
        client = DagsterGrpcClient(
            port=address.get("port"),
            socket=address.get("socket"),
            host=address.get("host", "localhost"),
            use_ssl=bool(address.get("use_ssl", False)),
        )
        try:
            current = deserialize_value(client.get_current_runs(), GetCurrentRunsResult)
        except DagsterUserCodeUnreachableError:
            if not address.get("socket"):
                return CheckRunHealthResult(
                    WorkerStatus.UNKNOWN, f"its code server at {where} cannot be reached"
                )
            # A Unix socket: the code server was on this host, and so is the run's process.
            if self._process_alive(run):
                return CheckRunHealthResult(WorkerStatus.RUNNING)
            return CheckRunHealthResult(
                WorkerStatus.FAILED,
                "the run's process and the code server that started it are gone (the "
                "machine or the Dagster daemon was restarted while it ran); `video-pipeline "
                "project rerun` starts the project again",
            )
        if run.run_id in current.current_runs:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the code server at {where} no longer runs it (the code server was restarted "
            "while it ran); `video-pipeline project rerun` starts the project again",
        )

    def _process_alive(self, run: DagsterRun) -> bool:
        """Whether the process that started the run (its RUN_START event's pid) still runs;
        a pid reused by a newer process does not count."""
        records = self._instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.RUN_START, limit=1
        ).records
        entry = records[0].event_log_entry if records else None
        pid = entry.dagster_event.pid if entry and entry.dagster_event else None
        if entry is None or pid is None:
            return False
        try:
            return psutil.Process(pid).create_time() <= entry.timestamp
        except psutil.Error:
            return False
