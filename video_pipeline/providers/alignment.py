"""Word timings for speech whose text is known but whose voice gives no timings.

An energy-based voice-activity pass finds the voiced stretches of the audio; a small dynamic
programme decides which words each stretch holds (pauses fall between words, most often
after punctuation), and inside a stretch the words share its time by their spoken weight.
Good enough for word-by-word captions, and cheap: numpy only.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from video_pipeline.providers.base import WordTiming

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_SENTENCE_END = tuple(".!?…")
_CLAUSE_END = tuple(",;:")
_SILENCE_DB = -60.0
_FLAT_DB = 10.0
# Fitting words to voiced segments (see _anchors).
_MAX_RUN_WORDS = 40
_MAX_SKIPPED = 3
_SKIP = 4.0
_WORD_SPREAD = 0.35
_SENTENCE_BONUS = 2.0
_CLAUSE_BONUS = 1.0


def spoken_weight(word: str) -> int:
    """How long `word` takes to say, in rough units: its letters (a proxy for phonemes)
    plus its vowel groups (syllable nuclei are drawn out); a digit is read as a word."""
    lowered = word.lower()
    letters = sum(c.isalpha() for c in lowered)
    digits = sum(c.isdigit() for c in lowered)
    return max(1, letters + len(_VOWEL_GROUPS.findall(lowered)) + 5 * digits)


def _pause_bonus(word: str) -> float:
    """Speakers pause after sentences and, less surely, after clauses."""
    word = word.rstrip("\"')”’»")
    if word.endswith(_SENTENCE_END):
        return _SENTENCE_BONUS
    return _CLAUSE_BONUS if word.endswith(_CLAUSE_END) else 0.0


def _as_mono_float(samples: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    audio = samples.astype(np.float64)
    if samples.dtype.kind in "iu":
        audio /= float(np.iinfo(samples.dtype).max)
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs in `mask`."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def voiced_segments(
    samples: npt.NDArray[Any],
    sample_rate: int,
    *,
    frame_seconds: float = 0.02,
    min_pause_seconds: float = 0.15,
    min_voiced_seconds: float = 0.06,
) -> list[tuple[float, float]]:
    """(start, end) seconds of the stretches loud enough to be speech.

    The threshold sits between the noise floor and the peak level; pauses shorter than
    `min_pause_seconds` are bridged and blips shorter than `min_voiced_seconds` dropped.
    """
    audio = _as_mono_float(samples)
    frame = max(int(sample_rate * frame_seconds), 1)
    count = len(audio) // frame
    if count == 0:
        return []
    rms = np.sqrt(np.mean(audio[: count * frame].reshape(count, frame) ** 2, axis=1))
    level = 20 * np.log10(rms + 1e-10)
    peak, floor = float(np.percentile(level, 99)), float(np.percentile(level, 10))
    if peak < _SILENCE_DB:
        return []
    if peak - floor < _FLAT_DB:  # no pauses to find: all of it is voiced
        return [(0.0, count * frame / sample_rate)]
    voiced = level > max(floor + 0.25 * (peak - floor), peak - 40.0)
    for start, end in _runs(~voiced):
        if start > 0 and end < count and (end - start) * frame_seconds < min_pause_seconds:
            voiced[start:end] = True
    return [
        (start * frame / sample_rate, end * frame / sample_rate)
        for start, end in _runs(voiced)
        if (end - start) * frame_seconds >= min_voiced_seconds
    ]


def _anchors(
    words: Sequence[str], weights: npt.NDArray[np.float64], voiced_ends: npt.NDArray[np.float64]
) -> list[tuple[int, float]]:
    """(word boundary index, voiced time) pairs pinning word boundaries to pauses.

    A dynamic programme splits the words into runs, one run per voiced segment (or per few
    segments, when a pause falls inside a run), so that each run's duration best fits its
    spoken weight at the average speaking rate. A run of n words costs
    n * (log(actual / expected duration) / _WORD_SPREAD)**2 (the error of a sum of n words
    shrinks like 1/sqrt(n)), each pause left inside a run costs `_SKIP`, and a run ending
    after punctuation earns a bonus. `weights` are cumulative spoken weights.
    """
    count, rows = len(words), len(voiced_ends) + 1
    cumulative = np.concatenate(([0.0], voiced_ends))
    rate = cumulative[-1] / weights[-1]
    bonus = np.array([0.0] + [_pause_bonus(word) for word in words])
    bonus[-1] = 0.0
    runs = np.arange(1, min(_MAX_RUN_WORDS, count) + 1)[:, None]  # words in the run
    ends = np.arange(count + 1)[None, :]  # boundary index where the run ends
    starts = ends - runs
    valid = starts >= 0
    starts = np.where(valid, starts, 0)
    expected = np.where(valid, (weights[ends] - weights[starts]) * rate, 1.0)

    cost = np.full((rows, count + 1), np.inf)
    cost[0, 0] = 0.0
    came_from = np.zeros((rows, count + 1, 2), dtype=np.int64)
    for row in range(1, rows):
        for previous in range(max(row - _MAX_SKIPPED - 1, 0), row):
            duration = cumulative[row] - cumulative[previous]
            total = np.where(
                valid,
                cost[previous][starts] + runs * (np.log(duration / expected) / _WORD_SPREAD) ** 2,
                np.inf,
            ) + _SKIP * (row - previous - 1)
            best_run = np.argmin(total, axis=0)
            best = total[best_run, ends[0]] - bonus
            better = best < cost[row]
            cost[row][better] = best[better]
            came_from[row][better] = np.stack(
                [np.full(count + 1, previous), starts[best_run, ends[0]]], 1
            )[better]
    if not np.isfinite(cost[-1, -1]):  # more pauses than can be placed: no pinning
        return [(0, 0.0), (count, float(cumulative[-1]))]
    anchors = []
    row, boundary = rows - 1, count
    while row > 0:
        anchors.append((boundary, float(cumulative[row])))
        row, boundary = (int(v) for v in came_from[row, boundary])
    return [(0, 0.0), *reversed(anchors)]


def align_words(
    words: Sequence[str], samples: npt.NDArray[Any], sample_rate: int
) -> list[WordTiming]:
    """When each of `words`, spoken in order in `samples`, starts and ends (seconds)."""
    if not words:
        return []
    duration = len(samples) / sample_rate
    segments = np.array(voiced_segments(samples, sample_rate) or [(0.0, duration)])
    lengths = segments[:, 1] - segments[:, 0]
    voiced_ends = np.cumsum(lengths)
    weights = np.cumsum([0, *(spoken_weight(word) for word in words)]).astype(np.float64)
    boundaries = np.zeros_like(weights)
    anchors = _anchors(words, weights, voiced_ends)
    for (j0, t0), (j1, t1) in itertools.pairwise(anchors):
        share = (weights[j0 : j1 + 1] - weights[j0]) / (weights[j1] - weights[j0])
        boundaries[j0 : j1 + 1] = t0 + share * (t1 - t0)

    last = len(segments) - 1
    # A boundary on a pause is the end of the segment before it for the word ending
    # there, and the start of the next one for the word starting there.
    start_seg = np.minimum(np.searchsorted(voiced_ends, boundaries, side="right"), last)
    end_seg = np.minimum(np.searchsorted(voiced_ends, boundaries, side="left"), last)
    voiced_starts = voiced_ends - lengths
    starts = segments[start_seg, 0] + boundaries - voiced_starts[start_seg]
    ends = segments[end_seg, 0] + boundaries - voiced_starts[end_seg]
    return [
        WordTiming(word=word, start=round(float(starts[i]), 3), end=round(float(ends[i + 1]), 3))
        for i, word in enumerate(words)
    ]
