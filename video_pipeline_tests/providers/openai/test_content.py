from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from video_pipeline.models import ProjectSettings, scene_seconds
from video_pipeline.providers.base import ProviderError, UsageRecord
from video_pipeline.providers.openai import Calls, OpenAIContent
from video_pipeline_tests.fake_openai import FakeOpenAI, Fault
from video_pipeline_tests.providers.openai.samples import OCTOPUS, PAST_SCRIPT, source

CHAT = "/v1/chat/completions"


@pytest.fixture
def content(calls: Callable[..., Calls]) -> OpenAIContent:
    return OpenAIContent(calls())


def test_research_cites_the_quoted_spans(
    content: OpenAIContent, fake_openai: FakeOpenAI, usage: list[UsageRecord]
) -> None:
    material = [source(7, OCTOPUS)]
    research = content.research("Octopus facts for a short video", material)

    assert research.key_facts
    for fact in research.key_facts:
        cited = OCTOPUS[fact.citation.start : fact.citation.end]
        assert fact.citation.source_id == 7
        assert cited == fact.text  # the fake quotes the sentence it states
    assert research.provider == "openai:gpt-4o-mini"
    request = fake_openai.calls(CHAT)[0]
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["response_format"]["json_schema"]["name"] == "ResearchReply"
    assert usage[0].capability == "research" and usage[0].input_units > 0


def test_dna_profile_measures_sentence_lengths(content: OpenAIContent) -> None:
    dna = content.dna_profile([source(2, PAST_SCRIPT, role="reference")])

    assert dna.words_per_minute == 155
    assert dna.sentence_length.mean == pytest.approx(27 / 5)
    assert "1 reference source(s)" in dna.basis


def test_script_is_grounded_and_paced(content: OpenAIContent) -> None:
    research = content.research("Octopus facts", [source(1, OCTOPUS)])
    dna = content.dna_profile([source(2, PAST_SCRIPT, role="reference")])
    script = content.write_script(
        "Octopus hearts", "brief", research, dna, ProjectSettings(duration_seconds=20)
    )

    known = {fact.id for fact in research.key_facts}
    assert [scene.index for scene in script.scenes] == list(range(len(script.scenes)))
    assert script.scenes[0].kind == "hook" and script.scenes[-1].kind == "cta"
    assert all(set(scene.fact_ids) <= known for scene in script.scenes)
    # Pace follows the creator's 155 words/min, stretched at most 10 % to fit the duration.
    assert 155 * 0.9 <= script.words_per_minute <= 155 * 1.1 + 1e-9
    for scene in script.scenes[:-1]:
        words = len(scene.narration.split())
        assert scene.duration_seconds == scene_seconds(words, script.words_per_minute)


def test_reply_that_does_not_validate_fails_at_once(
    content: OpenAIContent, fake_openai: FakeOpenAI, usage: list[UsageRecord]
) -> None:
    fake_openai.script(Fault("invalid_reply"))

    with pytest.raises(ProviderError, match="did not match the expected structure"):
        content.research("Octopus facts", [source(1, OCTOPUS)])
    assert len(fake_openai.calls(CHAT)) == 1
    assert len(usage) == 1  # the tokens were spent, so they are recorded


def test_refusal_is_reported(content: OpenAIContent, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Fault("refusal"))

    with pytest.raises(ProviderError, match=r"refused.*I'm sorry"):
        content.dna_profile([source(2, PAST_SCRIPT, role="reference")])
    assert len(fake_openai.calls(CHAT)) == 1


def test_requests_carry_strict_schemas(content: OpenAIContent, fake_openai: FakeOpenAI) -> None:
    content.dna_profile([source(2, PAST_SCRIPT, role="reference")])

    schema = fake_openai.calls(CHAT)[0].body["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert schema["schema"]["additionalProperties"] is False
    assert set(schema["schema"]["required"]) == set(schema["schema"]["properties"])
    payload = json.loads(fake_openai.calls(CHAT)[0].body["messages"][1]["content"])
    assert payload["references"][0]["text"] == PAST_SCRIPT


def test_script_far_from_the_target_length_is_rewritten_with_feedback(
    content: OpenAIContent, fake_openai: FakeOpenAI
) -> None:
    research = content.research("Octopus facts", [source(1, OCTOPUS)])
    dna = content.dna_profile([source(2, PAST_SCRIPT, role="reference")])
    before = len(fake_openai.calls(CHAT))

    # The sample research holds far too few facts for two minutes of narration.
    script = content.write_script(
        "Octopus hearts", "brief", research, dna, ProjectSettings(duration_seconds=120)
    )

    requests = fake_openai.calls(CHAT)[before:]
    assert len(requests) == 3
    revision = requests[-1].body["messages"][0]["content"]
    assert "A previous draft had" in revision and "instead of 120 s" in revision
    assert script.estimated_duration_seconds < 120


def test_no_references_anywhere_gives_the_neutral_profile_without_a_request(
    content: OpenAIContent, fake_openai: FakeOpenAI
) -> None:
    from video_pipeline.models import Sources
    from video_pipeline.stages.dna_profile import run_dna_profile

    sources = Sources(project_id="p", brief="b", items=[source(1, OCTOPUS)])

    profile = run_dna_profile(sources, content, earlier_references=[])

    assert profile.basis.startswith("no reference material")
    assert profile.provider == "openai"
    assert fake_openai.calls(CHAT) == []
