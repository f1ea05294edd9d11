"""The video lasts what was asked for, within 5 %, whatever pace the voice really speaks at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from video_pipeline.models import ProjectSettings, Scene, Script, scene_seconds
from video_pipeline.providers.base import SpeechProvider, UsageRecord
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.providers.openai import Calls, OpenAIConnection, OpenAISpeech
from video_pipeline.render import EncoderSettings, RenderOptions, render_video, verify_render
from video_pipeline.render.length import LENGTH_TOLERANCE, PAUSE_LIMITS, SceneSpeech, fit_length
from video_pipeline_tests.fake_openai import FakeOpenAI

SENTENCES = [
    "Harbours wake up long before the town does.",
    "Fishermen sort the catch while gulls circle.",
    "By noon the market is loud with prices.",
    "Most fish leaves on the afternoon ferry.",
    "In winter the boats stay in for mending.",
    "Young crews learn old knots by watching.",
]
WORDS_PER_MINUTE = 165
FAST = RenderOptions(encoder=EncoderSettings(preset="ultrafast"))


def sized_script(target_seconds: float) -> Script:
    """Short scenes, as many as the estimate at the script's pace says fill the target."""
    seconds = scene_seconds(len(SENTENCES[0].split()), WORDS_PER_MINUTE)
    count = max(3, round(target_seconds / seconds))
    kinds = ["hook", *["body"] * (count - 2), "cta"]
    scenes = [
        Scene(
            index=i,
            kind=kind,  # type: ignore[arg-type]
            narration=SENTENCES[i % len(SENTENCES)],
            on_screen_text=f"Part {i + 1}",
            visual_description="a title card",
            duration_seconds=scene_seconds(len(SENTENCES[i % 6].split()), WORDS_PER_MINUTE),
        )
        for i, kind in enumerate(kinds)
    ]
    return Script(
        title="Harbour days",
        hook=SENTENCES[0],
        scenes=scenes,
        call_to_action=SENTENCES[-1],
        words_per_minute=WORDS_PER_MINUTE,
        provider="test",
    )


@pytest.fixture(scope="module")
def openai_speech() -> Iterator[OpenAISpeech]:
    server = FakeOpenAI().start()
    usage: list[UsageRecord] = []
    connection = OpenAIConnection.model_validate(
        {"api_key": "sk-test", "base_url": server.base_url}
    )
    yield OpenAISpeech(Calls(connection, usage_sink=usage.append))
    server.stop()


def _check_length(target: float, speech: SpeechProvider, tmp_path: Path) -> None:
    script = sized_script(target)
    settings = ProjectSettings(aspect="9:16", resolution="720p", duration_seconds=target)

    rendered = render_video(script, settings, speech, TitleCardImages(), tmp_path, options=FAST)

    assert abs(rendered.probe.duration_seconds - target) <= LENGTH_TOLERANCE * target
    assert verify_render(rendered, script, settings) == []


@pytest.mark.parametrize("target", [15, 30, 60, 120, 300])
def test_offline_voice_video_has_the_length_asked_for(target: float, tmp_path: Path) -> None:
    _check_length(target, EspeakSpeech(rate_wpm=WORDS_PER_MINUTE), tmp_path)


@pytest.mark.parametrize("target", [15, 60, 300])
def test_openai_voice_video_has_the_length_asked_for(
    target: float, openai_speech: OpenAISpeech, tmp_path: Path
) -> None:
    _check_length(target, openai_speech, tmp_path)


def test_a_fast_voice_is_slowed_no_further_than_the_pace_allowance() -> None:
    # Measured at 150 words/min; the script's 165 allows 140-190, so tempo 0.935 at least.
    scenes = [SceneSpeech(seconds=2.0, words=5, droppable=True) for _ in range(5)]
    fit = fit_length(scenes, target_seconds=16.0, words_per_minute=165, pace_allowance=0.15)
    assert fit.kept == (0, 1, 2, 3, 4)
    assert fit.tempo == pytest.approx(165 * 0.85 / 150, abs=1e-3)
    assert fit.pause_seconds == PAUSE_LIMITS[1]
    assert sum(fit.scene_seconds([2.0 / fit.tempo] * 5)) == pytest.approx(16.0, abs=0.01)
    assert fit.hold_seconds == pytest.approx(
        16.0 - 10 / fit.tempo - 5 * fit.pause_seconds, abs=0.01
    )


def test_a_long_narration_drops_body_scenes_never_the_hook_or_the_end() -> None:
    scenes = [
        SceneSpeech(seconds=3.0, words=8, droppable=kind == "body")
        for kind in ["hook", "body", "body", "body", "body", "cta"]
    ]
    fit = fit_length(scenes, target_seconds=10.0, words_per_minute=160, pace_allowance=0.15)
    assert 0 in fit.kept and 5 in fit.kept and len(fit.kept) < 6
    length = sum(fit.scene_seconds([scenes[i].seconds / fit.tempo for i in fit.kept]))
    assert abs(length - 10.0) <= LENGTH_TOLERANCE * 10
