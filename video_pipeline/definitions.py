"""The code location: every asset, check, job, sensor, schedule and resource in one place.

Built lazily: importing this module reads no environment and connects to nothing; Dagster
calls `defs` when it loads the code location, and an invalid setting fails then, naming its
environment variable.
"""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions, definitions

from video_pipeline.assets.content import (
    dna_profile,
    embeddings,
    research,
    safety_check,
    script,
    sources,
)
from video_pipeline.assets.render import render
from video_pipeline.automation import (
    make_video,
    project_intake,
    project_run_failed,
    project_run_succeeded,
    resume_approved,
    retry_failed_projects,
)
from video_pipeline.cancellation import project_cancel_requests, project_run_canceled
from video_pipeline.distributed import executor_for
from video_pipeline.platform_sensors import PLATFORM_SENSORS
from video_pipeline.retention import archive_ended_projects, archive_schedule
from video_pipeline.settings import Settings, load_settings

# Data versions on outputs are a deliberate choice; their beta notice is noise in every run.
warnings.filterwarnings("ignore", category=BetaWarning)


def build_definitions(settings: Settings) -> Definitions:
    # Embedded default: one process per run, steps in sequence inside it (the stages are a
    # chain, and each step of the multiprocess executor would pay 1.5–3 s to import Dagster
    # again); runs of different projects proceed in parallel. VIDEO_PIPELINE_EXECUTOR=celery
    # sends each step to Celery workers instead (video_pipeline/distributed.py).
    return Definitions(
        assets=[sources, research, dna_profile, safety_check, script, embeddings, render],
        jobs=[make_video, archive_ended_projects],
        sensors=[
            project_intake,
            resume_approved,
            project_run_failed,
            project_run_succeeded,
            project_cancel_requests,
            project_run_canceled,
            *PLATFORM_SENSORS,
        ],
        schedules=[retry_failed_projects, archive_schedule],
        resources=settings.resources(),
        executor=executor_for(settings.execution),
    )


@definitions
def defs() -> Definitions:
    return build_definitions(load_settings(secrets_as_env_vars=True))
