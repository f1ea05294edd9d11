"""What the encode shows and for how long: picture tracks and the caption layer, in frames.

Without camera motion or crossfades the pictures are still segments, split wherever the
caption changes, so that each is composed once. Otherwise each scene is one shot, and a
crossfade needs a second track that keeps showing the previous scene into the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from video_pipeline.models import CameraMotion


@dataclass(frozen=True)
class Segment:
    image: str
    """File name relative to the render directory."""
    frames: int


@dataclass(frozen=True)
class Shot:
    """`frames` frames of `image`, filmed by a camera that moves over the scene starting at
    frame `scene_start` and lasting `scene_frames`.

    A crossfade shows the previous scene after its own end; its camera just keeps moving.
    """

    image: str
    frames: int
    scene_start: int
    scene_frames: int
    motion: CameraMotion
    reverse: bool = False
    """Pan right to left instead of left to right."""


@dataclass(frozen=True)
class Pictures:
    stills: Sequence[Segment] = ()
    """Still pictures, when nothing moves."""
    shots: Sequence[Shot] = ()
    """Moving pictures, one per scene; replaces `stills`."""
    previous_shots: Sequence[Shot] = ()
    """The track each crossfade fades from: the previous scene, still moving, filmed only
    inside the fades (after one frame at the start, so that the track starts with the video)."""
    previous_frames: Sequence[tuple[int, int]] = ()
    """(first frame on the video's timeline, frame count) of each previous shot."""
    crossfades: Sequence[tuple[int, int]] = ()
    """(first frame, frame count) of each crossfade."""


@dataclass(frozen=True)
class CaptionLayer:
    segments: Sequence[Segment]
    """Caption images (transparent where there is no caption) covering the whole video."""
    top: int
    """Where the caption band starts in the frame."""


def picture_tracks(
    stills: Sequence[str],
    scene_frames: Sequence[int],
    caption_cuts: Sequence[int],
    motion: CameraMotion,
    crossfade_frames: int,
) -> Pictures:
    """A crossfade takes at most half of the scene it leads into."""
    if motion == "none" and crossfade_frames == 0:
        return Pictures(stills=_segments(stills, scene_frames, caption_cuts))
    starts = [sum(scene_frames[:i]) for i in range(len(scene_frames))]
    shots = [
        _shot(still, count, start, count, motion, index)
        for index, (still, count, start) in enumerate(
            zip(stills, scene_frames, starts, strict=True)
        )
    ]
    if crossfade_frames == 0 or len(shots) == 1:
        return Pictures(shots=shots)
    fades = [
        (start, min(crossfade_frames, count // 2))
        for start, count in zip(starts[1:], scene_frames[1:], strict=True)
    ]
    fading = [(before, fade) for before, fade in zip(shots[:-1], fades, strict=True) if fade[1]]
    return Pictures(
        shots=shots,
        previous_shots=_previous_shots(fading, shots[0]),
        previous_frames=[(0, 1), *(fade for _, fade in fading)],
        crossfades=[fade for _, fade in fading],
    )


def _previous_shots(fading: Sequence[tuple[Shot, tuple[int, int]]], first: Shot) -> list[Shot]:
    """The previous track, compressed to the fades: slot k keeps filming scene k-1 through
    the fade into scene k.

    Its frames are numbered without the gaps between fades, so each shot's camera is given a
    scene start moved by the gap, which puts it where it would be on the video's timeline.
    """
    shots = [replace(first, frames=1)]
    made = 1
    for before, (start, count) in fading:
        shots.append(replace(before, frames=count, scene_start=before.scene_start - start + made))
        made += count
    return shots


def caption_cuts(times: Sequence[tuple[float, float]], total_frames: int, fps: int) -> list[int]:
    """Frames where the caption on screen changes, from 0 to the end of the video."""
    cuts = {round(t * fps) for span in times for t in span}
    return sorted({0, total_frames} | {cut for cut in cuts if 0 < cut < total_frames})


def caption_layer(cuts: Sequence[int], image_pattern: str, top: int) -> CaptionLayer:
    """One caption image per stretch between cuts, numbered in order."""
    return CaptionLayer(
        segments=[
            Segment(image_pattern % index, end - start)
            for index, (start, end) in enumerate(pairwise(cuts))
        ],
        top=top,
    )


def _segments(
    stills: Sequence[str], scene_frames: Sequence[int], cuts: Sequence[int]
) -> list[Segment]:
    """Split each scene at every caption change; inside a segment nothing changes."""
    segments: list[Segment] = []
    scene_start = 0
    for still, count in zip(stills, scene_frames, strict=True):
        scene_end = scene_start + count
        inner = [cut for cut in cuts if scene_start < cut < scene_end]
        bounds = [scene_start, *inner, scene_end]
        segments += [Segment(still, end - start) for start, end in pairwise(bounds)]
        scene_start = scene_end
    return segments


def _shot(
    image: str, frames: int, start: int, length: int, motion: CameraMotion, index: int
) -> Shot:
    """Pans alternate direction from scene to scene."""
    return Shot(image, frames, start, length, motion, reverse=index % 2 == 1)
