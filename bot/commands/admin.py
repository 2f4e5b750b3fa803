"""``/digest-admin``: subscriptions, health, editors' picks and posting now, for admins only.

Platform-free like bot.commands.digest: the adapter says who is asking (and whether the platform
counts them as an admin) and where; this module checks, parses and answers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.commands.ports import AdminStore
from bot.commands.reply import Reply, error, is_help, parse_options
from bot.commands.status import StatusReport, collect_status
from bot.config import ScheduleSettings
from bot.delivery.slots import WEEKDAYS, local_time
from bot.delivery.subscriptions import build_subscription, describe
from bot.domain import Subscription
from bot.edition.rewrite import RewriteError, find_featured
from bot.ids import canonical_url
from bot.ports import Clock

SUBCOMMANDS = ("subscribe", "unsubscribe", "status", "submit", "publish", "resume", "rewrite")
SUBSCRIBE_KEYS = ("day", "time", "tz", "difficulty", "topics", "exclude")
ADMIN_USAGE = (
    "/digest-admin subcommands (admins only):\n"
    "• subscribe [day:mon] [time:09:00] [tz:Europe/Paris] [difficulty:accessible] "
    "[topics:agents,security] [exclude:vision]: post each edition here (only the items on "
    "those topics, none on the excluded ones); keys may be left out: subscribe fri 16:30\n"
    "• unsubscribe: stop posting here\n"
    "• status: this channel, sources, deliveries\n"
    "• submit <url> [note]: an editor's pick for the next edition\n"
    "• publish: post the latest edition here now\n"
    "• resume: post here again after a pause\n"
    "• rewrite <arXiv id or link> [note]: rewrite one item's summary where it was posted"
)
_TIME = re.compile(r"\d{1,2}:\d{2}")
MAX_SUBMITTER = 200  # the store's column for who picked it
MAX_PICK_TEXT = 2000  # a link or a note: longer is no pick, and bloats every ingest


def submission_problem(url: str, note: str, by: str) -> str | None:
    """Return why an editor's pick cannot be stored as given (one line), or None.

    PostgreSQL refuses a NUL in text, and the submitter's column holds 200 characters: both
    are refused here, with a reason, rather than as a database error.
    """
    if any("\x00" in text for text in (url, note, by)):
        return "a pick cannot contain a NUL character"
    if len(by) > MAX_SUBMITTER:
        return f"who picked it is {len(by)} characters long; at most {MAX_SUBMITTER}"
    if len(url) > MAX_PICK_TEXT or len(note) > MAX_PICK_TEXT:
        return f"the link and the note are at most {MAX_PICK_TEXT} characters each"
    return None


@dataclass(frozen=True, slots=True)
class AdminContext:
    """Who asks, where, and whether they may."""

    platform: str
    workspace: str
    channel: str
    user: str
    is_admin: bool


Publisher = Callable[[], Awaitable[Reply]]
"""Posts the latest edition to the asking channel now."""
Rewriter = Callable[[str, str, str], Awaitable[Reply]]
"""Rewrites a featured item's summary: (item, editor's note, who) -> what it did."""
ChannelCheck = Callable[[], Awaitable[str | None]]
"""Tells why the bot could not post in the asking channel (one line), or None if it can."""


def subscribe_option(value: str) -> str | None:
    """Return the subscribe option a bare value stands for (``fri``, ``16:30``, ``UTC`` ...)."""
    if value in LEVELS:
        return "difficulty"
    if value[:3] in WEEKDAYS and value.isalpha() and len(value) <= 9:
        return "day"
    if _TIME.fullmatch(value):
        return "time"
    if value == "utc" or ("/" in value and ":" not in value):
        return "tz"
    return None


LEVELS = ("accessible", "intermediate", "advanced")


def parse_subscription(text: str, ctx: AdminContext, default_tz: str) -> Subscription | str:
    """Parse ``[day:] [time:] [tz:] [difficulty:] [topics:] [exclude:]``, keys optional.

    Returns a subscription or an error line.
    """
    options = parse_options(text, SUBSCRIBE_KEYS, subscribe_option)
    if isinstance(options, str):
        return options
    return build_subscription(
        ctx.platform,
        ctx.workspace,
        ctx.channel,
        day=options.get("day", "mon"),
        at_time=options.get("time", "09:00"),
        tz=text_option(text, "tz") or default_tz,
        difficulty=options.get("difficulty"),
        topics=options.get("topics", ""),
        exclude=options.get("exclude", ""),
    )


def text_option(text: str, key: str) -> str | None:
    """Return an option's value as typed (timezones are case-sensitive), keyed or bare."""
    for token in text.split():
        name, _, value = token.partition(":")
        if name.lower() == key and value:
            return value
        if key == "tz" and subscribe_option(token.lower()) == "tz":
            return "UTC" if token.lower() == "utc" else token
    return None


