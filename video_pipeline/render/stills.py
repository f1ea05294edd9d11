"""The pictures of a render: scene stills in, caption images drawn by libass, and the scene
frames and thumbnail taken back out of the encoded video."""

from __future__ import annotations

import shutil
from pathlib import Path

import ffmpeg
from PIL import Image, ImageOps

from video_pipeline.fonts import Face, faces_for
from video_pipeline.layout import FPS, CaptionArea, FrameSize
from video_pipeline.models import CameraMotion, Script
from video_pipeline.providers.base import ImageProvider
from video_pipeline.render.encode import run_quietly
from video_pipeline.render.errors import RenderError
from video_pipeline.render.graph import (
    CANVAS,
    CANVAS_LIST,
    CAPTION_IMAGES,
    FONTS_DIR,
    canvas_script,
    caption_images_command,
)
from video_pipeline.render.review import CaptionReach
from video_pipeline.render.sound import copy_if_elsewhere
from video_pipeline.render.tracks import CaptionLayer, caption_layer

THUMBNAIL_SHORT_SIDE = 720


def draw_stills(
    script: Script, images: ImageProvider, workdir: Path, size: FrameSize, motion: CameraMotion
) -> list[str]:
    """One picture per scene, named `scene_NNN.png`; returns the names."""
    stills = []
    for i, scene in enumerate(script.scenes):
        image = workdir / f"scene_{i:03d}.png"
        written = images.scene_image(scene, script.title, size.width, size.height, image, motion)
        stills.append(_fit_still(written, image, size))
    return stills


def _fit_still(written: Path, expected: Path, size: FrameSize) -> str:
    """Every still fed to ffmpeg has the frame's exact size and RGB pixels.

    The graph then needs no scaling, and the filter graph never reconfigures mid-stream.
    """
    with Image.open(written) as image:
        if image.size != (size.width, size.height) or image.mode != "RGB":
            fitted = ImageOps.fit(
                image.convert("RGB"), (size.width, size.height), Image.Resampling.LANCZOS
            )
            fitted.save(expected, format="PNG", compress_level=1)
        else:
            copy_if_elsewhere(written, expected)
    return expected.name


def draw_captions(
    texts: list[str],
    cuts: list[int],
    workdir: Path,
    size: FrameSize,
    area: CaptionArea,
    ffmpeg_exe: Path,
) -> CaptionLayer:
    """libass draws `SUBTITLES` once per caption segment into images of the caption band.

    It is given only the fonts `texts` need: libass reads every font it is given into memory.
    """
    _link_fonts(faces_for(texts), workdir / FONTS_DIR)
    for stale in workdir.glob(CAPTION_IMAGES.replace("%05d", "*")):
        stale.unlink()
    Image.new("RGBA", (size.width, area.band_height)).save(workdir / CANVAS)
    layer = caption_layer(cuts, CAPTION_IMAGES, size.height - area.band_height)
    count = len(layer.segments)
    (workdir / CANVAS_LIST).write_text(canvas_script(layer.segments), encoding="utf-8")
    run_quietly(caption_images_command(count, ffmpeg_exe), workdir, "draw the captions")
    drawn = sum((workdir / segment.image).is_file() for segment in layer.segments)
    if drawn != count:
        raise RenderError(f"libass drew {drawn} of {count} caption images")
    return layer


def caption_reach(layer: CaptionLayer, cuts: list[int], workdir: Path) -> list[CaptionReach]:
    """The top of the drawn pixels of each caption image, with when it shows."""
    reach = []
    for segment, start in zip(layer.segments, cuts, strict=False):
        with Image.open(workdir / segment.image) as image:
            box = image.getchannel("A").getbbox()
        if box is not None:
            reach.append(
                CaptionReach(start / FPS, (start + segment.frames) / FPS, layer.top + box[1])
            )
    return reach


def _link_fonts(faces: list[Face], fonts_dir: Path) -> None:
    shutil.rmtree(fonts_dir, ignore_errors=True)
    fonts_dir.mkdir()
    for face in faces:
        (fonts_dir / face.path.name).symlink_to(face.path)


def extract_stills(
    video: Path, middles: list[float], times: list[float], size: FrameSize, ffmpeg_exe: Path
) -> list[Path]:
    """A JPEG from the middle of each scene, and a smaller copy of the first as thumbnail;
    `times` are the video's keyframe times, read from its packets.

    Scene middles are forced keyframes, so only keyframes are decoded (one decoder, a few
    frames per scene, whatever the video's length); the ones that are not middles are dropped.
    """
    keyframes = _decode_keyframes(video, ffmpeg_exe)
    if len(keyframes) != len(times):
        raise RenderError(f"decoded {len(keyframes)} keyframes, the packets list {len(times)}")
    frames = []
    for index, middle in enumerate(middles):
        nearest = min(range(len(times)), key=lambda k: abs(times[k] - middle))
        if abs(times[nearest] - middle) > 0.5 / FPS:
            raise RenderError(f"scene {index + 1} has no keyframe at its middle")
        frames.append(keyframes[nearest].replace(video.parent / f"scene_frame_{index:03d}.jpg"))
    for unused in video.parent.glob("keyframe_*.jpg"):
        unused.unlink()
    scale = min(1.0, THUMBNAIL_SHORT_SIDE / min(size.width, size.height))
    with Image.open(frames[0]) as first:
        thumbnail = first.resize((round(size.width * scale), round(size.height * scale)))
        thumbnail.save(video.parent / "thumbnail.jpg", format="JPEG", quality=88)
    return frames


def _decode_keyframes(video: Path, ffmpeg_exe: Path) -> list[Path]:
    for stale in [*video.parent.glob("keyframe_*.jpg"), *video.parent.glob("scene_frame_*.jpg")]:
        stale.unlink()
    command = (
        ffmpeg.input(str(video), skip_frame="nokey")
        .video.output(
            str(video.parent / "keyframe_%05d.jpg"),
            fps_mode="passthrough",
            start_number=0,
            **{"q:v": 3},
        )
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .overwrite_output()
    )
    run_quietly(command.compile(cmd=str(ffmpeg_exe)), video.parent, "extract scene frames")
    return sorted(video.parent.glob("keyframe_*.jpg"))
