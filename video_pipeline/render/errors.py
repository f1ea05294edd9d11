"""The one exception the render engine raises."""


class RenderError(RuntimeError):
    """Rendering failed; the message says which step and, for ffmpeg, ends with its stderr.

    `transient` marks failures that may pass on a second try (ffmpeg killed by a signal from
    outside, e.g. the out-of-memory killer); anything else would fail the same way again.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
