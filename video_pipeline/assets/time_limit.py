"""A stage's time limit, enforced inside the step's process.

Past the limit, SIGALRM interrupts the stage wherever it waits (a socket read, a child
process, a query): the processes the stage started (ffmpeg, espeak) are killed and
`StageTimeLimitExceeded` is raised in the stage's body. It derives from BaseException so a
stage's own `except Exception` cannot swallow it.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import psutil

logger = logging.getLogger(__name__)


class StageTimeLimitExceeded(BaseException):
    pass


def _kill_children_since(before: set[int]) -> None:
    for child in psutil.Process().children(recursive=True):
        if child.pid not in before:
            with suppress(psutil.Error):
                child.kill()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `StageTimeLimitExceeded` in the body once it has run for `seconds`.

    Signals reach only the main thread, which is where every executor of this project runs a
    step; elsewhere (a test calling a stage from a thread) the limit is not enforced.
    """
    if threading.current_thread() is not threading.main_thread():
        logger.warning("stage time limit not enforced outside the main thread")
        yield
        return
    before = {child.pid for child in psutil.Process().children(recursive=True)}

    def expire(signum: int, frame: FrameType | None) -> None:
        _kill_children_since(before)
        raise StageTimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:  # someone else's alarm (a test runner's timeout) goes on
            remaining = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001), outer_interval)
