"""Where the ffmpeg executable is.

It comes from a wheel so a fresh machine needs nothing but pip: `imageio-ffmpeg`, a build with
libx264 and libass. ffmpeg also does what ffprobe would (`probe`), so there is no second media
binary. Callers that want a system build pass an explicit path; nothing here reads the
environment.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import imageio_ffmpeg

from video_pipeline.render.errors import RenderError


def ffmpeg_path(override: Path | None = None) -> Path:
    return _executable(override or Path(imageio_ffmpeg.get_ffmpeg_exe()))


def _executable(path: Path) -> Path:
    if not path.is_file():
        raise RenderError(f"{path} does not exist")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
