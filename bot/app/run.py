"""``digestbot run``: the long-running bot.

Starts the platforms whose tokens are set (Slack in Socket or HTTP mode, Discord), the health
and metrics server with the web archive, and the schedule with its delivery worker, all in one
event loop; stops them in reverse order when told to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from aiohttp import web

from adapters.chat.discord_bot import DiscordBot
from adapters.chat.slack_bot import SlackHttpBot, SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import SlackChat, web_client
from adapters.chat.slack_oauth import add_uninstall_listeners, learn_channels
from adapters.health import HealthServer, Metrics, add_health_routes
from adapters.sources.arxiv import ArxivSource
from adapters.web.routes import add_web_routes
from bot.app.rewriting import item_rewriter
from bot.app.slack_workspaces import slack_oauth, slack_tokens, workspace_gone
from bot.app.version import package_version
from bot.app.wiring import (
    App,
    compose,
    configure_discord,
    ingest,
    noticeboard,
    publish,
    web_links,
)
from bot.commands.digest import fetch_paper
from bot.commands.health import HealthReport, failing, last_successes, paused
from bot.commands.reply import Reply
from bot.delivery.deliver import Destination
from bot.delivery.jobs import JobObserver, JobOutcome
from bot.delivery.schedule import Scheduler
from bot.delivery.subscriptions import seed_subscriptions
from bot.delivery.worker import Counters
from bot.domain import JobState, Platform
from bot.edition.summarize import CachedSummarizer, OfflineSummarizer
from bot.ports import CredentialRefusedError, PlatformBot
from bot.web.chat import linked_chat
from bot.web.links import Links, public_links

logger = logging.getLogger(__name__)


def add_archive_routes(web_app: web.Application, app: App) -> None:
    """Serve the web archive and its feed (DIGEST_WEB__ENABLED) on ``web_app``."""
    public = app.settings.public_url
    add_web_routes(
        web_app,
        app.store,
        app.profile,
        page_size=app.settings.web.page_size,
        feed_links=public_links(public) if public else Links(),
    )


def paper_fetcher(app: App) -> Callable[[str], Awaitable[Reply]]:
    """Return the on-demand /paper fetch: arXiv lookup, store, cached offline summary."""
    settings = app.settings.sources
    papers = ArxivSource(
        app.http,
        app.clock,
        url=settings.arxiv.url,
        min_interval_s=settings.arxiv.min_interval_s,
        deadline_s=settings.timeout_s,
    )
    summarizer = CachedSummarizer(OfflineSummarizer(app.profile), app.store, app.clock)

    async def fetch(arxiv_id: str) -> Reply:
        return await fetch_paper(arxiv_id, papers, app.store, summarizer, app.clock)

    return fetch


def channel_publisher(app: App, platform: str) -> Callable[[str], Awaitable[Reply]]:
    """Return the admin's "post the latest edition in this channel now"."""

    async def publish_here(channel: str) -> Reply:
        edition = await app.store.edition()
        if edition is None:
            return Reply(text="There is no edition yet.", error=True)
        (report,) = await publish(app, edition, [Destination(Platform(platform), channel)])
        if report.error is not None:
            return Reply(text=f"Posting stopped: {report.error.reason}", error=True)
        return Reply(text=f"Posted the edition of {edition.date}: {report.sent} messages sent.")

    return publish_here


class NothingToRunError(ValueError):
    """``digestbot run`` found no platform configured."""


class PlatformStartError(RuntimeError):
    """A platform could not connect (refused token, unreachable); says which and why."""


def _slack_bot(app: App, health: Callable[[web.Application], None]) -> PlatformBot | None:
    slack = app.settings.slack
    transport = slack.app_token or slack.signing_secret
    if (slack.bot_token is None and not slack.oauth) or transport is None:
        return None
    client = web_client(
        slack.bot_token.get_secret_value() if slack.bot_token else None, slack.api_url
    )
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else None
    oauth = slack_oauth(app.settings, app.store, app.clock)
    slack_app = build_slack_app(
        # With Add to Slack, Bolt gives each request its workspace's token.
        web_client(None, slack.api_url) if oauth else client,
        app.store,
        app.clock,
        fetch_paper=paper_fetcher(app),
        publish_to=channel_publisher(app, "slack"),
        rewrite=item_rewriter(app),
        admin_user_ids=slack.admin_user_ids,
        default_tz=app.settings.timezone,
        signing_secret=None if slack.app_token else secret,
        links=web_links(app.settings),
        oauth=oauth,
    )
    tokens = slack_tokens(app.settings, app.store)
    if oauth is not None and tokens is not None:
        gone = workspace_gone(app.store, app.clock, noticeboard(app, app.live_chats))
        add_uninstall_listeners(slack_app, app.store, gone)
        learn_channels(slack_app, tokens)
    chat = SlackChat(client, app.clock, min_interval_s=slack.min_interval_s, tokens=tokens)
    app.live_chats["slack"] = linked_chat(chat, web_links(app.settings))
    if slack.app_token:
        return SlackSocketBot(slack_app, slack.app_token.get_secret_value())
    return SlackHttpBot(
        slack_app, app.settings.http.host, app.settings.http.port, extra_routes=health
    )


