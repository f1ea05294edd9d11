"""Caption events from word timings, and the ASS, SRT and WebVTT files that carry them.

User text reaches ffmpeg only inside the ASS file, escaped so libass shows it literally.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from video_pipeline.models import SubtitleStyle
from video_pipeline.providers.base import WordTiming
from video_pipeline.render.layout import CaptionArea, FrameSize

MAX_LINES = 2
_SENTENCE_END = (".", "!", "?", "…", "。", "؟")
# Two events never start closer than this; words spoken "at once" share an event.
_MIN_EVENT_SECONDS = 0.1
# Invisible and non-breaking: separates a literal backslash from a letter libass would read
# as an escape (\N, \n, \h).
_WORD_JOINER = "\u2060"


class CaptionEvent(BaseModel):
    start: float
    end: float
    text: str
    """Lines joined with a newline."""
    word_count: int


class SceneWords(BaseModel):
    """One scene's words on the video's timeline and the time span the scene occupies."""

    words: list[WordTiming]
    start: float
    end: float


def group_captions(scenes: Sequence[SceneWords], chars_per_line: int) -> list[CaptionEvent]:
    """Fill up to two lines per event; a scene or a sentence always ends an event.

    Each event starts when its first word is spoken and lasts until the next event starts,
    or until its scene ends.
    """
    events: list[CaptionEvent] = []
    for scene in scenes:
        groups = _group_scene_words(scene.words, chars_per_line)
        starts = [group[0].start for group in groups]
        ends = [*starts[1:], scene.end]
        for group, start, end in zip(groups, starts, ends, strict=True):
            events.append(
                CaptionEvent(
                    start=start,
                    end=max(end, start),
                    text="\n".join(_wrap([w.word for w in group], chars_per_line)),
                    word_count=len(group),
                )
            )
    return events


def _group_scene_words(words: list[WordTiming], chars_per_line: int) -> list[list[WordTiming]]:
    groups: list[list[WordTiming]] = []
    current: list[WordTiming] = []
    for word in words:
        if current and word.start - current[0].start >= _MIN_EVENT_SECONDS:
            too_long = len(_wrap([w.word for w in [*current, word]], chars_per_line)) > MAX_LINES
            if too_long or current[-1].word.endswith(_SENTENCE_END):
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups


def _wrap(words: list[str], chars_per_line: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= chars_per_line:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


# --------------------------------------------------------------------------- ASS


def escape_ass_text(text: str) -> str:
    """Make `text` render literally in an ASS Dialogue line (no overrides, no escapes)."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char in "{}":
            out.append("\\" + char)
        elif char == "\\":
            following = text[index + 1 : index + 2]
            out.append("\\" + _WORD_JOINER if following and following in "Nnh" else "\\")
        elif char in "\r\n\t\v\f":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def write_ass(
    events: Sequence[CaptionEvent],
    path: Path,
    size: FrameSize,
    area: CaptionArea,
    style: SubtitleStyle,
) -> Path:
    """Captions for a canvas of the caption band (`area.band_height` high), not the frame."""
    font = style.font.replace(",", " ")
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {size.width}",
        f"PlayResY: {area.band_height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,{font},{area.font_size},{_ass_colour(style.primary_colour)},"
        f"{_ass_colour(style.primary_colour)},{_ass_colour(style.outline_colour)},&H80000000,"
        f"-1,0,0,0,100,100,0,0,1,{area.outline:.1f},0,2,"
        f"{area.side_margin},{area.side_margin},{area.bottom_margin},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    dialogues = [
        f"Dialogue: 0,{_ass_time(e.start)},{_ass_time(e.end)},Default,,0,0,0,,"
        + "\\N".join(escape_ass_text(line) for line in e.text.split("\n"))
        for e in events
    ]
    path.write_text("\n".join([*header, *dialogues, ""]), encoding="utf-8")
    return path


def _ass_colour(hex_rgb: str) -> str:
    red, green, blue = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"&H00{blue}{green}{red}".upper()


def _ass_time(seconds: float) -> str:
    """Rounded down, with half a centisecond to spare.

    A caption that starts on a frame must already show on that frame, whatever rounding the
    frame's timestamp went through on its way to libass; frames are 33 ms apart, so this
    never shows a caption a frame early.
    """
    centis = max(0, math.floor(seconds * 100 - 0.5))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


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
