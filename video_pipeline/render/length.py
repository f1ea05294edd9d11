"""Fitting the video to the length asked for, once the narration has been measured.

A script is sized by an estimate of how fast its voice speaks; the voice decides. Before the
one encode, the measured narration is fitted to `duration_seconds` by, in order: playing the
speech a little faster or slower (within the pace the script allows), lengthening or
shortening the pauses between scenes, dropping body scenes when it is still too long, and
holding the last picture when it is still too short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from video_pipeline.models import SCENE_PAUSE_SECONDS

LENGTH_TOLERANCE = 0.05
"""How far the video may be from the length asked for (a fraction of it)."""
TEMPO_LIMITS = (0.8, 1.25)
"""Speech sped up or slowed down further than this starts to sound processed."""
PAUSE_LIMITS = (0.25, 1.0)
"""Seconds after each scene's narration; longer reads as a gap in the narration."""
MAX_HOLD_SHARE = 0.25
"""The last picture is held at most this share of the length asked for."""


@dataclass(frozen=True)
class SceneSpeech:
    seconds: float
    """Length of the scene's narration as synthesised."""
    words: int
    droppable: bool
    """A body scene, which the video can do without."""


@dataclass(frozen=True)
class LengthFit:
    kept: tuple[int, ...]
    """Indexes of the scenes the video keeps, in order."""
    tempo: float
    """Speech is played this many times as fast as it was synthesised."""
    pause_seconds: float
    hold_seconds: float
    """Added to the last scene."""

    def scene_seconds(self, spoken: Sequence[float]) -> list[float]:
        """Each kept scene's length from its speech at the new tempo: plus its pause, and the
        hold for the last."""
        lengths = [seconds + self.pause_seconds for seconds in spoken]
        lengths[-1] += self.hold_seconds
        return lengths


def fit_length(
    scenes: Sequence[SceneSpeech],
    target_seconds: float,
    words_per_minute: float,
    pace_allowance: float,
) -> LengthFit:
    """The plan that lands nearest `target_seconds`.

    Tempo keeps the spoken pace within `pace_allowance` of `words_per_minute` (the pace the
    script was written for) and within `TEMPO_LIMITS`.
    """
    kept = list(range(len(scenes)))
    fit = _fit_kept(scenes, kept, target_seconds, words_per_minute, pace_allowance)
    while _length(scenes, fit) > target_seconds * (1 + LENGTH_TOLERANCE / 2):
        candidates = [i for i in kept if scenes[i].droppable]
        if len(candidates) <= 1:  # the video keeps at least one body scene
            break
        trials = [
            _fit_kept(
                scenes,
                [k for k in kept if k != i],
                target_seconds,
                words_per_minute,
                pace_allowance,
            )
            for i in candidates
        ]
        fit = min(trials, key=lambda trial: abs(_length(scenes, trial) - target_seconds))
        kept = list(fit.kept)
    return fit


def _fit_kept(
    scenes: Sequence[SceneSpeech],
    kept: list[int],
    target: float,
    words_per_minute: float,
    allowance: float,
) -> LengthFit:
    spoken = sum(scenes[i].seconds for i in kept)
    words = sum(scenes[i].words for i in kept)
    slowest, fastest = _tempo_range(words / spoken * 60, words_per_minute, allowance)
    wanted = spoken / max(1e-3, target - len(kept) * SCENE_PAUSE_SECONDS)
    tempo = min(fastest, max(slowest, wanted))
    pause = (target - spoken / tempo) / len(kept)
    pause = min(PAUSE_LIMITS[1], max(PAUSE_LIMITS[0], pause))
    short = target - spoken / tempo - len(kept) * pause
    hold = min(MAX_HOLD_SHARE * target, max(0.0, short))
    return LengthFit(tuple(kept), round(tempo, 4), round(pause, 3), round(hold, 3))


def _tempo_range(measured_wpm: float, wanted_wpm: float, allowance: float) -> tuple[float, float]:
    """Tempos at which the measured pace lands within the allowance, within the limits."""
    low = max(TEMPO_LIMITS[0], wanted_wpm * (1 - allowance) / measured_wpm)
    high = min(TEMPO_LIMITS[1], wanted_wpm * (1 + allowance) / measured_wpm)
    if low > high:  # the voice is far off the pace: get as close as the limits allow
        nearest = min(TEMPO_LIMITS[1], max(TEMPO_LIMITS[0], wanted_wpm / measured_wpm))
        return nearest, nearest
    return low, high


def _length(scenes: Sequence[SceneSpeech], fit: LengthFit) -> float:
    return sum(fit.scene_seconds([scenes[i].seconds / fit.tempo for i in fit.kept]))


def length_problem(video_seconds: float, target_seconds: float) -> str | None:
    """Says by how much the video misses the length asked for, if it does."""
    miss = video_seconds - target_seconds
    if abs(miss) <= LENGTH_TOLERANCE * target_seconds:
        return None
    return (
        f"the video lasts {video_seconds:.1f} s, {abs(miss):.1f} s "
        f"({abs(miss) / target_seconds:.0%}) {'longer' if miss > 0 else 'shorter'} than the "
        f"{target_seconds:g} s asked for (allowed ±{LENGTH_TOLERANCE:.0%})"
    )
