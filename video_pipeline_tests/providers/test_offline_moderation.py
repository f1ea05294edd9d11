"""The lexicon moderator's scoring rules."""

from __future__ import annotations

from video_pipeline.providers.offline.moderation import LEXICON, LexiconModeration
from video_pipeline.stages.safety import CATEGORIES


def test_reports_every_safety_category() -> None:
    result = LexiconModeration().moderate(["Bees make honey."])
    assert tuple(LEXICON) == CATEGORIES
    assert set(result.scores) == set(CATEGORIES)
    assert all(score == 0.0 for score in result.scores.values())


def test_stronger_phrase_is_not_double_counted() -> None:
    result = LexiconModeration().moderate(["I will kill you."])
    assert result.evidence["violence"] == ["i will kill you"]
    assert result.scores["violence"] == 0.9


def test_repeats_add_less_and_scores_stay_in_range() -> None:
    once = LexiconModeration().moderate(["The army killed the defenders."]).scores["violence"]
    many = LexiconModeration().moderate(["killed " * 50]).scores["violence"]
    assert once < many < 1.0
    assert many == round(1 - (1 - 0.3) * (1 - 0.15) ** 2, 4)


def test_scores_combine_across_texts() -> None:
    result = LexiconModeration().moderate(["a massacre", "then murder"])
    assert result.scores["violence"] == round(1 - 0.55 * 0.775, 4)