def status_lines(report: StatusReport, ctx: AdminContext) -> list[str]:
    """Return the short ``/digest-admin status`` answer (at most 14 lines), this channel first.

    Other workspaces' subscriptions are never shown: one bot serves many workspaces.
    """
    here = report.subscription(ctx.platform, ctx.channel)
    lines: list[str] = []
    if here is None:
        lines.append("This channel has no subscription.")
    else:
        s = here.record.subscription
        if here.next_delivery is not None:
            lines.append(
                f"This channel: {describe(s)}; next {local_time(here.next_delivery, s.timezone)}."
            )
        else:
            lines.append(
                f"This channel: {describe(s)}, PAUSED: {s.paused_reason[:160]}. "
                "Fix that, then /digest-admin resume."
            )
        if here.last_delivery is not None:
            last = here.last_delivery
            lines.append(
                f"Last delivery here: edition of {last.edition_date}, {last.parts} messages, "
                f"{last.at:%Y-%m-%d %H:%M} UTC."
            )
        job = here.last_job
        if job is not None and job.reason and job.state in ("failed", "skipped", "pending"):
            state = "retrying" if job.state == "pending" else job.state
            lines.append(f"Last try here ({state}): {job.reason[:160]}")
    elsewhere = [
        p
        for p in report.paused
        if p.record.subscription.platform == ctx.platform
        and p.record.subscription.workspace == ctx.workspace
        and p.record.subscription.channel != ctx.channel
    ]
    if elsewhere:
        lines.append(f"Paused in other channels: {len(elsewhere)}")
        lines += [
            f"• {p.destination}: {p.record.subscription.paused_reason[:100]}" for p in elsewhere[:3]
        ]
    failing = report.failing_sources
    lines.append(f"Sources: {len(report.sources) - len(failing)} ok, {len(failing)} failing")
    lines += [f"• {run.source}: {run.reason[:120]}" for run in failing[:2]]
    if report.last_compose is not None:
        compose = report.last_compose
        lines.append(f"Last compose: {compose.outcome}: {compose.reason[:160]}")
    lines.append(
        f"Deliveries: {report.pending_deliveries} waiting, {report.failed_deliveries} failed, "
        f"{report.skipped_deliveries} skipped."
    )
    llm = report.llm
    lines.append(f"LLM this week: {llm.calls} calls, {llm.tokens} tokens, ${llm.cost_usd:.2f}")
    feedback = report.feedback
    liked = f"; most liked: {feedback.most_liked[:100]}" if feedback.most_liked else ""
    lines.append(f"Feedback this week: {feedback.up} 👍, {feedback.down} 👎{liked}")
    return lines