def _discord_bot(app: App) -> PlatformBot | None:
    settings = app.settings.discord
    if settings.bot_token is None:
        return None
    configure_discord(app.settings)
    bot = DiscordBot(
        settings.bot_token.get_secret_value(),
        app.store,
        app.clock,
        fetch_paper=paper_fetcher(app),
        publish_to=channel_publisher(app, "discord"),
        rewrite=item_rewriter(app),
        default_tz=app.settings.timezone,
        sync_guild_id=settings.sync_guild_id,
        sharded=settings.sharded or bool(settings.shard_ids),
        shard_ids=settings.shard_ids or None,
        shard_count=settings.shard_count,
        guild_ready_timeout=settings.guild_ready_timeout_s,
        requests_per_s=settings.requests_per_s,
        links=web_links(app.settings),
        topic_names=[topic.name for topic in app.profile.topics],
    )
    app.live_chats["discord"] = linked_chat(bot.chat(), web_links(app.settings))
    return bot


async def health_report(
    app: App, scheduler: Scheduler | None, bots: Sequence[tuple[str, PlatformBot]]
) -> HealthReport:
    """Return the bot's health now: database, platforms, sources, subscriptions, jobs."""
    now = app.clock.now()
    platforms = {name: bot.connected() for name, bot in bots}
    version = package_version()
    try:
        runs = await app.store.last_source_runs()
        subscriptions = await app.store.subscriptions()
        pending = await app.store.count_delivery_jobs([JobState.PENDING, JobState.CLAIMED])
        last_compose = await app.store.last_compose()
        usage = await app.store.llm_usage()
    except Exception as exc:  # any database failure: report it, the probe decides
        problem = f"{exc.__class__.__name__}: {str(exc)[:200]}"
        return HealthReport(now, False, platforms, problem=problem, version=version)
    return HealthReport(
        at=now,
        database_ok=True,
        platforms=platforms,
        failing_sources=failing(runs),
        paused=paused(subscriptions),
        next_jobs=scheduler.next_jobs() if scheduler is not None else (),
        pending_deliveries=pending,
        counters=scheduler.counters if scheduler is not None else Counters(),
        version=version,
        last_success=last_successes(runs, last_compose),
        llm_usage=usage,
    )


def build_scheduler(app: App, on_job: JobObserver | None = None) -> Scheduler:
    """Return the schedule of ingest, compose and deliveries for ``app``.

    ``on_job`` hears of every finished job run (the metrics).
    """

    async def run_ingest() -> object:
        report = await ingest(app)
        every_source_failed = bool(report.runs) and len(report.failed) == len(report.runs)
        return JobOutcome.FAILED if every_source_failed else JobOutcome.OK

    async def run_compose(day: date) -> object:
        return await compose(app, day)

    return Scheduler(
        app.store,
        app.clock,
        app.settings.schedule,
        app.live_chats,
        ingest=run_ingest,
        compose=run_compose,
        on_pause=noticeboard(app, app.live_chats).subscription_paused,
        profile=app.profile,
        on_job=on_job,
    )


FIRST_RETRY_S = 1.0
MAX_RETRY_S = 60.0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


async def keep_starting(
    name: str, bot: PlatformBot, *, first_retry_s: float = FIRST_RETRY_S
) -> None:
    """Start ``bot``, retrying with backoff while its platform cannot be reached.

    A refused credential (`CredentialRefusedError`) propagates at once: retrying cannot
    help. Each failed attempt is one WARNING line, never a traceback (an outage of hours
    would otherwise flood the log). Cancelled by a shutdown at any point.
    """
    delay = first_retry_s
    while True:
        try:
            await bot.start()
        except CredentialRefusedError:
            raise
        except Exception as exc:
            logger.warning(
                "%s unreachable (%s); trying again in %.0f s", name, _one_line(exc), delay
            )
        else:
            logger.info("%s started", name)
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_RETRY_S)


