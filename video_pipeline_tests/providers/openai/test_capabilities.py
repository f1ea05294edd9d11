"""Moderation, embeddings, speech and images against the fake server."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from video_pipeline.models import Scene
from video_pipeline.providers.base import ProviderError, UsageRecord
from video_pipeline.providers.openai import (
    Calls,
    ModelNames,
    OpenAIEmbeddings,
    OpenAIImages,
    OpenAIModeration,
    OpenAISpeech,
)
from video_pipeline_tests.fake_openai import FakeOpenAI, fake_embedding


def test_moderation_folds_categories_and_keeps_evidence(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI, usage: list[UsageRecord]
) -> None:
    moderation = OpenAIModeration(calls(), batch_size=2)
    texts = ["A calm walk by the sea.", "They plan to attack the town.", "I want to hurt myself."]

    result = moderation.moderate(texts)

    assert result.scores["violence"] > 0.9 and result.scores["self_harm"] > 0.9
    assert result.scores["hate"] < 0.1
    assert result.evidence["violence"] == ["They plan to attack the town."]
    assert "self-harm" not in result.scores
    assert len(fake_openai.calls("/v1/moderations")) == 2
    assert [r.unit for r in usage] == ["characters", "characters"]


def test_embeddings_batch_and_keep_order(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI, usage: list[UsageRecord]
) -> None:
    embeddings = OpenAIEmbeddings(calls())
    texts = [f"chunk number {i}" for i in range(600)]

    vectors = embeddings.embed(texts)

    assert embeddings.dimension == 1536
    assert [len(r.body["input"]) for r in fake_openai.calls("/v1/embeddings")] == [256, 256, 88]
    assert vectors[0] == fake_embedding(texts[0], 1536)
    assert vectors[599] == fake_embedding(texts[599], 1536)
    assert len(usage) == 3


@pytest.mark.parametrize(
    ("model", "dimension"),
    [
        ("text-embedding-3-small", 1536),
        ("text-embedding-3-large", 3072),
        ("text-embedding-ada-002", 1536),
    ],
)
def test_embedding_dimension_follows_the_model(
    calls: Callable[..., Calls], model: str, dimension: int
) -> None:
    provider = OpenAIEmbeddings(calls(models=ModelNames(embeddings=model)))
    assert provider.dimension == dimension
    assert len(provider.embed(["hello"])[0]) == dimension


def test_shortened_embeddings_ask_for_dimensions(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI
) -> None:
    models = ModelNames(embeddings="text-embedding-3-large", embedding_dimension=1024)
    provider = OpenAIEmbeddings(calls(models=models))

    assert len(provider.embed(["hello"])[0]) == 1024
    assert fake_openai.calls("/v1/embeddings")[0].body["dimensions"] == 1024


def test_unknown_embedding_model_needs_a_dimension(calls: Callable[..., Calls]) -> None:
    with pytest.raises(ProviderError, match="set the embedding dimension"):
        OpenAIEmbeddings(calls(models=ModelNames(embeddings="nomic-embed-text")))


def test_empty_texts_are_refused_before_any_request(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI
) -> None:
    provider = OpenAIEmbeddings(calls())
    with pytest.raises(ProviderError, match="empty"):
        provider.embed(["fine", "  "])
    assert fake_openai.requests == []


def test_speech_writes_wav_with_word_timings(
    calls: Callable[..., Calls],
    fake_openai: FakeOpenAI,
    usage: list[UsageRecord],
    tmp_path: Path,
) -> None:
    text = "Octopuses have three hearts. Their blood is blue, and their arms think."
    narration = OpenAISpeech(calls()).synthesize(text, "en-us", tmp_path / "narration.wav")

    with wave.open(str(narration.audio_path)) as audio:
        assert audio.getframerate() == 24_000
        assert audio.getnframes() / 24_000 == pytest.approx(narration.duration_seconds)
    assert [w.word for w in narration.words] == text.split()
    starts = [w.start for w in narration.words]
    assert starts == sorted(starts)
    assert all(w.start < w.end <= narration.duration_seconds for w in narration.words)
    assert fake_openai.calls("/v1/audio/speech")[0].body["voice"] == "alloy"
    assert usage[0].unit == "characters" and usage[0].input_units == len(text)


def test_long_narration_is_spoken_in_pieces(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    text = " ".join(["This sentence is repeated to make a long narration."] * 90)
    narration = OpenAISpeech(calls()).synthesize(text, "nova", tmp_path / "long.wav")

    requests = fake_openai.calls("/v1/audio/speech")
    assert len(requests) == 2 and all(len(r.body["input"]) <= 4096 for r in requests)
    assert requests[0].body["voice"] == "nova"
    assert len(narration.words) == len(text.split())
    starts = [w.start for w in narration.words]
    assert starts == sorted(starts)


def test_scene_image_is_fitted_to_the_frame(
    calls: Callable[..., Calls],
    fake_openai: FakeOpenAI,
    usage: list[UsageRecord],
    tmp_path: Path,
) -> None:
    scene = Scene(
        index=0,
        narration="n",
        on_screen_text="t",
        visual_description="An octopus",
        duration_seconds=2,
    )
    path = OpenAIImages(calls()).scene_image(scene, "Octopus", 720, 1280, tmp_path / "scene.png")

    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (720, 1280)
    request = fake_openai.calls("/v1/images/generations")[0].body
    assert request["size"] == "1024x1536" and "An octopus" in request["prompt"]
    assert "response_format" not in request
    assert usage[0].cost_usd == pytest.approx(0.063)
