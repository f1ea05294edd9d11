"""What every stage asset shares: the partitioning, the retry policy, the asset defaults."""

from __future__ import annotations

from dagster import Backoff, DynamicPartitionsDefinition, Jitter, RetryPolicy

PROJECTS = "projects"
projects_partitions = DynamicPartitionsDefinition(name=PROJECTS)

# Provider calls fail transiently (rate limits, timeouts): retry with exponential backoff
# and jitter. Input errors are raised as non-retryable failures and never reach this.
PROVIDER_RETRY = RetryPolicy(
    max_retries=3, delay=2.0, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

OWNERS = ["team:video-pipeline"]
