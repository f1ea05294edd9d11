"""Per-owner quotas: the limits, what an owner has used, and which limit stops a project.

Pure functions over small models, so the rules are testable without a database; the intake
sensor gathers the usage (storage/quota_usage.py) and applies the verdict. Days and months
are UTC; a project over a quota waits in `deferred` until the quota resets, then starts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dagster import Config
from pydantic import BaseModel, ConfigDict, Field


class QuotaLimits(Config):
    """None means unlimited."""

    model_config = ConfigDict(extra="forbid")

    projects_per_day: int | None = Field(default=None, ge=0)
    projects_in_progress: int | None = Field(default=None, ge=0)
    cost_per_day_usd: float | None = Field(default=None, ge=0)
    cost_per_month_usd: float | None = Field(default=None, ge=0)

    def overridden_by(self, owner: QuotaLimits) -> QuotaLimits:
        """The deployment's defaults with the owner's own limits where it has them."""
        return self.model_copy(update=owner.model_dump(exclude_none=True))

    @property
    def unlimited(self) -> bool:
        return all(value is None for value in self.model_dump().values())


class OwnerUsage(BaseModel):
    started_today: int = 0
    in_progress: int = 0
    cost_today_usd: float = 0.0
    cost_month_usd: float = 0.0


class QuotaStop(BaseModel):
    quota: str
    limit: float
    used: float
    resets_at: datetime | None

    @property
    def message(self) -> str:
        if self.limit <= 0:
            option = "--" + self.quota.replace("_", "-")
            return (
                f"quota {self.quota} is 0: this owner may not start projects; deferred until "
                f"the quota is raised (video-pipeline owner set OWNER {option} N)"
            )
        when = (
            f"when the quota resets at {self.resets_at:%Y-%m-%d %H:%M} UTC"
            if self.resets_at
            else "when one of the owner's projects in progress finishes"
        )
        return (
            f"quota {self.quota} reached ({self.used:g} of {self.limit:g}); deferred, "
            f"starts by itself {when}"
        )


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


def _next_month(now: datetime) -> datetime:
    start = month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


def quota_stop(limits: QuotaLimits, usage: OwnerUsage, now: datetime) -> QuotaStop | None:
    """The first quota that starting one more project would break, or None."""
    tomorrow = day_start(now) + timedelta(days=1)
    checks: list[tuple[str, float | None, float, datetime | None]] = [
        ("projects_in_progress", limits.projects_in_progress, usage.in_progress, None),
        ("projects_per_day", limits.projects_per_day, usage.started_today, tomorrow),
        ("cost_per_day_usd", limits.cost_per_day_usd, usage.cost_today_usd, tomorrow),
        ("cost_per_month_usd", limits.cost_per_month_usd, usage.cost_month_usd, _next_month(now)),
    ]
    for name, limit, used, resets_at in checks:
        if limit is not None and used >= limit:
            return QuotaStop(quota=name, limit=limit, used=round(used, 6), resets_at=resets_at)
    return None


def admitted(usage: OwnerUsage) -> OwnerUsage:
    """The owner's usage once one more project has started."""
    return usage.model_copy(
        update={"started_today": usage.started_today + 1, "in_progress": usage.in_progress + 1}
    )
