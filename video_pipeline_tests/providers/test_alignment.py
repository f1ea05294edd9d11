from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from video_pipeline.providers.alignment import align_words, spoken_weight, voiced_segments

RATE = 16_000


def speech_like(
    words: list[str], pause_after: set[int]
) -> tuple[npt.NDArray[np.int16], list[float]]:
    """A tone per word, sized by its length, silent pauses after the given word indexes,
    low noise throughout; returns the samples and each word's true start."""
    rng = np.random.default_rng(3)
    pieces, starts, now = [np.zeros(int(0.2 * RATE))], [], 0.2
    for index, word in enumerate(words):
        length = int((0.08 + 0.06 * len(word) * rng.uniform(0.8, 1.2)) * RATE)
        starts.append(now)
        pieces.append(0.4 * np.sin(2 * np.pi * 200 * np.arange(length) / RATE))
        now += length / RATE
        if index in pause_after:
            pieces.append(np.zeros(int(0.3 * RATE)))
            now += 0.3
    audio = np.concatenate(pieces) + rng.normal(0, 0.002, sum(len(p) for p in pieces))
    return (audio * 32767).astype(np.int16), starts


def test_voiced_segments_find_the_pauses() -> None:
    samples, starts = speech_like(["one", "two", "three"], pause_after={0, 1})
    segments = voiced_segments(samples, RATE)

    assert len(segments) == 3
    assert [round(start, 1) for start, _ in segments] == [round(s, 1) for s in starts]


def test_words_start_near_the_voiced_segments() -> None:
    text = "Octopuses have three hearts. Their blood is blue, and their arms can think."
    words = text.split()
    pauses = {3, 7}  # after "hearts." and "blue,"
    samples, truth = speech_like(words, pauses)

    timings = align_words(words, samples, RATE)

    assert [t.word for t in timings] == words
    assert all(a.end <= b.start for a, b in itertools.pairwise(timings))
    assert all(t.start < t.end for t in timings)
    segment_starts = [start for start, _ in voiced_segments(samples, RATE)]
    phrase_starts = [timings[0].start] + [timings[i + 1].start for i in sorted(pauses)]
    assert np.allclose(phrase_starts, segment_starts, atol=0.03)
    # Inside a phrase words share its time by weight alone: close, not exact.
    assert np.abs(np.array([t.start for t in timings]) - truth).max() < 0.3


def test_silence_spreads_words_over_the_whole_clip() -> None:
    timings = align_words(["a", "quiet", "clip"], np.zeros(RATE, dtype=np.int16), RATE)

    assert timings[0].start == 0 and timings[-1].end == 1.0
    assert [t.start for t in timings] == sorted(t.start for t in timings)


def test_no_words_no_timings() -> None:
    assert align_words([], np.zeros(RATE, dtype=np.int16), RATE) == []


def test_spoken_weight_counts_letters_syllables_and_digits() -> None:
    assert spoken_weight("a") < spoken_weight("cat") < spoken_weight("caterpillar")
    assert spoken_weight("1969") > spoken_weight("year")
    assert spoken_weight("—") == 1
