"""Rows of `retrievable_text` encoded for `COPY ... FROM STDIN WITH (FORMAT binary)`.

Binary COPY skips text parsing on the server; vectors go as pgvector's binary form (int16
dimension, int16 zero, big-endian float4s), taken from one numpy array per batch.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
COLUMNS = (
    "project_id, owner_id, model, dimension, text_config, kind, ref, ordinal, content, embedding"
)
_FIELD_COUNT = struct.pack(">h", 10)
_INT4 = struct.pack(">i", 4)


class ChunkRow(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def ref(self) -> str: ...
    @property
    def ordinal(self) -> int: ...
    @property
    def content(self) -> str: ...


def _text(value: str) -> bytes:
    # Postgres text cannot hold NUL; extracted documents sometimes do.
    data = value.replace("\x00", "").encode()
    return struct.pack(">i", len(data)) + data


def vectors_array(embeddings: Sequence[Sequence[float]] | np.ndarray, dimension: int) -> np.ndarray:
    """The embeddings as big-endian float32, refusing wrong dimensions and non-finite values."""
    array = np.asarray(embeddings, dtype=np.float32)
    if array.size == 0:
        return np.zeros((0, dimension), dtype=">f4")
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(f"embeddings have shape {array.shape}, expected (n, {dimension})")
    if not np.isfinite(array).all():
        raise ValueError("embeddings contain NaN or infinite values")
    return array.astype(">f4")


def encode_project(
    project_id: str,
    owner_id: str,
    model: str,
    text_config_oid: int,
    chunks: Sequence[ChunkRow],
    vectors: np.ndarray,
) -> Iterator[bytes]:
    """The COPY tuples of one project's chunks (without header or trailer)."""
    dimension = int(vectors.shape[1])
    project = uuid.UUID(project_id).bytes
    shared = b"".join(
        [
            _FIELD_COUNT,
            struct.pack(">i", 16) + project,
            _text(owner_id),
            _text(model),
            _INT4 + struct.pack(">i", dimension),
            _INT4 + struct.pack(">I", text_config_oid),
        ]
    )
    vector_prefix = struct.pack(">ihh", 4 + 4 * dimension, dimension, 0)
    raw = memoryview(vectors.tobytes())
    width = 4 * dimension
    for index, chunk in enumerate(chunks):
        yield b"".join(
            [
                shared,
                _text(chunk.kind),
                _text(chunk.ref),
                _INT4 + struct.pack(">i", chunk.ordinal),
                _text(chunk.content),
                vector_prefix,
                raw[index * width : (index + 1) * width],
            ]
        )
