"""Language-aware intake, words, sentences, keywords, research and script; noise is not
language."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import Project, ProjectSettings, SourceInput
from video_pipeline.providers.languages import language, not_language, supported_languages
from video_pipeline.providers.offline.content import OfflineContent
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.stages.dna_profile import run_dna_profile
from video_pipeline.stages.research import citation_problems, run_research
from video_pipeline.stages.script import grounding_problems, pacing_problems, run_script
from video_pipeline.stages.sources import extract_sources
from video_pipeline.stages.validation import RawProject, validated_project
from video_pipeline.text import sentences
from video_pipeline.text.words import content_words, keywords, words

GERMAN = (
    "Die Honigbiene lebt in Völkern mit bis zu fünfzigtausend Tieren. Eine Königin legt im "
    "Sommer bis zu zweitausend Eier am Tag. Arbeiterinnen sammeln Nektar und Pollen von "
    "Blüten in der Umgebung des Stocks. Aus dem Nektar entsteht im Stock der Honig, den die "
    "Bienen in Waben aus Wachs lagern. Mit dem Schwänzeltanz zeigen Sammlerinnen ihren "
    "Schwestern die Richtung und die Entfernung einer Futterquelle. Im Winter bilden die "
    "Bienen eine Traube und halten die Temperatur durch Zittern der Flugmuskeln. Ein Volk "
    "braucht im Jahr etwa fünfzig Kilogramm Honig für den eigenen Bedarf. Drohnen paaren "
    "sich mit jungen Königinnen und sterben danach. Imker ernten nur den Überschuss."
)


def project(settings: ProjectSettings, *texts: str) -> Project:
    return Project(
        id="p",
        owner_id="o",
        title="Bienen",
        brief="Ein kurzes Video über Honigbienen.",
        settings=settings,
        sources=[
            SourceInput(id=i, role="material", kind="text", content=t)
            for i, t in enumerate(texts, 1)
        ],
    )


def test_a_german_project_is_researched_in_german_and_gets_a_german_voice(
    tmp_path: Path,
) -> None:
    checked = validated_project(
        RawProject(
            id="p",
            owner_id="o",
            title="Bienen",
            brief="Über Bienen.",
            settings={"language": "DE"},
            sources=[{"id": 1, "role": "material", "kind": "text", "content": GERMAN}],
        )
    )
    assert (checked.settings.language, checked.settings.voice) == ("de", "de")
    sources = extract_sources(project(checked.settings, GERMAN))
    assert sources.items[0].language == "de"
    research = run_research(sources, OfflineContent())
    assert len(research.key_facts) >= 5 and not citation_problems(research, sources)
    assert any("honig" in topic for topic in research.topics)
    narration = EspeakSpeech().synthesize("Die Biene tanzt.", "de", tmp_path / "de.wav", "de")
    assert narration.duration_seconds > 0.5 and len(narration.words) == 3


def test_material_in_another_language_is_named() -> None:
    with pytest.raises(
        PipelineInputError, match=r"it is German \(de\); the project's language is en"
    ):
        extract_sources(project(ProjectSettings(), GERMAN))


def test_noise_blobs_and_markup_are_not_language() -> None:
    rng = random.Random(3)
    assert "letters or digits" in (
        not_language(bytes(rng.randrange(32, 256) for _ in range(5000)).decode("latin-1")) or ""
    )
    assert "encoded blob" in (not_language(base64.b64encode(rng.randbytes(4000)).decode()) or "")
    assert not_language("<p><br/><img src='x.png'/></p>" * 50)
    assert not_language(GERMAN) is None
    assert not_language("蜜蜂通过跳舞告诉同伴食物的位置。蜂巢里住着成千上万只工蜂。") is None


def test_every_supported_language_has_a_voice_espeak_speaks() -> None:
    voices = set(EspeakSpeech().voices())
    assert {"en", "de", "fr", "ar", "zh", "ja", "ru", "hi"} <= set(supported_languages())
    assert all(lang.default_voice in voices for lang in supported_languages().values())
    assert (language("zh").pysbd, language("cs").yake, language("sw").yake) == (
        "zh",
        "cz",
        "noLang",
    )


def test_long_paragraphs_split_in_windows_as_they_do_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    text = " ".join(GERMAN for _ in range(30))
    windowed = sentences.split_sentences(text, "de")
    monkeypatch.setattr(sentences, "WINDOW_CHARS", 10**9)
    assert windowed == sentences.split_sentences(text, "de")
    assert all(text[s.start : s.end] == s.text for s in windowed)


LANGUAGES = Path(__file__).parent.parent / "fixtures" / "languages"
TITLES = {
    "zh": "茶园的一天",
    "ja": "東京の一日",
    "hi": "गाँव का एक दिन",
    "ko": "서울의 하루",
    "ta": "சென்னையின் ஒரு நாள்",
}


def test_words_are_found_in_every_script() -> None:
    assert words("गाँव में सुबह होती है।") == ["गाँव", "में", "सुबह", "होती", "है"]
    assert words("清晨的茶园。") == ["清", "晨", "的", "茶", "园"]
    assert words("東京の朝") == ["東", "京", "の", "朝"]
    assert words("서울의 아침은") == words("서울의 아침은".lower())
    assert len(words("서울의 아침은")) == 2
    assert words("It's 3.5 km, Café!") == ["it's", "3.5", "km", "cafe"]
    assert "茶" in content_words("清晨的茶园")


def test_key_phrases_keep_the_spelling_they_are_shown_in() -> None:
    text = (
        "La crème brûlée est un dessert français. La crème brûlée se prépare avec de la crème, "
        "des jaunes d'œufs et du sucre. On caramélise le sucre de la crème brûlée juste avant "
        "de servir."
    )
    assert "crème brûlée" in [phrase for phrase, _ in keywords(text, top=3, language="fr")]


def test_prose_in_scripts_with_vowel_signs_is_language() -> None:
    for code in ("hi", "th"):
        assert not_language((LANGUAGES / f"{code}.txt").read_text()) is None


@pytest.mark.parametrize("code", sorted(TITLES))
def test_a_project_in_a_script_without_latin_letters_is_researched_and_scripted_in_it(
    code: str,
) -> None:
    material = (LANGUAGES / f"{code}.txt").read_text()
    checked = validated_project(
        RawProject(
            id="p",
            owner_id="o",
            title=TITLES[code],
            brief="A short video.",
            settings={"language": code, "duration_seconds": 12},
            sources=[{"id": 1, "role": "material", "kind": "text", "content": material}],
        )
    )
    sources = extract_sources(project(checked.settings, material))
    assert sources.items[0].language == code
    research = run_research(sources, OfflineContent())
    assert len(research.key_facts) >= 5 and not citation_problems(research, sources)
    dna = run_dna_profile(sources, OfflineContent())
    script = run_script(TITLES[code], "", research, dna, checked.settings, OfflineContent())
    assert not grounding_problems(script, research)
    assert not pacing_problems(script, dna, checked.settings)
    spoken = " ".join(scene.narration for scene in script.scenes)
    assert not any("a" <= ch.lower() <= "z" for ch in spoken), spoken
    folded = material.casefold()
    for scene in script.scenes:
        if scene.kind == "body":
            assert scene.narration in material
            assert scene.on_screen_text.rstrip("…").casefold() in folded, scene.on_screen_text
            assert len(words(scene.on_screen_text)) <= 12, scene.on_screen_text


def test_a_language_written_without_word_spaces_in_an_alphabet_is_refused_with_the_reason() -> None:
    with pytest.raises(PipelineInputError, match=r"'th' is not supported \(Thai is written"):
        validated_project(
            RawProject(
                id="p",
                owner_id="o",
                title="ตลาดน้ำ",
                brief="A short video.",
                settings={"language": "th"},
                sources=[{"id": 1, "role": "material", "kind": "text", "content": "ตลาดน้ำ"}],
            )
        )
