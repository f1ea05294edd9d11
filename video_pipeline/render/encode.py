"""Running one ffmpeg command with progress reporting, cancellation and readable failures."""

from __future__ import annotations

import ctypes
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from video_pipeline.render.errors import RenderError

ProgressCallback = Callable[[float, float | None], None]
"""Called with (fraction done in [0, 1], encoding speed as a multiple of realtime or None)."""
StartCallback = Callable[[subprocess.Popen[str]], None]
"""Called once with the running ffmpeg process, e.g. to kill it from elsewhere."""

STDERR_TAIL_LINES = 25

ENCODER_NICENESS = 10
"""The long encode runs below normal CPU priority: on a shared host the daemon, the code
server and the web UI stay responsive (sensors tick, cancels land) while it uses every
core; with nothing else to run it is as fast."""


_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def die_with_parent() -> None:
    """Run in the child between fork and exec: the kernel kills ffmpeg when the thread that
    started it dies (a worker killed mid-step), so an encode nobody waits for cannot go on
    using two cores, or writing files, while the step runs again. It makes one system call
    and takes no lock, which is what keeps a `preexec_fn` safe in a threaded process."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _niced(command: list[str]) -> list[str]:
    """`command` started through coreutils' `nice` where there is one (it execs, so the pid
    is ffmpeg's)."""
    nice = shutil.which("nice")
    return [nice, "-n", str(ENCODER_NICENESS), *command] if nice else command


def run_ffmpeg(
    command: list[str],
    cwd: Path,
    duration_seconds: float,
    on_progress: ProgressCallback | None = None,
    on_start: StartCallback | None = None,
    cancel: threading.Event | None = None,
) -> float:
    """Run `command` in `cwd` and return the wall time it took.

    ffmpeg's stderr goes to `cwd/ffmpeg.log` (a file cannot fill up and block like a pipe);
    its `-progress` key=value stream is read from stdout.
    """
    log_path = cwd / "ffmpeg.log"
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            _niced([command[0], "-progress", "pipe:1", *command[1:]]),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            preexec_fn=die_with_parent,
        )
        if on_start is not None:
            on_start(process)
        watcher = _kill_when_set(cancel, process) if cancel is not None else None
        assert process.stdout is not None
        _read_progress(process.stdout, duration_seconds, on_progress)
        returncode = process.wait()
        if watcher is not None:
            watcher.join()
    elapsed = time.monotonic() - started
    if returncode != 0:
        killed = returncode < 0 and not (cancel is not None and cancel.is_set())
        raise RenderError(_failure_message(returncode, cancel, log_path), transient=killed)
    return elapsed


def _read_progress(
    lines: Iterable[str], duration_seconds: float, on_progress: ProgressCallback | None
) -> None:
    out_seconds: float = 0.0
    speed: float | None = None
    for line in lines:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            out_seconds = max(0.0, int(value) / 1_000_000)
        elif key == "speed" and value.endswith("x"):
            try:
                speed = float(value[:-1])
            except ValueError:
                speed = None
        elif key == "progress" and on_progress is not None:
            done = 1.0 if value == "end" else min(1.0, out_seconds / max(duration_seconds, 1e-6))
            on_progress(done, speed)


def _kill_when_set(cancel: threading.Event, process: subprocess.Popen[str]) -> threading.Thread:
    def watch() -> None:
        while process.poll() is None:
            if cancel.wait(0.2):
                process.kill()
                return

    thread = threading.Thread(target=watch, name="ffmpeg-cancel", daemon=True)
    thread.start()
    return thread


def _failure_message(returncode: int, cancel: threading.Event | None, log_path: Path) -> str:
    if cancel is not None and cancel.is_set():
        reason = "ffmpeg was cancelled"
    elif returncode < 0:
        reason = f"ffmpeg was killed by {_signal_name(-returncode)}"
    else:
        reason = f"ffmpeg failed with exit code {returncode}"
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-STDERR_TAIL_LINES:]
    details = "\n".join(tail) if tail else "(ffmpeg wrote nothing to stderr)"
    return f"{reason}; last lines of its log:\n{details}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_captured(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a short ffmpeg command to its end, its output captured; it dies with this process."""
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False, preexec_fn=die_with_parent
    )


def run_quietly(command: list[str], cwd: Path, what: str) -> str:
    """Run a short ffmpeg command in `cwd` and return its log; on failure raise RenderError
    saying it could not `what`."""
    result = run_captured(command, cwd)
    if result.returncode != 0:
        tail = result.stderr.splitlines()[-STDERR_TAIL_LINES:]
        raise RenderError(f"could not {what}: " + "\n".join(tail))
    return result.stderr
