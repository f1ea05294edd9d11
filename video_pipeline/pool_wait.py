"""How a step waits for a concurrency pool slot: asleep, and asking again every second.

Two corrections to Dagster 1.13's `InstanceConcurrencyContext`, which the in-process and
multiprocess executors use to claim pool slots (the `provider` and `render` pools):

- Its `interval_to_next_pending_claim_check` returns `min(0, time to the next check)`, never
  more than zero, so the executor's loop never sleeps while a step is blocked: a run waiting
  for a slot kept a core busy for as long as it waited (measured: 4.7 s of CPU in a run that
  waited 4 s). Here it returns the time to the next check.
- A blocked step asks again after a back-off growing from 1 s to 15 s. When a slot frees,
  Dagster assigns it to the first waiting step, and nobody else can use it until that step
  asks again: up to 15 s of an idle render slot while other runs wait. Here a blocked step
  asks every `CLAIM_CHECK_SECONDS` (one indexed transaction on the event-log database).

Imported by `distributed.py`, which chooses the executor; a claim's own `sleep_interval`, if
the storage sets one, still wins, as in Dagster.
"""

from __future__ import annotations

import time

from dagster._core.execution.plan import instance_concurrency_context as context_module
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

CLAIM_CHECK_SECONDS = 1.0


def _interval_to_next_pending_claim_check(self: InstanceConcurrencyContext) -> float:
    if not self._pending_claims or not self._pending_timeouts:
        return 0.0
    return max(0.0, min(self._pending_timeouts.values()) - time.time())


def _claim_check_interval(sleep_interval: float | None, pending_claim_count: int) -> float:
    return CLAIM_CHECK_SECONDS if sleep_interval is None else sleep_interval


InstanceConcurrencyContext.interval_to_next_pending_claim_check = (  # type: ignore[method-assign]
    _interval_to_next_pending_claim_check
)
context_module._calculate_timeout_interval = _claim_check_interval