async def _until_connected_or_stopped(
    bots: Sequence[tuple[str, PlatformBot]], stop: asyncio.Event, started: list[str]
) -> set[asyncio.Task[None]]:
    """Start every bot in the background; return once all run or ``stop`` is set.

    Appends each platform's name to ``started`` once it runs. Returns the start tasks still
    running (platforms still unreachable when told to stop). Raises `PlatformStartError` as
    soon as a platform refuses its credential.
    """
    pending: set[asyncio.Task[Any]] = {
        asyncio.create_task(keep_starting(name, bot), name=name) for name, bot in bots
    }
    stopped = asyncio.create_task(stop.wait())
    try:
        while pending and not stop.is_set():
            done, pending = await asyncio.wait(
                pending | {stopped}, return_when=asyncio.FIRST_COMPLETED
            )
            pending.discard(stopped)
            for task in done - {stopped}:
                failure = task.exception()
                if failure is not None:
                    raise PlatformStartError(f"{task.get_name()} could not start: {failure}")
                started.append(task.get_name())
    except BaseException:
        await _cancel(pending)
        raise
    finally:
        stopped.cancel()
    return pending


async def _cancel(tasks: set[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def run_until(app: App, stop: asyncio.Event) -> list[str]:
    """Connect every configured platform and run the schedule until ``stop``; then close.

    Returns the names of the platforms that ran. Slack runs in Socket Mode when
    SLACK_APP_TOKEN is set, else in HTTP mode when SLACK_SIGNING_SECRET is; Discord when
    DISCORD_BOT_TOKEN is set. /healthz and /metrics listen on DIGEST_HTTP_HOST:PORT (on
    Slack's HTTP server in HTTP mode), with the web archive and feed unless
    DIGEST_WEB__ENABLED is false; with no platform configured the archive runs alone
    (returning ``["web"]``). An unreachable platform is retried with backoff
    (``/healthz`` says degraded meanwhile), and the schedule starts once every platform is
    connected; `PlatformStartError` when a platform refuses its token or the health port
    cannot be bound. ``stop`` is obeyed at every step.
    """
    metrics = Metrics()
    scheduler = build_scheduler(app, metrics.observe) if app.settings.schedule.enabled else None
    bots: list[tuple[str, PlatformBot]] = []

    async def report() -> HealthReport:
        return await health_report(app, scheduler, bots)

    def health_routes(web_app: web.Application) -> None:
        add_health_routes(web_app, report, metrics)
        archive_routes(web_app)

    def archive_routes(web_app: web.Application) -> None:
        if app.settings.web.enabled:
            add_archive_routes(web_app, app)

    slack_bot = _slack_bot(app, health_routes)
    bots += [
        (name, bot)
        for name, bot in (("slack", slack_bot), ("discord", _discord_bot(app)))
        if bot is not None
    ]
    if not bots and not app.settings.web.enabled:
        raise NothingToRunError(
            "nothing to run: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) "
            "or SLACK_SIGNING_SECRET (HTTP mode), or DISCORD_BOT_TOKEN, "
            "or leave DIGEST_WEB__ENABLED on to serve the web archive"
        )
    await seed_subscriptions(app.store, app.settings, app.clock)  # [[subscriptions]] in TOML
    started: list[str] = []
    health: HealthServer | None = None
    if not isinstance(slack_bot, SlackHttpBot):
        health = HealthServer(
            report,
            app.settings.http.host,
            app.settings.http.port,
            metrics,
            extra_routes=archive_routes,
        )
    try:
        if health is not None:
            try:
                await health.start()
            except Exception as exc:
                raise PlatformStartError(f"health could not start: {exc}") from exc
            if app.settings.web.enabled:
                where = f"http://{app.settings.http.host}:{health.port}/"
                logger.info("web archive on %s and %sfeed.atom", where, where)
        await _cancel(await _until_connected_or_stopped(bots, stop, started))
        if scheduler is not None and not stop.is_set():
            await scheduler.start()
        try:
            await stop.wait()
        finally:
            if scheduler is not None:
                await scheduler.aclose()  # the send in flight ends and is recorded first
    finally:
        for _, bot in reversed(bots):
            await bot.aclose()
        if health is not None:
            await health.aclose()
        app.live_chats.clear()
    ran = [name for name, _ in bots if name in started]  # in the order they were set up
    return ran or (["web"] if app.settings.web.enabled else [])  # the archive alone
