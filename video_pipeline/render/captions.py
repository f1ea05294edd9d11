"""Caption events from word timings, and the SRT and WebVTT files that carry them (the ASS
file libass draws them from is written by `ass.py`)."""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from video_pipeline.fonts import text_width, wrap
from video_pipeline.layout import CaptionArea
from video_pipeline.providers.base import WordTiming

MAX_LINES = 2
_MIN_SCALE = 0.25
_SENTENCE_END = (".", "!", "?", "…", "。", "؟")
# Two events never start closer than this; words spoken "at once" share an event.
_MIN_EVENT_SECONDS = 0.1


class CaptionEvent(BaseModel):
    start: float
    end: float
    text: str
    """Lines joined with a newline."""
    word_count: int
    scale: float = 1.0
    """Text size relative to the style's: below 1 only for a token too long for two lines."""
    words: list[WordTiming] = []
    """The words shown, with when each is spoken (for the karaoke and pop styles)."""


class SceneWords(BaseModel):
    """One scene's words on the video's timeline and the time span the scene occupies."""

    words: list[WordTiming]
    start: float
    end: float


@dataclass(frozen=True)
class LineFit:
    """Whether a caption line fits between the margins, measured with the font stack.

    Measured at the ASS font size as if it were the em size, which is at least as wide as
    what libass draws (it scales each font so its ascent and descent span the size).
    """

    width: float
    font_size: int
    max_chars: int

    @classmethod
    def of(cls, area: CaptionArea) -> LineFit:
        return cls(area.line_width, area.font_size, area.chars_per_line)

    def scaled(self, scale: float) -> LineFit:
        return LineFit(self.width / scale, self.font_size, round(self.max_chars / scale))

    def __call__(self, line: str) -> bool:
        return len(line) <= self.max_chars and text_width(line, self.font_size) <= self.width


def group_captions(scenes: Sequence[SceneWords], fit: LineFit) -> list[CaptionEvent]:
    """Fill up to two lines per event; a scene or a sentence always ends an event.

    Each event starts when its first word is spoken and lasts until the next event starts,
    or until its scene ends.
    """
    events: list[CaptionEvent] = []
    for scene in scenes:
        groups = _group_scene_words(scene.words, fit)
        starts = [group[0].start for group in groups]
        ends = [*starts[1:], scene.end]
        for group, start, end in zip(groups, starts, ends, strict=True):
            lines, scale = _shrink_to_fit([w.word for w in group], fit)
            events.append(
                CaptionEvent(
                    start=start,
                    end=max(end, start),
                    text="\n".join(lines),
                    word_count=len(group),
                    scale=scale,
                    words=group,
                )
            )
    return events


def _group_scene_words(words: list[WordTiming], fit: LineFit) -> list[list[WordTiming]]:
    groups: list[list[WordTiming]] = []
    current: list[WordTiming] = []
    for word in words:
        if current and word.start - current[0].start >= _MIN_EVENT_SECONDS:
            too_long = len(wrap([w.word for w in [*current, word]], fit)) > MAX_LINES
            if too_long or current[-1].word.endswith(_SENTENCE_END):
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return _without_orphans(groups)


def _without_orphans(groups: list[list[WordTiming]]) -> list[list[WordTiming]]:
    """A sentence's last word alone in an event ("one." for a fraction of a second) takes
    the word before it from the event before, when that leaves it two words or more."""
    for before, group in itertools.pairwise(groups):
        same_sentence = not before[-1].word.endswith(_SENTENCE_END)
        if len(group) == 1 and len(before) >= 3 and same_sentence:
            group.insert(0, before.pop())
    return groups


def _shrink_to_fit(words: list[str], fit: LineFit) -> tuple[list[str], float]:
    """Lines of `words` and the text scale at which they take no more than two lines' height.

    Only a token too long for two lines on its own (a long URL) needs a scale below 1.
    """
    scale = 1.0
    lines = wrap(words, fit)
    while len(lines) * scale > MAX_LINES and scale > _MIN_SCALE:
        scale = max(_MIN_SCALE, scale * 0.8)
        lines = wrap(words, fit.scaled(scale))
    return lines, round(scale, 3)


# --------------------------------------------------------------------------- SRT / WebVTT


def write_srt(events: Sequence[CaptionEvent], path: Path) -> Path:
    cues = [
        f"{number}\n{_cue_time(e.start, ',')} --> {_cue_time(e.end, ',')}\n{e.text}\n"
        for number, e in enumerate(events, start=1)
    ]
    path.write_text("\n".join(cues), encoding="utf-8")
    return path


def write_vtt(events: Sequence[CaptionEvent], path: Path) -> Path:
    """WebVTT cue text is HTML-like: `&`, `<` and `>` must be escaped to stay literal."""
    cues = [
        f"{_cue_time(e.start, '.')} --> {_cue_time(e.end, '.')}\n"
        f"{html.escape(e.text, quote=False)}\n"
        for e in events
    ]
    path.write_text("\n".join(["WEBVTT\n", *cues]), encoding="utf-8")
    return path


def _cue_time(seconds: float, decimal_mark: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{decimal_mark}{rest % 1000:03d}"
