"""Text from users never becomes markup: not for ffmpeg filters, not for libass."""

from __future__ import annotations

from pathlib import Path

from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import render_video, verify_render
from video_pipeline_tests.render.conftest import make_script, settings_for
from video_pipeline_tests.render.test_captions import ass_dialogue_texts, libass_visible_text

HOSTILE = (
    'He said "it\'s 100% done": [draft] {\\b1}bold{\\b0} C:\\new\\hat \\N here;\n'
    "next line, 50%% off 'quoted' ass=x:y, drawtext=text=a"
)
WORLD = "مرحبا بالعالم ושלום עולם 🎉🚀 done."


def test_hostile_text_renders_and_stays_literal(
    speech: EspeakSpeech, images: TitleCardImages, tmp_path: Path
) -> None:
    script = make_script(HOSTILE, WORLD, on_screen=HOSTILE + " " + WORLD)
    # The voice reads out every symbol: 33 s rather than the script's 9 s.
    settings = settings_for(script, aspect="16:9", resolution="720p", duration_seconds=33)

    rendered = render_video(script, settings, speech, images, tmp_path)

    assert verify_render(rendered, script, settings) == []
    words = (HOSTILE + " " + WORLD).split()
    srt = rendered.srt.read_text(encoding="utf-8")
    shown_in_ass = " ".join(libass_visible_text(t) for t in ass_dialogue_texts(rendered.ass))
    for word in words:
        assert word in srt
        assert word in shown_in_ass
    assert " ".join(e.text.replace("\n", " ") for e in rendered.captions) == " ".join(words)
    dialogue = "\n".join(ass_dialogue_texts(rendered.ass))
    assert "{\\b1}" not in dialogue
    assert "\\{\\b1\\}" in dialogue
