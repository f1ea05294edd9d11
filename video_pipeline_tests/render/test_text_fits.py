"""No text leaves the safe area: not the title, not the on-screen text, not the captions."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from PIL import Image

from video_pipeline.layout import FrameSize, safe_area
from video_pipeline.models import Aspect, ProjectSettings, Resolution, Scene
from video_pipeline.providers.offline.images import TitleCardImages, card_background
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import EncoderSettings, RenderOptions, render_video, verify_render
from video_pipeline_tests.render.conftest import make_script

URL = "https://example.com/a/very/long/path/that/never/ends/at/all/really/truly"
HASHTAG = "#averyveryverylonghashtagwithoutanyspacesatallwhatsoever"
CJK = "字幕" * 14
WORST = f"Visit {URL} {HASHTAG} {CJK} end."
# A text pixel differs from its row's background (the card's gradient is flat across a row)
# by more than this; JPEG ringing stays within a few pixels of the text.
TEXT_CONTRAST = 60
RINGING_PX = 3
ULTRAFAST = RenderOptions(encoder=EncoderSettings(preset="ultrafast"))


def text_mask(frame: Path, scene: Scene) -> np.ndarray:
    """Where `frame` differs from its card's background: text, captions and their outlines."""
    with Image.open(frame) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.int16)
    height, width = pixels.shape
    plain = card_background(scene, width, height).convert("L")
    background = np.asarray(plain, dtype=np.int16)
    return np.abs(pixels - background) > TEXT_CONTRAST


@pytest.mark.parametrize("resolution", get_args(Resolution))
@pytest.mark.parametrize("aspect", get_args(Aspect))
def test_worst_case_text_stays_inside_the_safe_area(
    aspect: Aspect,
    resolution: Resolution,
    speech: EspeakSpeech,
    images: TitleCardImages,
    tmp_path: Path,
) -> None:
    script = make_script(WORST, on_screen=WORST)
    script = script.model_copy(update={"title": "A title far too long to fit " * 4})
    # The voice spells the long tokens out: 33 s.
    settings = ProjectSettings(aspect=aspect, resolution=resolution, duration_seconds=33)

    rendered = render_video(script, settings, speech, images, tmp_path, options=ULTRAFAST)

    assert verify_render(rendered, script, settings) == []
    assert any(e.scale < 1 or "\n" in e.text for e in rendered.captions)
    safe = safe_area(FrameSize(rendered.width, rendered.height))
    for frame in rendered.scene_frames:
        mask = text_mask(frame, script.scenes[0])
        rows, columns = np.nonzero(mask)
        assert len(rows) > 1000, "no text found in the frame"
        assert columns.min() >= safe.left - RINGING_PX, f"text at x={columns.min()}"
        assert columns.max() < safe.right + RINGING_PX, f"text at x={columns.max()}"
        assert rows.min() >= safe.top - RINGING_PX, f"text at y={rows.min()}"
        assert rows.max() < safe.bottom + RINGING_PX, f"text at y={rows.max()}"
