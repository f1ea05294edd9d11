"""Blocking check results the stages evaluate themselves."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity


def problems_check(name: str, problems: list[str], holds: str) -> AssetCheckResult:
    """Passes when there are no `problems`; its description says what holds, or each problem."""
    return AssetCheckResult(
        check_name=name,
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems) if problems else holds,
        metadata={"problems": len(problems)},
    )
