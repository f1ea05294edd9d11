"""Each run in a process forked from one that has already imported the libraries.

Dagster's default launcher asks the code server to start a run, and the code server `spawn`s
a fresh interpreter that imports Dagster, the libraries and the definitions before the run's
first step: about 2.5 s of CPU per project, paid again by every project of a burst while
other runs need the same cores. Here the daemon keeps a fork server (Python's
`multiprocessing` "forkserver") whose one import of the definitions leaves every library
loaded, and data that is slow to load (`warm_imports`); a run is a fork of it that imports
only this package again (0.2 s), so an edit to the pipeline takes effect at the next run, as
before (except in `KEPT_MODULES`). The run then executes as `dagster api
execute_run` executes it in any other launcher.

What the code server used to do for a run, the launcher does itself:
- a run whose process dies (SIGKILL, out of memory) fails at once with the same explanation
  (`Run execution process for … was terminated by signal 9 (SIGKILL)`), seen by a thread of
  the daemon that waits on the process;
- terminate (the UI, `project cancel`) marks the run CANCELING and interrupts its process,
  directly when it runs on this host and otherwise through the run's own watch of its
  status (`run_monitoring.cancellation_thread_poll_interval_seconds`), as from the webserver
  of the one-host deployment, whose runs execute in the daemon's container;
- run monitoring asks for the run's health: its process is the one recorded at launch.
"""

from __future__ import annotations

import functools
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from multiprocessing.context import ForkServerContext
from typing import Any, Self

import psutil
from dagster import DagsterInstance, DagsterRun
from dagster._cli.api import _execute_run_command_body
from dagster._core.events import EngineEventData
from dagster._core.execution.run_cancellation_thread import start_run_cancellation_thread
from dagster._core.launcher.base import (
    CheckRunHealthResult,
    LaunchRunContext,
    RunLauncher,
    WorkerStatus,
)
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster._utils import get_run_crash_explanation
from dagster._utils.interrupts import capture_interrupts

PID_TAG = "video_pipeline/run_pid"
HOST_TAG = "video_pipeline/run_host"
LAUNCHED_TAG = "video_pipeline/run_launched_at"

WARM_IMPORTS = "video_pipeline.warm_imports"
KEPT_MODULES = frozenset({"video_pipeline.providers.language_model"})
"""Modules that a run takes over from the fork server: they hold data that is slow to load,
depend on nothing else in the package, and are imported with `from … import …` only."""


class ForkedRunLauncher(RunLauncher, ConfigurableClass):
    def __init__(self, inst_data: ConfigurableClassData | None = None) -> None:
        self._inst_data = inst_data
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> Self:
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        launched = self._instance.get_run_by_id(run.run_id)
        if launched is not None and PID_TAG in launched.tags:
            # A second daemon on the same instance dequeued the run too: one process runs it.
            self._instance.report_engine_event(
                f"The run was launched already (pid {launched.tags[PID_TAG]} on "
                f"{launched.tags.get(HOST_TAG)}); not launching it again. Is a second "
                "dagster-daemon running against this instance?",
                run,
                cls=self.__class__,
            )
            return
        process = _fork_server().Process(
            target=execute_run,
            args=(run.run_id, self._instance.get_ref()),
            name=f"dagster-run-{run.run_id}",
        )
        process.start()
        pid = process.pid
        assert pid is not None
        self._instance.add_run_tags(
            run.run_id,
            {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), LAUNCHED_TAG: f"{time.time():.3f}"},
        )
        self._instance.report_engine_event(
            f"Forked the run's process (pid {pid}).", run, EngineEventData.in_process(pid)
        )
        threading.Thread(
            target=self._fail_if_it_dies,
            args=(process, run.run_id),
            name=f"watch-run-{run.run_id}",
            daemon=True,
        ).start()

    def _fail_if_it_dies(self, process: multiprocessing.process.BaseProcess, run_id: str) -> None:
        process.join()
        run = self._instance.get_run_by_id(run_id)
        # A process that exits cleanly ended the run or chose not to run it (Dagster's run
        # worker leaves a run another process started); only a crash is reported here.
        if run is None or run.is_finished or process.exitcode in (None, 0):
            return
        message = get_run_crash_explanation(
            prefix=f"Run execution process for {run_id}", exit_code=process.exitcode
        )
        self._instance.report_engine_event(message, run, cls=self.__class__)
        self._instance.report_run_failed(run)
        # A step killed with its run holds its pool slot (render, provider) for good: Dagster
        # frees slots when a step ends, and this one never did.
        storage = self._instance.event_log_storage
        if storage.supports_global_concurrency_limits:
            storage.free_concurrency_slots_for_run(run_id)

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        process = _local_process(run)
        if process is not None:
            process.send_signal(signal.SIGTERM)
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """RUNNING while the process forked for the run lives; FAILED once it is gone;
        UNKNOWN for a run this launcher did not start or that runs on another host."""
        if PID_TAG not in run.tags:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "not started by this launcher")
        if run.tags.get(HOST_TAG) != socket.gethostname():
            return CheckRunHealthResult(
                WorkerStatus.UNKNOWN, f"its process runs on {run.tags.get(HOST_TAG)}"
            )
        if _local_process(run) is not None:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            "the run's process is gone (the machine or the Dagster daemon was restarted while "
            "it ran, or it died when it could not record its end, e.g. with the database "
            "down; the daemon's log has its last words); `video-pipeline project rerun` "
            "starts the project again",
        )


def _local_process(run: DagsterRun) -> psutil.Process | None:
    """The run's process if it runs on this host: its recorded pid, alive, and not a newer
    process that reused the pid."""
    if run.tags.get(HOST_TAG) != socket.gethostname() or PID_TAG not in run.tags:
        return None
    try:
        process = psutil.Process(int(run.tags[PID_TAG]))
        started_before_launch = process.create_time() <= float(run.tags[LAUNCHED_TAG]) + 1
        if started_before_launch and process.status() != psutil.STATUS_ZOMBIE:
            return process
    except (psutil.Error, KeyError, ValueError):
        pass
    return None


@functools.cache
def _fork_server() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARM_IMPORTS])
    return context


def _forget_own_modules() -> None:
    """Drop this package's modules that the fork server imported, so that the run imports
    the pipeline's code as it is on disk now; the libraries stay loaded, and so do the
    KEPT_MODULES with the data they loaded."""
    for name in [
        m
        for m in sys.modules
        if (m == "video_pipeline" or m.startswith("video_pipeline.")) and m not in KEPT_MODULES
    ]:
        del sys.modules[name]


def execute_run(run_id: str, instance_ref: Any) -> None:
    """The forked process: the run, as `dagster api execute_run` runs it, watching its own
    status so that a terminate from any host interrupts it."""
    _forget_own_modules()
    with capture_interrupts(), DagsterInstance.from_ref(instance_ref) as instance:
        watch, stop_watching = start_run_cancellation_thread(instance, run_id)
        try:
            _execute_run_command_body(
                run_id, instance, lambda _event: None, set_exit_code_on_failure=False
            )
        finally:
            stop_watching.set()
            watch.join()
