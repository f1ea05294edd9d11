"""Caption grouping and files: timing follows the voice, text stays literal."""

from __future__ import annotations

import re
from pathlib import Path

import ffmpeg
import numpy as np
import pytest

from video_pipeline.models import SubtitleStyle
from video_pipeline.providers.base import Narration, WordTiming
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import RenderedVideo, render_video, verify_render
from video_pipeline.render.ass import escape_ass_text
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.captions import (
    CaptionEvent,
    LineFit,
    SceneWords,
    group_captions,
    write_srt,
    write_vtt,
)
from video_pipeline_tests.render.conftest import make_script, settings_for

NARRATIONS = (
    "Every morning the harbour fills with small boats. Fishermen sort the night's catch "
    "while gulls circle overhead.",
    "By noon the market is quiet again.",
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> RenderedVideo:
    return render_video(
        make_script(*NARRATIONS),
        settings_for(make_script(*NARRATIONS), aspect="9:16", resolution="720p"),
        EspeakSpeech(),
        TitleCardImages(),
        tmp_path_factory.mktemp("captions"),
    )


def test_each_caption_starts_with_its_first_spoken_word(
    rendered: RenderedVideo, tmp_path: Path
) -> None:
    speech = EspeakSpeech()
    spoken: list[float] = []
    for index, (narration, span) in enumerate(zip(NARRATIONS, rendered.scenes, strict=True)):
        said = speech.synthesize(narration, "en-us", tmp_path / f"{index}.wav")
        tempo = said.duration_seconds / span.spoken_seconds  # the length fit's
        spoken += [span.start + word.start / tempo for word in said.words]
    first_word = 0
    for event in rendered.captions:
        assert abs(event.start - spoken[first_word]) <= 0.150, event
        first_word += event.word_count
    assert first_word == len(spoken)
    assert len(rendered.captions) > len(NARRATIONS)


class TenthsOfASecond(EspeakSpeech):
    """espeak with every word time rounded to 0.1 s, so captions start exactly on a frame,
    where a timestamp rounded on its way through ffmpeg would move them to the next one."""

    def synthesize(
        self, text: str, voice: str, out_path: Path, language: str | None = None
    ) -> Narration:
        said = super().synthesize(text, voice, out_path, language)
        words = [
            WordTiming(word=w.word, start=round(w.start, 1), end=round(w.end, 1))
            for w in said.words
        ]
        return said.model_copy(update={"words": words})


@pytest.fixture(scope="module")
def rendered_on_frames(tmp_path_factory: pytest.TempPathFactory) -> RenderedVideo:
    return render_video(
        make_script(*NARRATIONS),
        settings_for(make_script(*NARRATIONS), aspect="9:16", resolution="720p"),
        TenthsOfASecond(),
        TitleCardImages(),
        tmp_path_factory.mktemp("captions-on-frames"),
    )


@pytest.mark.parametrize("video", ["rendered", "rendered_on_frames"])
def test_burned_caption_changes_on_the_frame_its_event_starts(
    video: str, request: pytest.FixtureRequest
) -> None:
    """Each caption is drawn once per segment; a timestamp off by a hair would skip it."""
    rendered: RenderedVideo = request.getfixturevalue(video)
    strips = _caption_strips(rendered)
    on_a_frame = 0
    for event in rendered.captions[1:]:
        frame = round(event.start * 30)
        on_a_frame += abs(event.start * 30 - frame) < 1e-6
        before, at, after = strips[frame - 1], strips[frame], strips[frame + 1]
        assert _difference(before, at) > 5 * _difference(at, after), event
    if video == "rendered_on_frames":
        assert on_a_frame >= 2, "the case this fixture is for: captions starting on a frame"


def test_captions_stay_within_lines_and_scenes(rendered: RenderedVideo) -> None:
    settings = settings_for(make_script(*NARRATIONS), aspect="9:16", resolution="720p")
    for event in rendered.captions:
        lines = event.text.split("\n")
        assert len(lines) <= 2
        assert all(len(line) <= settings.subtitle_style.max_chars_per_line for line in lines)
    assert verify_render(rendered, make_script(*NARRATIONS), settings) == []


def test_grouping_respects_line_length_and_sentence_ends() -> None:
    text = "one two three four five six. seven eight nine ten eleven"
    words = [
        WordTiming(word=w, start=i * 0.3, end=i * 0.3 + 0.3) for i, w in enumerate(text.split())
    ]
    fit = LineFit(width=10_000, font_size=40, max_chars=10)
    events = group_captions([SceneWords(words=words, start=0.0, end=4.0)], fit)
    assert [e.text for e in events] == [
        "one two\nthree four",
        "five six.",
        "seven\neight nine",
        "ten eleven",
    ]
    assert [e.start for e in events] == pytest.approx([0.0, 1.2, 1.8, 2.7])
    assert [e.end for e in events] == pytest.approx([1.2, 1.8, 2.7, 4.0])


def test_a_long_style_line_limit_still_allows_two_lines_at_most() -> None:
    style = SubtitleStyle(max_chars_per_line=80)
    words = [WordTiming(word="word", start=i * 0.2, end=i * 0.2 + 0.2) for i in range(60)]
    fit = LineFit(width=10_000, font_size=40, max_chars=style.max_chars_per_line)
    events = group_captions([SceneWords(words=words, start=0, end=12)], fit)
    assert all(len(e.text.split("\n")) <= 2 for e in events)
    assert sum(e.word_count for e in events) == 60


def test_srt_and_vtt_files(tmp_path: Path) -> None:
    events = [
        CaptionEvent(start=0.0, end=1.5, text="a <b> & c", word_count=4),
        CaptionEvent(start=61.25, end=3725.004, text="two\nlines", word_count=2),
    ]
    srt = write_srt(events, tmp_path / "c.srt").read_text(encoding="utf-8")
    assert srt == (
        "1\n00:00:00,000 --> 00:00:01,500\na <b> & c\n\n"
        "2\n00:01:01,250 --> 01:02:05,004\ntwo\nlines\n"
    )
    vtt = write_vtt(events, tmp_path / "c.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\na &lt;b&gt; &amp; c\n")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("{\\b1}bold", "{\\b1}bold"),
        ("a\\Nb \\n \\h", "a\\Nb \\n \\h"),
        ("back\\{slash}", "back\\{slash}"),
        ("trailing\\", "trailing\\"),
        ("new\nline", "new line"),
    ],
)
def test_ass_escaping_renders_literally(text: str, shown: str) -> None:
    assert libass_visible_text(escape_ass_text(text)) == shown


