"""espeak-ng through ctypes: audio plus word timings that follow the input text."""

from __future__ import annotations

import threading
import wave
from itertools import pairwise
from pathlib import Path

import pytest

from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.offline.speech import EspeakSpeech

TEXT = "Cities grow upward when land runs out — 3.5% a year, says the report.\nNext: parks."


def test_word_timings_are_monotonic_and_cover_the_text(tmp_path: Path) -> None:
    narration = EspeakSpeech().synthesize(TEXT, "en-us", tmp_path / "n.wav")

    assert [w.word for w in narration.words] == TEXT.split()
    starts = [w.start for w in narration.words]
    assert starts == sorted(starts)
    assert all(w.start <= w.end for w in narration.words)
    assert all(a.end <= b.start + 1e-9 for a, b in pairwise(narration.words))
    assert narration.words[0].start < 0.5
    assert narration.words[-1].end == pytest.approx(narration.duration_seconds)
    assert len({w.start for w in narration.words}) >= len(narration.words) - 2
    with wave.open(str(narration.audio_path)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds == pytest.approx(narration.duration_seconds)
    assert seconds > 3


def test_rate_sets_the_pace(tmp_path: Path) -> None:
    slow = EspeakSpeech(rate_wpm=120).synthesize(TEXT, "en-us", tmp_path / "slow.wav")
    fast = EspeakSpeech(rate_wpm=240).synthesize(TEXT, "en-us", tmp_path / "fast.wav")
    assert fast.duration_seconds < 0.7 * slow.duration_seconds


def test_unknown_voice_names_the_alternatives(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"no voice 'en-nowhere'.*en-us"):
        EspeakSpeech().synthesize("Hello.", "en-nowhere", tmp_path / "x.wav")


def test_empty_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="empty"):
        EspeakSpeech().synthesize(" \n ", "en-us", tmp_path / "x.wav")


def test_concurrent_calls_are_serialised(tmp_path: Path) -> None:
    speech = EspeakSpeech()
    results: dict[int, list[tuple[str, float]]] = {}

    def speak(index: int) -> None:
        narration = speech.synthesize(TEXT, "en-us", tmp_path / f"{index}.wav")
        results[index] = [(w.word, w.start) for w in narration.words]

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # espeak-ng's timings vary by a millisecond from call to call, even one at a time.
    for other in (results[1], results[2]):
        assert [w for w, _ in other] == [w for w, _ in results[0]]
        assert [t for _, t in other] == pytest.approx([t for _, t in results[0]], abs=0.02)


def test_japanese_is_read_not_spelled_out_and_captions_keep_the_kanji(tmp_path: Path) -> None:
    """espeak's Japanese voice says "Chinese letter" for each kanji unless given the reading."""
    written = "働き蜂は花の蜜を集めます。 東京都庁は新宿にあります。"
    narration = EspeakSpeech().synthesize(written, "ja", tmp_path / "ja.wav", "ja")
    assert [w.word for w in narration.words] == written.split()
    assert narration.words[0].start < narration.words[1].start
    assert narration.duration_seconds < 0.3 * len(written.replace(" ", ""))
