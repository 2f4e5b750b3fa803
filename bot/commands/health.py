"""Health: what an operator (or a probe) needs to know about a running bot, platform-free.

`HealthReport` is built from the store and the running scheduler; the HTTP adapter serves
it as ``/healthz`` (JSON), ``/readyz`` (ready: the database answers and every platform is
connected) and ``/metrics`` (Prometheus text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.delivery.slots import UpcomingJob
from bot.delivery.worker import Counters
from bot.domain import ComposeAttempt, ModelUsage, RunOutcome, SourceRun, Subscription


@dataclass(frozen=True, slots=True)
class HealthReport:
    """A snapshot of the bot's health."""

    at: datetime
    database_ok: bool
    platforms: Mapping[str, bool] = field(default_factory=dict)
    failing_sources: Sequence[tuple[str, str]] = ()
    paused: Sequence[tuple[str, str]] = ()
    next_jobs: Sequence[UpcomingJob] = ()
    pending_deliveries: int = 0
    counters: Counters = field(default_factory=Counters)
    problem: str = ""
    version: str = ""
    # Read from the store, so shared by every instance: the last ingest and compose that ran.
    last_success: Mapping[str, datetime] = field(default_factory=dict)
    llm_usage: Sequence[ModelUsage] = ()

    @property
    def ready(self) -> bool:
        """True when the database answers and every platform is connected."""
        return self.database_ok and all(self.platforms.values())

    @property
    def status(self) -> str:
        """``ok``; ``degraded`` (something needs an admin); ``down`` (no database)."""
        if not self.database_ok:
            return "down"
        if self.failing_sources or self.paused or not all(self.platforms.values()):
            return "degraded"
        return "ok"

    def as_json(self) -> dict[str, object]:
        """Return the report as a JSON-ready mapping."""
        return {
            "status": self.status,
            "version": self.version,
            "at": self.at.isoformat(),
            "database": "ok" if self.database_ok else f"unreachable: {self.problem}",
            "platforms": dict(self.platforms),
            "failing_sources": [{"source": s, "reason": r} for s, r in self.failing_sources],
            "paused_subscriptions": [{"destination": d, "reason": r} for d, r in self.paused],
            "pending_deliveries": self.pending_deliveries,
            "next_jobs": [{"job": j.name, "at": j.at.isoformat()} for j in self.next_jobs],
        }


def failing(runs: Sequence[SourceRun]) -> list[tuple[str, str]]:
    """Return the sources whose latest run failed, with the reason."""
    return [(run.source, run.reason) for run in runs if run.outcome is RunOutcome.FAILED]


def paused(subscriptions: Sequence[Subscription]) -> list[tuple[str, str]]:
    """Return the paused subscriptions' destinations and reasons."""
    return [(f"{s.platform}:{s.channel}", s.paused_reason) for s in subscriptions if not s.active]


def last_successes(
    runs: Sequence[SourceRun], compose: ComposeAttempt | None
) -> dict[str, datetime]:
    """Return when ingest last brought something in and when compose last ran, if ever."""
    found: dict[str, datetime] = {}
    ingested = [run.finished_at for run in runs if run.outcome is not RunOutcome.FAILED]
    if ingested:
        found["ingest"] = max(ingested)
    if compose is not None:
        found["compose"] = compose.at
    return found
