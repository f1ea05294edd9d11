"""Reading the WAV that the speech endpoint streams, and writing a clean one.

A streamed WAV is sent before its length is known, so its RIFF and data sizes may be
placeholders (0xFFFFFFFF or 0); the samples are simply everything after the data header.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from video_pipeline.providers.base import ProviderError


def decode_wav(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """16-bit PCM samples (frames x channels) and the sample rate."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ProviderError("the speech endpoint did not return a WAV file; check the TTS model.")
    position, channels, rate, bits = 12, 0, 0, 0
    while position + 8 <= len(data):
        chunk, size = (
            data[position : position + 4],
            struct.unpack("<I", data[position + 4 : position + 8])[0],
        )
        body = position + 8
        if chunk == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
        elif chunk == b"data":
            if bits != 16 or channels == 0:
                raise ProviderError(f"unsupported WAV from the speech endpoint ({bits}-bit).")
            end = len(data) if size in (0, 0xFFFFFFFF) else min(body + size, len(data))
            end -= (end - body) % (2 * channels)
            samples = np.frombuffer(data[body:end], dtype="<i2").astype(np.int16)
            return samples.reshape(-1, channels), rate
        position = body + size + (size % 2)
    raise ProviderError("the WAV from the speech endpoint has no audio data.")


def write_wav(path: Path, samples: npt.NDArray[np.int16], sample_rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.astype("<i2").tobytes())
