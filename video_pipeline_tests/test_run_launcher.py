"""The run launcher's fork server keeps the libraries and slow data loaded and no other module
of this package: a forked run imports the pipeline's code as it is on disk."""

from __future__ import annotations

import subprocess
import sys

FORKED_RUN = """
import gc
import sys

import dagster
import video_pipeline.warm_imports

assert gc.get_freeze_count() > 0, "a run's collections would walk the fork server's objects"
import video_pipeline.definitions as preloaded
from video_pipeline.run_launcher import _forget_own_modules

_forget_own_modules()
import dagster as dagster_in_the_run
import video_pipeline.definitions as in_the_run

assert in_the_run is not preloaded, "the run reused the fork server's copy of the pipeline"
assert in_the_run.defs is not preloaded.defs
assert dagster_in_the_run is dagster, "the run imported Dagster again"
assert "dagster._daemon.cli" in sys.modules, "the daemon's main script would import it per run"
for parser in ("trafilatura", "markdown_it", "pypdf", "charset_normalizer"):
    assert parser in sys.modules, f"a run reading a source would import {parser}"
from video_pipeline.providers.language_model import language_identifier
from video_pipeline.providers.languages import detect

assert language_identifier.cache_info().currsize == 1, "the run would load the model again"
assert detect("The bees fly from flower to flower all day long.")[0] == "en"
assert language_identifier.cache_info().misses == 1
print("fresh pipeline, warm libraries")
"""


def test_a_forked_run_imports_the_pipeline_afresh_and_keeps_the_libraries() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FORKED_RUN], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fresh pipeline, warm libraries"
