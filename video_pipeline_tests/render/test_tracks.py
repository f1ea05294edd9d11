"""Which picture the encode shows when, in frames."""

from __future__ import annotations

from video_pipeline.render.tracks import Segment, caption_cuts, picture_tracks


def test_still_scenes_are_split_wherever_the_caption_changes() -> None:
    cuts = caption_cuts([(0.5, 1.0), (1.0, 2.5)], total_frames=90, fps=30)

    pictures = picture_tracks(["a.png", "b.png"], [40, 50], cuts, "none", 0)

    assert cuts == [0, 15, 30, 75, 90]
    assert pictures.stills == [
        Segment("a.png", 15),
        Segment("a.png", 15),
        Segment("a.png", 10),
        Segment("b.png", 35),
        Segment("b.png", 15),
    ]
    assert not pictures.shots


def test_crossfades_keep_the_previous_scene_moving_into_the_next() -> None:
    pictures = picture_tracks(["a.png", "b.png", "c.png"], [60, 20, 90], [], "pan", 15)

    assert [(s.image, s.frames, s.scene_start, s.reverse) for s in pictures.shots] == [
        ("a.png", 60, 0, False),
        ("b.png", 20, 60, True),
        ("c.png", 90, 80, False),
    ]
    # Slot k shows scene k-1 through the fade into scene k (after one frame at the start); its
    # frames skip the gaps, so its camera's start moves back by them.
    assert [
        (s.image, s.frames, s.scene_start, s.scene_frames, s.reverse)
        for s in pictures.previous_shots
    ] == [("a.png", 1, 0, 60, False), ("a.png", 10, -59, 60, False), ("b.png", 15, -9, 20, True)]
    assert pictures.previous_frames == [(0, 1), (60, 10), (80, 15)]
    # A crossfade takes at most half of the scene it leads into.
    assert pictures.crossfades == [(60, 10), (80, 15)]
