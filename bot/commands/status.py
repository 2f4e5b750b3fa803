"""Status: one snapshot of what the bot did and will do, for every reader.

`collect_status` reads the store once into a `StatusReport`; ``digestbot status`` prints all
of it, ``digestbot subscriptions`` its subscriptions, and ``/digest-admin status`` a short
answer from the same report, so none of them can disagree with another. Platform-free:
the store is reached through `StatusStore`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.commands.ports import StatusStore
from bot.config import ScheduleSettings
from bot.delivery.slots import UpcomingJob, next_slot, upcoming_jobs
from bot.domain import (
    ComposeAttempt,
    DeliveryJob,
    JobState,
    LastDelivery,
    RunOutcome,
    SourceRun,
    SubscriptionRecord,
)
from bot.ports import Clock

RECENT_FAILURES = 5
"""How many of the latest failed or skipped deliveries the report keeps."""
JOBS_READ = 200
"""How many of the newest delivery jobs are read to find each destination's latest."""


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    """A subscription, its next slot, and what was last delivered or tried there."""

    record: SubscriptionRecord
    # The next slot of its schedule (UTC); None while paused.
    next_delivery: datetime | None
    last_delivery: LastDelivery | None
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
class Feedback:
    """Readers' 👍 / 👎 on item replies since the start of the week, and the most liked item."""

    since: datetime
    up: int
    down: int
    # The title of the item with the most 👍 (fewest 👎 on a tie); None without any 👍.
    most_liked: str | None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything status shows, read at ``at``."""

    at: datetime
    schedule_enabled: bool
    sources: tuple[SourceRun, ...]
    last_compose: ComposeAttempt | None
    next_jobs: tuple[UpcomingJob, ...]
    subscriptions: tuple[SubscriptionStatus, ...]
    # Every destination ever delivered to, subscribed or not (``publish --to``).
    deliveries: tuple[LastDelivery, ...]
    pending_deliveries: int
    failed_deliveries: int
    skipped_deliveries: int
    recent_failures: tuple[DeliveryJob, ...]
    llm: LlmSpend
    pending_picks: int
    feedback: Feedback
    # Why the last compose wrote offline although a model is configured ("" when it did not).
    model_problem: str = ""
    # The dates of the editions imported as history (digestbot import), newest first.
    imported_editions: tuple[date, ...] = ()

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


async def collect_feedback(store: StatusStore, since: datetime) -> Feedback:
    """Return the votes cast since ``since``: totals and the most liked item's title."""
    votes = await store.item_votes(since)
    up = sum(u for u, _ in votes.values())
    down = sum(d for _, d in votes.values())
    # Most 👍 first, then fewest 👎; the id breaks what is left of a tie, so it never flips.
    ranked = sorted(votes.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0]))
    most_liked = None
    if ranked and ranked[0][1][0] > 0:
        item = await store.get_item(ranked[0][0])
        most_liked = item.content.title if item is not None else ranked[0][0]
    return Feedback(since, up, down, most_liked)


async def collect_status(
    store: StatusStore, settings_schedule: ScheduleSettings, clock: Clock
) -> StatusReport:
    """Read the store into a `StatusReport` as of ``clock.now()``."""
    now = clock.now()
    runs = await store.last_source_runs()
    compose = await store.last_compose()
    records = await store.subscription_records()
    delivered = {last.destination: last for last in await store.last_deliveries()}
    latest_job: dict[str, DeliveryJob] = {}
    for job in await store.delivery_jobs(limit=JOBS_READ):  # newest first
        latest_job.setdefault(job.destination, job)
    failures = await store.delivery_jobs([JobState.FAILED, JobState.SKIPPED], limit=RECENT_FAILURES)
    since = week_start(now)
    spend = await store.llm_spend_since(since)

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
        last_compose=compose,
        next_jobs=tuple(next_jobs),
        subscriptions=tuple(subscriptions),
        deliveries=tuple(delivered.values()),
        pending_deliveries=await store.count_delivery_jobs([JobState.PENDING, JobState.CLAIMED]),
        failed_deliveries=await store.count_delivery_jobs([JobState.FAILED]),
        skipped_deliveries=await store.count_delivery_jobs([JobState.SKIPPED]),
        recent_failures=tuple(failures),
        llm=LlmSpend(since, spend.calls, spend.tokens, spend.cost_usd),
        pending_picks=len(await store.pending_submissions()),
        feedback=await collect_feedback(store, since),
        imported_editions=tuple(await store.imported_edition_dates()),
    )
