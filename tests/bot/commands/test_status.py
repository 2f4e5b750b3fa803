"""Status: one report from a real store, shown in full by the CLI and in short to admins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app.console import print_status
from bot.commands.admin import AdminContext, answer_admin
from bot.commands.status import StatusReport, collect_status, week_start
from bot.config import ScheduleSettings
from bot.domain import JobState, RunOutcome, SourceRun, Subscription, UpsertCounts, Vote
from bot.edition.imports import import_files
from storage.store import Store
from tests.builders import an_edition
from tests.conftest import DATA
from tests.fakes.clock import FakeClock

INVENTED = DATA / "history" / "invented_edition.txt"
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)  # Wednesday of the edition of 2026-04-13
LEASE = timedelta(minutes=5)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'status.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


@dataclass(frozen=True)
class Seeded:
    edition_id: int
    last_ingest: datetime


async def seed(store: Store) -> Seeded:
    """Two sources (one failing), an edition, four subscriptions, deliveries, jobs, LLM calls."""
    edition = await an_edition(store)
    ok_at = NOW - timedelta(hours=2)
    await store.record_source_run(
        SourceRun("hf", ok_at - timedelta(minutes=1), ok_at, RunOutcome.OK, counts=UpsertCounts(3))
    )
    failed_at = NOW - timedelta(hours=3)
    await store.record_source_run(
        SourceRun("arxiv", failed_at, failed_at, RunOutcome.FAILED, reason="HTTP 503 [bold]x")
    )
    since = NOW - timedelta(days=10)
    here = Subscription("slack", "T0TEAM", "C0HERE", 4, "16:30", "Europe/Paris", None)
    await store.subscribe(here, "U0ADMIN", since)
    await store.subscribe(
        Subscription("slack", "T0TEAM", "C0GONE", 0, "09:00", "UTC", None), "config", since
    )
    await store.subscribe(
        Subscription("slack", "T0OTHER", "C0THEIRS", 0, "09:00", "UTC", None), "U9", since
    )
    await store.pause_subscription("slack", "C0GONE", "Slack: channel_not_found", NOW)
    await store.pause_subscription("slack", "C0THEIRS", "their secret reason", NOW)

    sent_at = datetime(2026, 4, 13, 14, 31, tzinfo=UTC)
    await store.record_sent("slack:C0HERE", edition.id, 0, "m0", "m0", sent_at)
    await store.record_sent("slack:C0HERE", edition.id, 1, "m1", "m0", sent_at)
    await store.enqueue_delivery("slack:C0GONE", edition.id, None, NOW, NOW)
    job = await store.claim_delivery("w", NOW, LEASE)
    assert job is not None
    await store.finish_delivery(job.id, "w", JobState.FAILED, "channel_not_found", NOW)
    await store.enqueue_delivery("slack:C0HERE", edition.id, None, NOW + timedelta(days=2), NOW)

    await store.record_llm_call("summary", "m", 100, 20, 0.25, datetime(2026, 4, 13, tzinfo=UTC))
    await store.record_llm_call("summary", "m", 999, 1, 9.0, datetime(2026, 4, 12, 23, tzinfo=UTC))
    await store.add_submission("https://example.org/pick", "", "U0ADMIN", NOW)
    return Seeded(edition.id, ok_at)


def test_the_week_starts_on_monday_at_midnight_utc() -> None:
    monday = datetime(2026, 4, 13, tzinfo=UTC)
    assert week_start(datetime(2026, 4, 19, 23, 59, tzinfo=UTC)) == monday
    assert week_start(monday) == monday
    # Monday 01:00 in Paris is still Sunday in UTC: last week.
    paris = datetime(2026, 4, 13, 1, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert week_start(paris) == monday - timedelta(days=7)


async def test_an_empty_store_has_only_the_schedule_to_show(store: Store) -> None:
    report = await collect_status(store, ScheduleSettings(), FakeClock(NOW))
    assert (report.sources, report.subscriptions, report.deliveries) == ((), (), ())
    assert report.last_compose is None
    assert [(job.name, job.at) for job in report.next_jobs] == [
        ("ingest", NOW),  # never ran: at once
        ("compose", datetime(2026, 4, 20, 6, 0, tzinfo=UTC)),
    ]
    assert (report.pending_deliveries, report.failed_deliveries, report.pending_picks) == (0, 0, 0)
    assert (report.llm.calls, report.llm.tokens, report.llm.cost_usd) == (0, 0, 0.0)


async def test_the_report_reads_everything_status_shows(store: Store) -> None:
    seeded = await seed(store)
    report = await collect_status(store, ScheduleSettings(), FakeClock(NOW))

    assert [run.source for run in report.failing_sources] == ["arxiv"]
    assert report.last_compose is not None
    assert (report.last_compose.edition_date.isoformat(), report.last_compose.outcome) == (
        "2026-04-13",
        "composed",
    )
    # Friday 16:30 in Paris (summer time) is 14:30 UTC; paused ones have no next delivery.
    friday = datetime(2026, 4, 17, 14, 30, tzinfo=UTC)
    assert [(job.name, job.at) for job in report.next_jobs] == [
        ("ingest", seeded.last_ingest + timedelta(hours=6)),
        ("deliver slack:C0HERE", friday),
        ("compose", datetime(2026, 4, 20, 6, 0, tzinfo=UTC)),
    ]
    here = report.subscription("slack", "C0HERE")
    assert here is not None
    assert here.next_delivery == friday
    assert here.last_delivery is not None
    assert (here.last_delivery.parts, here.last_delivery.edition_date.isoformat()) == (
        2,
        "2026-04-13",
    )
    assert here.last_job is not None
    assert here.last_job.state == "pending"
    assert [p.destination for p in report.paused] == ["slack:C0GONE", "slack:C0THEIRS"]
    gone = report.subscription("slack", "C0GONE")
    assert gone is not None
    assert gone.next_delivery is None
    assert gone.last_job is not None
    assert (gone.last_job.state, gone.last_job.reason) == ("failed", "channel_not_found")
    assert gone.record.created_by == "config"
    assert (report.pending_deliveries, report.failed_deliveries, report.skipped_deliveries) == (
        1,
        1,
        0,
    )
    assert [job.destination for job in report.recent_failures] == ["slack:C0GONE"]
    # Only this week's call (from Monday 00:00 UTC), not Sunday night's.
    assert (report.llm.calls, report.llm.tokens, report.llm.cost_usd) == (1, 120, 0.25)
    assert report.llm.since == datetime(2026, 4, 13, tzinfo=UTC)
    assert report.pending_picks == 1


async def test_with_the_schedule_off_no_job_is_announced(store: Store) -> None:
    await seed(store)
    report = await collect_status(store, ScheduleSettings(enabled=False), FakeClock(NOW))
    assert report.next_jobs == ()
    assert not report.schedule_enabled


def ctx(channel: str, workspace: str = "T0TEAM") -> AdminContext:
    return AdminContext("slack", workspace, channel, "U0ADMIN", is_admin=True)


async def admin_status(store: Store, channel: str) -> list[str]:
    reply = await answer_admin("status", ctx(channel), store, FakeClock(NOW))
    assert not reply.error
    return reply.text.splitlines()


async def test_admin_status_is_short_and_starts_with_this_channel(store: Store) -> None:
    await seed(store)
    lines = await admin_status(store, "C0HERE")
    assert lines[0] == (
        "This channel: every Friday 16:30 Europe/Paris, all levels; "
        "next Fri 2026-04-17 16:30 Europe/Paris."
    )
    assert (
        lines[1] == "Last delivery here: edition of 2026-04-13, 2 messages, 2026-04-13 14:31 UTC."
    )
    assert "Paused in other channels: 1" in lines
    assert "• slack:C0GONE: Slack: channel_not_found" in lines
    assert not any("C0THEIRS" in line or "their secret" in line for line in lines)
    assert "Sources: 1 ok, 1 failing" in lines
    assert "Deliveries: 1 waiting, 1 failed, 0 skipped." in lines
    assert "LLM this week: 1 calls, 120 tokens, $0.25" in lines
    assert "Feedback this week: 0 👍, 0 👎" in lines
    assert len(lines) <= 14


async def test_admin_status_of_a_paused_channel_says_why_and_how_to_resume(store: Store) -> None:
    await seed(store)
    lines = await admin_status(store, "C0GONE")
    assert lines[0] == (
        "This channel: every Monday 09:00 UTC, all levels, PAUSED: Slack: channel_not_found. "
        "Fix that, then /digest-admin resume."
    )
    assert "Last try here (failed): channel_not_found" in lines
    assert (await admin_status(store, "C0NONE"))[0] == "This channel has no subscription."


async def test_admins_resume_a_paused_channel(store: Store) -> None:
    await seed(store)
    clock = FakeClock(NOW)
    resumed = await answer_admin("resume", ctx("C0GONE"), store, clock)
    assert resumed.text.startswith("Resumed: this channel gets every Monday 09:00 UTC")
    gone = [s for s in await store.subscriptions("slack") if s.channel == "C0GONE"]
    assert [(s.active, s.paused_reason) for s in gone] == [(True, "")]

    again = await answer_admin("resume", ctx("C0GONE"), store, clock)
    assert again.text.startswith("This channel's subscription is not paused")
    missing = await answer_admin("resume", ctx("C0NONE"), store, clock)
    assert missing.error
    assert "use /digest-admin subscribe" in missing.text
    unknown = await answer_admin("resum", ctx("C0GONE"), store, clock)
    assert "publish | resume | rewrite (or help)" in unknown.text


async def test_the_cli_and_admins_read_the_same_report(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(store)
    report: StatusReport = await collect_status(store, ScheduleSettings(), FakeClock(NOW))
    print_status(report)
    printed = capsys.readouterr().out
    admin = await admin_status(store, "C0HERE")
    assert "LLM this week: 1 calls, 120 tokens, $0.25 (since 2026-04-13 00:00 UTC)" in printed
    assert "LLM this week: 1 calls, 120 tokens, $0.25" in admin
    assert "Delivery jobs: 1 waiting, 1 failed, 0 skipped" in printed
    assert "2026-04-17 14:30 UTC  deliver slack:C0HERE" in printed
    assert "Subscriptions: 1 active, 2 paused" in printed
    assert (
        "  Paused slack:C0GONE since 2026-04-15 12:00 UTC: Slack: channel_not_found. "
        "Once fixed: digestbot resume slack:C0GONE"
    ) in printed
    assert "  failed slack:C0GONE (edition #" in printed
    assert "HTTP 503 [bold]x" in printed  # a reason is printed as typed, never as markup


async def test_status_shows_this_weeks_votes_and_the_most_liked_item(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = await seed(store)
    edition = await store.edition(edition_id=seeded.edition_id)
    assert edition is not None
    first, second = (entry.item.content for entry in edition.entries[:2])
    monday = datetime(2026, 4, 13, 15, 0, tzinfo=UTC)
    await store.set_vote("slack:C0HERE", first.canonical_id, "U1", Vote.UP, monday)
    await store.set_vote("slack:C0HERE", second.canonical_id, "U1", Vote.UP, monday)
    await store.set_vote("slack:C0HERE", second.canonical_id, "U2", Vote.UP, monday)
    await store.set_vote("discord:1400", second.canonical_id, "U2", Vote.DOWN, monday)
    # Last week's vote is not this week's feedback.
    last_week = monday - timedelta(days=2)
    await store.set_vote("slack:C0HERE", first.canonical_id, "U3", Vote.DOWN, last_week)

    report = await collect_status(store, ScheduleSettings(), FakeClock(NOW))
    assert (report.feedback.up, report.feedback.down) == (3, 1)
    assert report.feedback.most_liked == second.title
    print_status(report)
    printed = capsys.readouterr().out
    assert f"Feedback: 3 👍, 1 👎 this week; most liked: {second.title}" in printed


async def test_status_without_votes_says_so(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    print_status(await collect_status(store, ScheduleSettings(), FakeClock(NOW)))
    assert "Feedback: 0 👍, 0 👎 this week\n" in capsys.readouterr().out


async def test_admin_status_shows_this_weeks_votes(store: Store) -> None:
    seeded = await seed(store)
    edition = await store.edition(edition_id=seeded.edition_id)
    assert edition is not None
    liked = edition.entries[0].item.content
    monday = datetime(2026, 4, 13, 15, 0, tzinfo=UTC)
    await store.set_vote("slack:C0HERE", liked.canonical_id, "U1", Vote.UP, monday)
    await store.set_vote("slack:C0HERE", liked.canonical_id, "U2", Vote.DOWN, monday)
    await store.set_vote("slack:C0HERE", liked.canonical_id, "U3", Vote.UP, monday)
    lines = await admin_status(store, "C0HERE")
    assert f"Feedback this week: 2 👍, 1 👎; most liked: {liked.title[:100]}" in lines


async def test_status_lists_the_editions_imported_as_history(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    (outcome,) = await import_files(store, [INVENTED], NOW)
    assert outcome.status == "imported", outcome.message
    report = await collect_status(store, ScheduleSettings(), FakeClock(NOW))
    assert report.imported_editions == (date(2026, 3, 30),)
    print_status(report)
    printed = capsys.readouterr().out
    assert "Imported editions (history the ranker learns from): 1, 2026-03-30" in printed
    # An imported edition is history: it is never the "last compose" nor delivered.
    assert "No edition composed yet. Run: digestbot compose" in printed
