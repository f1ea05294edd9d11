"""What every stage asset shares: the partitioning, the retry policy, the asset defaults."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dagster import (
    AssetCheckSpec,
    AssetsDefinition,
    Backoff,
    DynamicPartitionsDefinition,
    Jitter,
    RetryPolicy,
    asset,
)

from video_pipeline.queues import step_placement

PROJECTS = "projects"
projects_partitions = DynamicPartitionsDefinition(name=PROJECTS)

# Provider calls fail transiently (rate limits, timeouts): retry with exponential backoff
# and jitter. Input errors are raised as non-retryable failures and never reach this.
PROVIDER_RETRY = RetryPolicy(
    max_retries=3, delay=2.0, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

OWNERS = ["team:video-pipeline"]


def stage_asset(
    *,
    group: str,
    kinds: set[str],
    description: str,
    code_version: str = "1",
    retry: bool = True,
    checks: Sequence[tuple[str, bool]] = (),
    after: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """A project-partitioned stage asset with the project's defaults.

    `checks` are (name, blocking) pairs of checks the stage itself evaluates; `after` names
    stages that must have finished first although the stage reads nothing of theirs.
    """

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        # The retried stages are the provider-backed ones (see PROVIDER_RETRY).
        placement = step_placement(group, calls_provider=retry)
        return asset(
            name=fn.__name__,
            partitions_def=projects_partitions,
            group_name=group,
            kinds=kinds,
            owners=OWNERS,
            code_version=code_version,
            retry_policy=PROVIDER_RETRY if retry else None,
            op_tags=placement.op_tags,
            pool=placement.pool,
            deps=list(after),
            description=description,
            check_specs=[
                AssetCheckSpec(name, asset=fn.__name__, blocking=blocking)
                for name, blocking in checks
            ],
        )(fn)

    return decorate
