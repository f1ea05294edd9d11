"""A render whose ffmpeg dies or is cancelled fails loudly, with ffmpeg's own words."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import RenderError, render_video
from video_pipeline.render.encode import ENCODER_NICENESS
from video_pipeline_tests.render.conftest import make_script, settings_for

SCRIPT = make_script(
    "This video is long enough that its encoder is still busy when the test interrupts it, "
    "which is the whole point of the exercise."
)
SETTINGS = settings_for(SCRIPT, aspect="9:16", resolution="1080p")


def test_killed_ffmpeg_raises_a_clear_error(
    speech: EspeakSpeech, images: TitleCardImages, tmp_path: Path
) -> None:
    processes: list[subprocess.Popen[str]] = []
    progress: list[float] = []

    def kill_once_started(fraction: float, speed: float | None) -> None:
        progress.append(fraction)
        if fraction < 1.0 and processes[0].poll() is None:
            processes[0].kill()

    with pytest.raises(RenderError, match="ffmpeg was killed by SIGKILL; last lines of its log"):
        render_video(
            SCRIPT,
            SETTINGS,
            speech,
            images,
            tmp_path,
            on_progress=kill_once_started,
            on_start=processes.append,
        )
    assert len(processes) == 1
    assert progress and progress[-1] < 1.0


def test_cancel_event_stops_the_encode(
    speech: EspeakSpeech, images: TitleCardImages, tmp_path: Path
) -> None:
    cancel = threading.Event()

    with pytest.raises(RenderError, match="ffmpeg was cancelled"):
        render_video(
            SCRIPT,
            SETTINGS,
            speech,
            images,
            tmp_path,
            on_progress=lambda fraction, speed: cancel.set(),
            cancel=cancel,
        )


def test_the_encoder_runs_below_normal_priority(
    speech: EspeakSpeech, images: TitleCardImages, tmp_path: Path
) -> None:
    """The pid the render holds (to kill it on cancel) is ffmpeg's, and it yields the CPU to
    the control plane."""
    cancel = threading.Event()
    seen: list[tuple[int, str]] = []

    def inspect(process: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 10
        program = Path(os.readlink(f"/proc/{process.pid}/exe")).name
        while program == "nice" and time.monotonic() < deadline:  # until nice exec's ffmpeg
            time.sleep(0.01)
            program = Path(os.readlink(f"/proc/{process.pid}/exe")).name
        seen.append((psutil.Process(process.pid).nice(), program))
        cancel.set()

    with pytest.raises(RenderError, match="ffmpeg was cancelled"):
        render_video(SCRIPT, SETTINGS, speech, images, tmp_path, on_start=inspect, cancel=cancel)
    assert len(seen) == 1
    niceness, program = seen[0]
    assert niceness == psutil.Process().nice() + ENCODER_NICENESS
    assert "ffmpeg" in program


def test_progress_is_reported_up_to_done(
    speech: EspeakSpeech, images: TitleCardImages, tmp_path: Path
) -> None:
    fractions: list[float] = []
    speeds: list[float | None] = []

    def record(fraction: float, speed: float | None) -> None:
        fractions.append(fraction)
        speeds.append(speed)

    script = make_script("Short.")
    rendered = render_video(
        script, settings_for(script), speech, images, tmp_path, on_progress=record
    )
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any(speed for speed in speeds)
    assert rendered.encode_seconds > 0


@pytest.mark.parametrize("runner", ["run_ffmpeg", "run_quietly"])
def test_ffmpeg_dies_with_the_process_that_started_it(runner: str, tmp_path: Path) -> None:
    """A worker killed mid-render (kill -9 of a Celery pool process) leaves no ffmpeg behind
    to go on writing while the step runs again; one that prints nothing until it ends
    (`run_quietly`) would never notice its reader gone."""
    extra = "600.0" if runner == "run_ffmpeg" else "'encode'"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from video_pipeline.render.binaries import ffmpeg_path; "
            f"from video_pipeline.render.encode import {runner}; "
            f"{runner}([str(ffmpeg_path()), '-y', '-loglevel', 'error', '-f', 'lavfi', '-i', "
            "'testsrc2=size=1920x1080:rate=30', '-t', '600', '-c:v', 'libx264', "
            f"'out.mp4'], Path(sys.argv[1]), {extra})",
            str(tmp_path),
        ]
    )
    deadline = time.monotonic() + 60
    encoders: list[psutil.Process] = []
    while not encoders and time.monotonic() < deadline:
        time.sleep(0.2)
        encoders = psutil.Process(worker.pid).children()
    assert encoders, "the encoder did not start"
    worker.kill()
    worker.wait()
    _, alive = psutil.wait_procs(encoders, timeout=10)
    assert alive == [], [p.cmdline() for p in alive]