async def answer_admin(
    text: str,
    ctx: AdminContext,
    store: AdminStore,
    clock: Clock,
    *,
    default_tz: str = "UTC",
    publish_here: Publisher | None = None,
    rewrite: Rewriter | None = None,
    check_channel: ChannelCheck | None = None,
) -> Reply:
    """Answer ``/digest-admin <subcommand> ...`` for an admin; refuse politely otherwise.

    ``check_channel`` is asked before subscribing: a channel the bot is not in (or cannot
    post to) is refused with what to do, rather than failing at the first delivery.
    """
    if not ctx.is_admin:
        return error(
            "Sorry, /digest-admin is for workspace admins and owners (and listed editors)."
        )
    sub, _, rest = text.strip().partition(" ")
    sub = sub.lower()
    if not sub or is_help(sub):
        return Reply(text=ADMIN_USAGE)
    if sub not in SUBCOMMANDS:
        return error(f"use /digest-admin {' | '.join(SUBCOMMANDS)} (or help)")
    if sub == "subscribe":
        parsed = parse_subscription(rest, ctx, default_tz)
        if isinstance(parsed, str):
            return error(parsed)
        problem = await check_channel() if check_channel is not None else None
        if problem is not None:
            return error(problem)
        new = await store.subscribe(parsed, ctx.user, clock.now())
        verb = "Subscribed" if new else "Updated the subscription:"
        return Reply(
            text=f"{verb} this channel gets {describe(parsed)}, starting with the next edition. "
            "/digest-admin publish posts the latest one now."
        )
    if sub == "unsubscribe":
        removed = await store.unsubscribe(ctx.platform, ctx.workspace, ctx.channel)
        return Reply(text="Unsubscribed." if removed else "This channel had no subscription.")
    if sub == "submit":
        url, _, note = rest.strip().partition(" ")
        try:
            canonical_url(url)
        except ValueError as exc:
            return error(f"submit needs a link: {exc}")
        problem = submission_problem(url, note.strip(), ctx.user)
        if problem is not None:
            return error(problem)
        pick = await store.add_submission(url, note.strip(), ctx.user, clock.now())
        return Reply(text=f"Queued pick #{pick.id}; it is resolved at the next ingest.")
    if sub == "publish":
        if publish_here is None:
            return error("publishing from here is not available")
        # Posting takes a second per message: acknowledge now, report when done.
        return Reply(text="Posting the latest edition in this channel…", deferred=publish_here)
    if sub == "resume":
        return await _resume(ctx, store, clock)
    if sub == "rewrite":
        return await _rewrite(rest, ctx, store, rewrite)
    # The reply shows this channel's own slot, not the schedule-wide jobs: no settings needed.
    report = await collect_status(store, ScheduleSettings(), clock)
    return Reply(text="\n".join(status_lines(report, ctx)))


async def _resume(ctx: AdminContext, store: AdminStore, clock: Clock) -> Reply:
    """Reactivate this channel's paused subscription (once what paused it is fixed)."""
    here = [s for s in await store.subscriptions(ctx.platform) if s.channel == ctx.channel]
    if not here:
        return error("This channel has no subscription; use /digest-admin subscribe.")
    if not await store.resume_subscription(ctx.platform, ctx.channel, clock.now()):
        return Reply(text=f"This channel's subscription is not paused: {describe(here[0])}.")
    return Reply(
        text=f"Resumed: this channel gets {describe(here[0])} again. "
        "/digest-admin publish posts the latest edition now."
    )


async def _rewrite(
    text: str, ctx: AdminContext, store: AdminStore, rewrite: Rewriter | None
) -> Reply:
    """Check the item now (an unknown one is an error at once), then rewrite it deferred.

    Writing a summary can take longer than the platforms' 3 seconds: the answer comes after.
    """
    if rewrite is None:
        return error("rewriting from here is not available")
    item, _, note = text.strip().partition(" ")
    if not item:
        return error("use /digest-admin rewrite <arXiv id or link> [note for the new summary]")
    try:
        featured = await find_featured(item, store)
    except RewriteError as exc:
        return error(str(exc))
    title = featured.entry.item.content.title[:120]
    by = f"{ctx.platform}:{ctx.user}"

    async def run() -> Reply:
        return await rewrite(item, note.strip(), by)

    return Reply(text=f"Rewriting “{title}” (edition of {featured.edition_date})…", deferred=run)
