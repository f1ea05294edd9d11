"""Preloaded by the run launcher's fork server, so that every library the definitions import
is in memory before a run is forked. An error here is left to the run, which imports the
definitions again and reports it in its log."""

import contextlib

with contextlib.suppress(Exception):
    import video_pipeline.definitions  # noqa: F401
