"""Status: one snapshot of what the bot did and will do, for every reader.

`collect_status` reads the store once into a `StatusReport`; ``digestbot status`` prints all
of it, ``digestbot subscriptions`` its subscriptions, and ``/digest-admin status`` a short
answer from the same report, so none of them can disagree with another. Platform-free:
the store is reached through `StatusStore`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.config import ScheduleSettings
from bot.domain import DeliveryJob, RunOutcome, SourceRun, Submission, SubscriptionRecord
from bot.ports import Clock

if TYPE_CHECKING:
    from bot.scheduler import UpcomingJob

RECENT_FAILURES = 5
"""How many of the latest failed or skipped deliveries the report keeps."""
JOBS_READ = 200
"""How many of the newest delivery jobs are read to find each destination's latest."""


class StatusStore(Protocol):
    """What status reads."""

    async def last_source_runs(self) -> list[SourceRun]:
        """Return each source's latest run."""
        ...

    async def last_compose(self) -> tuple[date, str, str, datetime] | None:
        """Return the latest compose attempt: (edition date, outcome, reason, when)."""
        ...

    async def subscription_records(self) -> list[SubscriptionRecord]:
        """Return every subscription with who created it and when."""
        ...

    async def last_deliveries(self) -> list[tuple[str, date, int, datetime]]:
        """Return per destination its latest edition's date, parts sent and last send time."""
        ...

    async def delivery_jobs(
        self, states: Sequence[str] | None = None, limit: int = 200
    ) -> list[DeliveryJob]:
        """Return delivery jobs (in some states), newest first."""
        ...

    async def count_delivery_jobs(self, states: Sequence[str]) -> int:
        """Return how many delivery jobs are in ``states``."""
        ...

    async def llm_spend_since(self, since: datetime) -> tuple[int, int, float]:
        """Return (calls, tokens, cost in USD) spent on the model since ``since``."""
        ...

    async def pending_submissions(self) -> list[Submission]:
        """Return the editors' picks not yet resolved."""
        ...


@dataclass(frozen=True, slots=True)
class ComposeStatus:
    """The latest compose attempt."""

    edition_date: date
    outcome: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """The latest edition sent to one destination: its date, parts sent, last send."""

    destination: str
    edition_date: date
    parts: int
    at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    """A subscription, its next slot, and what was last delivered or tried there."""

    record: SubscriptionRecord
    # The next slot of its schedule (UTC); None while paused.
    next_delivery: datetime | None
    last_delivery: DeliveryStatus | None
    # The newest outbox job for this destination (its state and reason), if any.
    last_job: DeliveryJob | None

    @property
    def destination(self) -> str:
        """Return ``platform:channel``."""
        s = self.record.subscription
        return f"{s.platform}:{s.channel}"


@dataclass(frozen=True, slots=True)
class LlmSpend:
    """Model calls, tokens and cost since the start of the week."""

    since: datetime
    calls: int
    tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything status shows, read at ``at``."""

    at: datetime
    schedule_enabled: bool
    sources: tuple[SourceRun, ...]
    last_compose: ComposeStatus | None
    next_jobs: tuple[UpcomingJob, ...]
    subscriptions: tuple[SubscriptionStatus, ...]
    # Every destination ever delivered to, subscribed or not (``publish --to``).
    deliveries: tuple[DeliveryStatus, ...]
    pending_deliveries: int
    failed_deliveries: int
    skipped_deliveries: int
    recent_failures: tuple[DeliveryJob, ...]
    llm: LlmSpend
    pending_picks: int

    @property
    def failing_sources(self) -> tuple[SourceRun, ...]:
        """Return the sources whose latest run failed."""
        return tuple(run for run in self.sources if run.outcome is RunOutcome.FAILED)

    @property
    def paused(self) -> tuple[SubscriptionStatus, ...]:
        """Return the paused subscriptions."""
        return tuple(s for s in self.subscriptions if not s.record.subscription.active)

    def subscription(self, platform: str, channel: str) -> SubscriptionStatus | None:
        """Return the subscription of one channel, if it has one."""
        for status in self.subscriptions:
            s = status.record.subscription
            if (s.platform, s.channel) == (platform, channel):
                return status
        return None


def week_start(now: datetime) -> datetime:
    """Return the Monday 00:00 UTC that starts the week of ``now`` (LLM spend is per week)."""
    utc = now.astimezone(UTC)
    monday = utc.date() - timedelta(days=utc.weekday())
    return datetime.combine(monday, time(0, 0), tzinfo=UTC)


async def collect_status(
    store: StatusStore, settings_schedule: ScheduleSettings, clock: Clock
) -> StatusReport:
    """Read the store into a `StatusReport` as of ``clock.now()``."""
    # bot.scheduler imports bot.admin, which imports this module: import it when called.
    from bot.scheduler import next_slot, upcoming_jobs

    now = clock.now()
    runs = await store.last_source_runs()
    compose = await store.last_compose()
    records = await store.subscription_records()
    delivered = {
        destination: DeliveryStatus(destination, day, parts, at)
        for destination, day, parts, at in await store.last_deliveries()
    }
    latest_job: dict[str, DeliveryJob] = {}
    for job in await store.delivery_jobs(limit=JOBS_READ):  # newest first
        latest_job.setdefault(job.destination, job)
    failures = await store.delivery_jobs(["failed", "skipped"], limit=RECENT_FAILURES)
    since = week_start(now)
    calls, tokens, cost = await store.llm_spend_since(since)

    subscriptions = []
    for record in records:
        s = record.subscription
        where = f"{s.platform}:{s.channel}"
        upcoming = next_slot(s.weekday, s.at_time, s.timezone, now) if s.active else None
        subscriptions.append(
            SubscriptionStatus(record, upcoming, delivered.get(where), latest_job.get(where))
        )
    last_ingest = max((run.finished_at for run in runs), default=None)
    next_jobs = (
        upcoming_jobs(settings_schedule, [r.subscription for r in records], last_ingest, now)
        if settings_schedule.enabled
        else []
    )
    return StatusReport(
        at=now,
        schedule_enabled=settings_schedule.enabled,
        sources=tuple(runs),
        last_compose=ComposeStatus(*compose) if compose else None,
        next_jobs=tuple(next_jobs),
        subscriptions=tuple(subscriptions),
        deliveries=tuple(delivered.values()),
        pending_deliveries=await store.count_delivery_jobs(["pending", "claimed"]),
        failed_deliveries=await store.count_delivery_jobs(["failed"]),
        skipped_deliveries=await store.count_delivery_jobs(["skipped"]),
        recent_failures=tuple(failures),
        llm=LlmSpend(since, calls, tokens, cost),
        pending_picks=len(await store.pending_submissions()),
    )