RENDER_OVERRIDE = re.compile(r"\{(?:\\fn[^\\{}]*|\\fsc[xy][\d.]+|\\k\d+)+\}")


def libass_visible_text(dialogue_text: str) -> str:
    """What libass draws for a Dialogue text (as in its `get_next_char`), override blocks
    removed, with `\\N` as a newline. Fails if the text contains an override block other than
    the render's own: font switches (`\\fn`), text scale and karaoke timing."""
    out, index = [], 0
    while index < len(dialogue_text):
        char = dialogue_text[index]
        pair = dialogue_text[index : index + 2]
        own = RENDER_OVERRIDE.match(dialogue_text, index)
        if own:
            index = own.end()
            continue
        if char == "{":
            raise AssertionError(f"override block in {dialogue_text!r}")
        if pair in ("\\N", "\\n", "\\h", "\\{", "\\}"):
            out.append({"\\N": "\n", "\\n": " ", "\\h": "\u00a0"}.get(pair, pair[1]))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out).replace("\u2060", "")


def ass_dialogue_texts(ass_file: Path) -> list[str]:
    lines = ass_file.read_text(encoding="utf-8").splitlines()
    return [line.split(",", 9)[9] for line in lines if line.startswith("Dialogue:")]


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def _caption_strips(rendered: RenderedVideo) -> np.ndarray:
    """The lower third of every frame, small and grey: where the captions are."""
    width, height = 90, 160
    out, _ = (
        ffmpeg.input(str(rendered.video))
        .video.filter("crop", "iw", "ih/3", 0, "2*ih/3")
        .filter("scale", width, height)
        .filter("format", "gray")
        .output("pipe:", format="rawvideo", fps_mode="passthrough")
        .run(cmd=str(ffmpeg_path()), capture_stdout=True, capture_stderr=True)
    )
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, height * width)


def test_the_last_word_of_a_sentence_is_never_left_alone_in_an_event() -> None:
    text = "one two three four five six. seven"
    words = [
        WordTiming(word=w, start=i * 0.3, end=i * 0.3 + 0.3) for i, w in enumerate(text.split())
    ]
    fit = LineFit(width=10_000, font_size=40, max_chars=10)
    events = group_captions([SceneWords(words=words, start=0.0, end=3.0)], fit)
    # "five six." would not fit beside "one two three four": the sentence's last two words
    # make an event; a sentence of one word ("seven") stays one.
    assert [e.text for e in events] == ["one two\nthree four", "five six.", "seven"]
    words = [
        WordTiming(word=w, start=i * 0.3, end=i * 0.3 + 0.3)
        for i, w in enumerate(["bees", "make", "wax", "then", "hive."])
    ]
    events = group_captions([SceneWords(words=words, start=0.0, end=3.0)], fit)
    # Two lines hold "bees make" and "wax then": "hive." would have been alone.
    assert [e.text for e in events] == ["bees make\nwax", "then hive."]
