"""Render the same narrated, captioned video with our ffmpeg graph and with MoviePy 2.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/render_vs_moviepy.py            # 3 runs each + 10-minute RSS
    .venv/bin/python benchmarks/render_vs_moviepy.py --quick    # 1 run each, no 10-minute run
    .venv/bin/python benchmarks/render_vs_moviepy.py --motion   # also: zoom + 0.5 s crossfades
    .venv/bin/python benchmarks/render_vs_moviepy.py --quick --motion pan,0   # or other motion
    .venv/bin/python benchmarks/render_vs_moviepy.py --karaoke  # also: karaoke captions' cost

Both renders take the same stills (10 title cards, 1080x1920), narration WAVs and caption
events, and encode with the same settings: libx264 preset veryfast, CRF 23, 30 fps, AAC. Ours is
timed end to end (speech and cards included); MoviePy is given those assets ready-made. Runs
alternate, each in a fresh process whose whole tree (Python + ffmpeg children) is sampled for
peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from video_pipeline.fonts import BOLD_FONT
from video_pipeline.layout import caption_area, frame_size
from video_pipeline.models import ProjectSettings, Scene, Script, SubtitleStyle
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import RenderedVideo, render_video
from video_pipeline.render.graph import EncoderSettings

SETTINGS = ProjectSettings(aspect="9:16", resolution="1080p")
SENTENCES = [
    "Harbours wake up long before the rest of the town does.",
    "Fishermen sort the night's catch while gulls circle overhead.",
    "By noon the market is loud with prices and weather reports.",
    "Most of the fish leaves the island on the afternoon ferry.",
    "In winter the boats stay in and the nets get mended instead.",
    "Young crews learn the old knots from people who never wrote them down.",
]


def benchmark_script(scenes: int) -> Script:
    """About six seconds of espeak narration per scene: 10 scenes make a minute."""
    return Script(
        title="A day in the harbour",
        hook=SENTENCES[0],
        scenes=[
            Scene(
                index=i,
                narration=f"{SENTENCES[i % 6]} This is part number {i + 1} of our story.",
                on_screen_text=f"Part {i + 1}",
                visual_description="title card",
                duration_seconds=6,
            )
            for i in range(scenes)
        ],
        call_to_action="Follow for more.",
        words_per_minute=165,
        provider="benchmark",
    )


# --------------------------------------------------------------------------- workers


def run_ours(
    scenes: int, workdir: Path, motion: str | None = None, mode: str = "lines"
) -> dict[str, float]:
    """`motion` is "CAMERA,CROSSFADE SECONDS", e.g. "zoom,0.5"; None is the compared render.
    `mode` is the caption style: lines (the default), karaoke or pop."""
    script = benchmark_script(scenes)
    settings = SETTINGS.model_copy(
        update={
            "duration_seconds": script.estimated_duration_seconds,
            "subtitle_style": SubtitleStyle(mode=mode),
        }
    )
    if motion:
        camera, crossfade = motion.split(",")
        settings = settings.model_copy(
            update={"camera_motion": camera, "crossfade_seconds": float(crossfade)}
        )
    started = time.monotonic()
    rendered = render_video(script, settings, EspeakSpeech(), TitleCardImages(), workdir)
    (workdir / "rendered.json").write_text(rendered.model_dump_json(), encoding="utf-8")
    return {
        "seconds": time.monotonic() - started,
        "video_seconds": rendered.probe.duration_seconds,
        "encode_seconds": rendered.encode_seconds,
        "captions": rendered.caption_count,
    }


def run_moviepy(assets: Path, workdir: Path) -> dict[str, float]:
    """A straightforward MoviePy 2 render: a TextClip per caption over concatenated stills."""
    from moviepy import (
        AudioFileClip,
        CompositeAudioClip,
        CompositeVideoClip,
        ImageClip,
        TextClip,
        concatenate_videoclips,
    )

    rendered = RenderedVideo.model_validate_json((assets / "rendered.json").read_text())
    size = frame_size(SETTINGS.aspect, SETTINGS.resolution)
    area = caption_area(size, SETTINGS.subtitle_style)
    encoder = EncoderSettings()
    started = time.monotonic()
    stills = concatenate_videoclips(
        [
            ImageClip(str(assets / f"scene_{i:03d}.png")).with_duration(span.end - span.start)
            for i, span in enumerate(rendered.scenes)
        ]
    )
    captions = [
        TextClip(
            font=str(BOLD_FONT),
            text=event.text,
            font_size=area.font_size,
            color="white",
            stroke_color="black",
            stroke_width=3,
            text_align="center",
        )
        .with_start(event.start)
        .with_duration(event.end - event.start)
        .with_position(("center", size.height - area.bottom_margin - 2.6 * area.font_size))
        for event in rendered.captions
    ]
    voice = CompositeAudioClip(
        [
            AudioFileClip(str(_narration(assets, i))).with_start(span.start)
            for i, span in enumerate(rendered.scenes)
        ]
    )
    video = CompositeVideoClip([stills, *captions], size=(size.width, size.height))
    video = video.with_audio(voice).with_duration(rendered.narration_seconds)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "moviepy.mp4"
    video.write_videofile(
        str(out),
        fps=30,
        codec="libx264",
        preset=encoder.preset,
        audio_codec="aac",
        threads=encoder.threads,
        ffmpeg_params=[
            "-crf",
            str(encoder.crf),
            "-pix_fmt",
            "yuv420p",
            "-tune",
            "stillimage",
            "-x264-params",
            f"rc-lookahead={encoder.lookahead_frames}:{encoder.x264_params}",
        ],
        logger=None,
    )
    return {"seconds": time.monotonic() - started, "video_seconds": rendered.narration_seconds}


def _narration(assets: Path, index: int) -> Path:
    """The scene's narration as ours used it: after the length fit's tempo change, if any."""
    fitted = assets / f"narration_{index:03d}_tempo.wav"
    return fitted if fitted.exists() else assets / f"narration_{index:03d}.wav"


# --------------------------------------------------------------------------- measuring


def measured(args: list[str]) -> dict[str, float]:
    """Run a worker in a fresh process; sample the RSS of its whole process tree."""
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(_rss(p) for p in tree))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
    stdout, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"worker {args} failed with exit code {process.returncode}")
    result: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak / 2**20
    return result


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each renderer")
    parser.add_argument("--quick", action="store_true", help="1 run each, skip the 10 min video")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--motion",
        nargs="?",
        const="zoom,0.5",
        metavar="CAMERA,CROSSFADE",
        help="also time ours with camera motion and crossfades (default: zoom,0.5)",
    )
    parser.add_argument(
        "--karaoke", action="store_true", help="also time ours with karaoke captions"
    )
    parser.add_argument("--mode", default="lines", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=["ours", "moviepy"], help=argparse.SUPPRESS)
    parser.add_argument("--scenes", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--assets", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "ours":
        print(json.dumps(run_ours(args.scenes, args.workdir, args.motion, args.mode)))
        return
    if args.worker == "moviepy":
        print(json.dumps(run_moviepy(args.assets, args.workdir)))
        return
    runs = 1 if args.quick else args.runs
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        results = _compare(Path(tmp), runs)
        variants = {"ours": []} | ({"moving": ["--motion", args.motion]} if args.motion else {})
        if args.motion:
            results["motion"] = args.motion
            results["moving"] = [_ours(tmp, "moving", variants["moving"]) for _ in range(runs)]
        if args.karaoke:
            results["karaoke"] = [_ours(tmp, "karaoke", ["--mode", "karaoke"]) for _ in range(runs)]
        if not args.quick:
            for name, extra in variants.items():
                results[f"{name}_10min"] = _ours(tmp, f"{name}_10min", ["--scenes", "100", *extra])
    _report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


def _ours(tmp: str, name: str, args: list[str]) -> dict[str, float]:
    return measured(["--worker", "ours", *args, "--workdir", str(Path(tmp) / name)])


def _compare(tmp: Path, runs: int) -> dict[str, object]:
    assets = tmp / "assets"
    measured(["--worker", "ours", "--workdir", str(assets)])  # warm-up; MoviePy's inputs
    ours, moviepy = [], []
    for run in range(runs):
        ours.append(measured(["--worker", "ours", "--workdir", str(tmp / f"ours{run}")]))
        print(f"ours    run {run + 1}: {ours[-1]}", flush=True)
        moviepy.append(
            measured(["--worker", "moviepy", "--assets", str(assets), "--workdir", str(tmp / "mp")])
        )
        print(f"moviepy run {run + 1}: {moviepy[-1]}", flush=True)
    return {"ours": ours, "moviepy": moviepy}


def _report(results: dict[str, object]) -> None:
    ours: list[dict[str, float]] = results["ours"]  # type: ignore[assignment]
    moviepy: list[dict[str, float]] = results["moviepy"]  # type: ignore[assignment]
    ours_s = statistics.median(r["seconds"] for r in ours)
    moviepy_s = statistics.median(r["seconds"] for r in moviepy)
    video_s = ours[0]["video_seconds"]
    print(f"\nvideo: {video_s:.1f} s, 1080x1920, 30 fps, {int(ours[0]['captions'])} captions")
    print(f"ours     median {ours_s:6.1f} s  ({video_s / ours_s:.1f}x realtime)")
    print(f"moviepy  median {moviepy_s:6.1f} s  ({video_s / moviepy_s:.2f}x realtime)")
    print(f"ours is {moviepy_s / ours_s:.1f}x faster than MoviePy")
    print(f"peak RSS, ours 1 min: {max(r['peak_rss_mb'] for r in ours):.0f} MB")
    print(f"peak RSS, MoviePy:    {max(r['peak_rss_mb'] for r in moviepy):.0f} MB")
    variants = [("moving", f"ours with motion {results.get('motion')}")]
    for key, label in [*variants, ("karaoke", "ours with karaoke captions")]:
        if key in results:
            runs: list[dict[str, float]] = results[key]  # type: ignore[assignment]
            seconds = statistics.median(r["seconds"] for r in runs)
            print(
                f"{label}: median {seconds:.1f} s ({video_s / seconds:.1f}x realtime, "
                f"{seconds / ours_s:.2f}x the default's time), peak RSS "
                f"{max(r['peak_rss_mb'] for r in runs):.0f} MB"
            )
    moving_label = f"ours with motion {results.get('motion')}"
    for key, label in [("ours_10min", "ours"), ("moving_10min", moving_label)]:
        if key in results:
            long: dict[str, float] = results[key]  # type: ignore[assignment]
            print(
                f"peak RSS, {label} {long['video_seconds'] / 60:.1f} min: "
                f"{long['peak_rss_mb']:.0f} MB ({long['seconds']:.0f} s, "
                f"{long['video_seconds'] / long['seconds']:.1f}x realtime)"
            )


if __name__ == "__main__":
    main()
