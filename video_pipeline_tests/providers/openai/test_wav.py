from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.openai.wav import decode_wav, write_wav
from video_pipeline_tests.fake_openai import SAMPLE_RATE, speech_wav


def test_streamed_header_sizes_are_ignored(tmp_path: Path) -> None:
    data = speech_wav("hello world")
    assert struct.unpack("<I", data[4:8])[0] == 0xFFFFFFFF

    samples, rate = decode_wav(data)
    write_wav(tmp_path / "clean.wav", samples, rate)

    assert rate == SAMPLE_RATE and samples.shape[1] == 1
    with wave.open(str(tmp_path / "clean.wav")) as clean:
        assert clean.getnframes() == len(samples)
        assert np.array_equal(np.frombuffer(clean.readframes(len(samples)), "<i2"), samples[:, 0])


def test_not_a_wav() -> None:
    with pytest.raises(ProviderError, match="not return a WAV"):
        decode_wav(b"ID3\x04mp3 data here")
