"""The composition root: builds adapters from settings and plugs them into the core's stages.

This is the one module of bot/ that may import adapters, storage and httpx. Everything it
builds has an explicit lifecycle: `open_app` is an async context manager that closes the HTTP
client and disposes the database engine on the way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import httpx
from aiohttp import web

from adapters.chat.discord_bot import DiscordBot
from adapters.chat.discord_chat import (
    DiscordChat,
    RequestPacer,
    configure_endpoints,
    rest_client,
)
from adapters.chat.slack_bot import SlackHttpBot, SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import SlackChat, web_client
from adapters.health import HealthServer, add_health_routes
from adapters.sources.arxiv import ArxivSource
from adapters.sources.feeds import FeedSource
from adapters.sources.hf_papers import HfPapersSource
from adapters.sources.manual import ManualResolver
from adapters.sources.semantic_scholar import SemanticScholarCitations
from bot.commands import Reply, fetch_paper
from bot.compose import ComposeResult, compose_edition
from bot.config import Settings
from bot.deliver import ChatAdapter, DeliveryError, DeliveryReport, Destination, deliver
from bot.domain import Edition
from bot.health import HealthReport, failing, paused
from bot.ingest import CITATIONS_SOURCE, MANUAL_SOURCE, Ingester, IngestProgress, IngestReport
from bot.llm_rank import LlmRanker
from bot.llm_summarize import LlmEditor, LlmSummarizer, TokenBudget
from bot.notices import Noticeboard
from bot.ports import CitationLookup, Clock, LinkResolver, Source
from bot.profile import load_profile
from bot.scheduler import Counters, Scheduler
from bot.subscriptions import seed_subscriptions
from bot.summarize import CachedSummarizer, OfflineSummarizer
from storage.store import Store

logger = logging.getLogger(__name__)
USER_AGENT = "llm-news-digest/0.1 (+https://github.com/llm-news-digest/llm-news-digest)"


class UnknownSourceError(ValueError):
    """``--source`` named a source that is not configured."""


@dataclass(slots=True)
class SourceSet:
    """The sources one ingest runs, plus the editors' picks resolver and citation lookup."""

    sources: list[Source] = field(default_factory=list)
    links: LinkResolver | None = None
    citations: CitationLookup | None = None


@dataclass(slots=True)
class App:
    """What the CLI and the scheduler need: settings, clock, store and an HTTP client."""

    settings: Settings
    clock: Clock
    store: Store
    http: httpx.AsyncClient
    # The posters of the platforms `run_until` connected (they share the bots' connections).
    live_chats: dict[str, ChatAdapter] = field(default_factory=dict)


def source_names(settings: Settings) -> list[str]:
    """Return every source name ``--source`` accepts, in run order."""
    names = []
    if settings.sources.hf.enabled:
        names.append("hf")
    if settings.sources.arxiv.enabled:
        names.append("arxiv")
    names.extend(feed.name for feed in settings.sources.feeds)
    names.append(MANUAL_SOURCE)
    if settings.sources.semantic_scholar.enabled:
        names.append(CITATIONS_SOURCE)
    return names


def build_sources(
    settings: Settings, client: httpx.AsyncClient, clock: Clock, only: Sequence[str] = ()
) -> SourceSet:
    """Build the configured sources, or just those named in ``only``."""
    known = source_names(settings)
    unknown = [name for name in only if name not in known]
    if unknown:
        raise UnknownSourceError(
            f"unknown source {', '.join(unknown)}; configured sources: {', '.join(known)}"
        )
    wanted = set(only or known)
    limits = settings.sources
    arxiv = ArxivSource(
        client,
        clock,
        url=limits.arxiv.url,
        query=limits.arxiv.query,
        max_results=limits.arxiv.max_results,
        lookback_days=limits.arxiv.lookback_days,
        min_interval_s=limits.arxiv.min_interval_s,
        deadline_s=limits.timeout_s,
        max_bytes=limits.max_bytes,
    )
    chosen = SourceSet()
    if "hf" in wanted:
        chosen.sources.append(
            HfPapersSource(
                client,
                clock,
                url=limits.hf.url,
                weeks=limits.hf.weeks,
                deadline_s=limits.timeout_s,
                max_bytes=limits.max_bytes,
            )
        )
    if "arxiv" in wanted:
        chosen.sources.append(arxiv)
    for feed in limits.feeds:
        if feed.name in wanted:
            chosen.sources.append(
                FeedSource(
                    feed.name,
                    feed.url,
                    client,
                    max_bytes=limits.max_bytes,
                    deadline_s=limits.timeout_s,
                )
            )
    if MANUAL_SOURCE in wanted:
        # Editors' arXiv and HF links resolve through the same paced arXiv client.
        chosen.links = ManualResolver(client, arxiv)
    if CITATIONS_SOURCE in wanted and limits.semantic_scholar.enabled:
        key = limits.semantic_scholar.api_key
        chosen.citations = SemanticScholarCitations(
            client,
            clock,
            url=limits.semantic_scholar.url,
            api_key=key.get_secret_value() if key else None,
            deadline_s=limits.timeout_s,
        )
    return chosen


def build_http_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """Return the HTTP client every source shares (redirects followed, bounded per request)."""
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(30.0, connect=10.0),
        follow_redirects=True,
        max_redirects=5,
        transport=transport,
    )


@asynccontextmanager
async def open_app(
    settings: Settings, clock: Clock, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[App]:
    """Open the store (migrated to the latest schema) and the HTTP client; close both after."""
    store = await Store.open(settings.database_url)
    try:
        async with build_http_client(transport) as client:
            yield App(settings=settings, clock=clock, store=store, http=client)
    finally:
        await store.aclose()


async def ingest(
    app: App, only: Sequence[str] = (), progress: IngestProgress | None = None
) -> IngestReport:
    """Run one ingest of the configured sources (or those in ``only``) into the store."""
    chosen = build_sources(app.settings, app.http, app.clock, only)
    ingester = Ingester(
        app.store, app.clock, concurrency=app.settings.sources.concurrency, progress=progress
    )
    refresh = timedelta(hours=app.settings.sources.semantic_scholar.refresh_hours)
    return await ingester.run(
        chosen.sources,
        links=chosen.links,
        citations=chosen.citations,
        citation_max_age=refresh,
    )


async def compose(
    app: App, edition_date: date | None = None, *, force: bool = False
) -> ComposeResult:
    """Compose (or with ``force`` rebuild) the edition dated ``edition_date``.

    With OPENAI_API_KEY set, the model writes the summaries, title and intro (validated,
    within the edition's token budget); without, everything is written offline.
    """
    profile = load_profile()
    offline = OfflineSummarizer(profile)
    llm = app.settings.llm
    if llm.api_key is None:
        return await compose_edition(
            app.store,
            app.clock,
            offline,
            profile,
            edition_date=edition_date,
            size=app.settings.edition.size,
            window_days=app.settings.edition.window_days,
            force=force,
        )
    budget = TokenBudget(
        llm.edition_token_budget,
        input_usd_per_mtok=llm.input_usd_per_mtok,
        output_usd_per_mtok=llm.output_usd_per_mtok,
    )
    # Imported here: the openai package weighs about 45 MB, and a bot without a key (or
    # one that composes elsewhere) never needs it.
    from adapters.llm import OpenAiModel

    async with OpenAiModel(
        api_key=llm.api_key.get_secret_value(),
        model=llm.model,
        base_url=llm.base_url,
        timeout_s=llm.timeout_s,
    ) as model:
        return await compose_edition(
            app.store,
            app.clock,
            LlmSummarizer(model, offline, budget),
            profile,
            edition_date=edition_date,
            size=app.settings.edition.size,
            window_days=app.settings.edition.window_days,
            force=force,
            editor=LlmEditor(model, budget, app.store, app.clock),
            ranker=LlmRanker(model, budget, app.store, app.clock, concurrency=llm.concurrency),
            budget=budget,
            concurrency=llm.concurrency,
        )


class DestinationUnavailableError(ValueError):
    """A destination whose platform is not configured (or not supported yet)."""


@asynccontextmanager
async def chat_adapters(
    app: App, platforms: Sequence[str]
) -> AsyncIterator[dict[str, ChatAdapter]]:
    """Yield a poster per platform: the running bot's if connected, else one opened now.

    Raises `DestinationUnavailableError` for a platform without its token, or whose token
    the platform refused.
    """
    async with AsyncExitStack() as stack:
        adapters: dict[str, ChatAdapter] = {}
        for platform in sorted(set(platforms)):
            if platform in app.live_chats:
                adapters[platform] = app.live_chats[platform]
            elif platform == "slack":
                token = app.settings.slack.bot_token
                if token is None:
                    raise DestinationUnavailableError("slack: destinations need SLACK_BOT_TOKEN")
                client = web_client(token.get_secret_value(), app.settings.slack.api_url)
                adapters[platform] = SlackChat(
                    client, app.clock, min_interval_s=app.settings.slack.min_interval_s
                )
            elif platform == "discord":
                adapters[platform] = await _discord_chat(app, stack)
            else:
                raise DestinationUnavailableError(f"{platform}: is not a chat platform")
        yield adapters


def configure_discord(settings: Settings) -> None:
    """Point discord.py at DISCORD_API_URL and DISCORD_GATEWAY_URL."""
    configure_endpoints(str(settings.discord.api_url), settings.discord.gateway_url)


async def _discord_chat(app: App, stack: AsyncExitStack) -> ChatAdapter:
    token = app.settings.discord.bot_token
    if token is None:
        raise DestinationUnavailableError("discord: destinations need DISCORD_BOT_TOKEN")
    configure_discord(app.settings)
    try:
        client = await stack.enter_async_context(rest_client(token.get_secret_value()))
    except DeliveryError as exc:
        raise DestinationUnavailableError(exc.reason) from None
    pacer = RequestPacer(app.clock, app.settings.discord.requests_per_s)
    return DiscordChat(client, app.clock, pacer=pacer)


async def publish(
    app: App, edition: Edition, destinations: Sequence[Destination]
) -> list[DeliveryReport]:
    """Deliver ``edition`` to each destination now (resuming, never duplicating)."""
    async with chat_adapters(app, [d.platform for d in destinations]) as adapters:
        return [
            await deliver(
                edition, destination, adapters[destination.platform], app.store, app.clock
            )
            for destination in destinations
        ]


async def publish_due(app: App) -> Counters:
    """Deliver what is due to every active subscription now, as the schedule would.

    Platforms without their token are left out (their deliveries wait for an instance that
    has it); the rest share ``schedule.workers`` deliveries at once.
    """
    configured = {
        "slack": app.settings.slack.bot_token is not None,
        "discord": app.settings.discord.bot_token is not None,
    }
    wanted = {s.platform for s in await app.store.subscriptions() if s.active}
    missing = sorted(p for p in wanted if not configured.get(p, False))
    if missing:
        logger.warning("subscriptions on %s wait: no token set here", ", ".join(missing))
    async with chat_adapters(app, sorted(wanted - set(missing))) as adapters:
        scheduler = Scheduler(
            app.store,
            app.clock,
            app.settings.schedule,
            adapters,
            ingest=_nothing,
            compose=_nothing,
            on_pause=noticeboard(app, adapters).subscription_paused,
        )
        return await scheduler.deliver_due()


async def _nothing(*_: object) -> None:
    return None


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
    summarizer = CachedSummarizer(OfflineSummarizer(load_profile()), app.store, app.clock)

    async def fetch(arxiv_id: str) -> Reply:
        return await fetch_paper(arxiv_id, papers, app.store, summarizer, app.clock)

    return fetch


def channel_publisher(app: App, platform: str) -> Callable[[str], Awaitable[Reply]]:
    """Return the admin's "post the latest edition in this channel now"."""

    async def publish_here(channel: str) -> Reply:
        edition = await app.store.edition()
        if edition is None:
            return Reply(text="There is no edition yet.", error=True)
        (report,) = await publish(app, edition, [Destination(platform, channel)])
        if report.error is not None:
            return Reply(text=f"Posting stopped: {report.error.reason}", error=True)
        return Reply(text=f"Posted the edition of {edition.date}: {report.sent} messages sent.")

    return publish_here


class NothingToRunError(ValueError):
    """``digestbot run`` found no platform configured."""


class PlatformBot(Protocol):
    """A connected platform: started without blocking, closed cleanly."""

    async def start(self) -> None:
        """Connect; return once ready to answer."""
        ...

    async def aclose(self) -> None:
        """Disconnect and release every resource."""
        ...

    def connected(self) -> bool:
        """Tell whether connected."""
        ...


class PlatformStartError(RuntimeError):
    """A platform could not connect (refused token, unreachable); says which and why."""


def _slack_bot(app: App, health: Callable[[web.Application], None]) -> PlatformBot | None:
    slack = app.settings.slack
    transport = slack.app_token or slack.signing_secret
    if slack.bot_token is None or transport is None:
        return None
    client = web_client(slack.bot_token.get_secret_value(), slack.api_url)
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else None
    slack_app = build_slack_app(
        client,
        app.store,
        app.clock,
        fetch_paper=paper_fetcher(app),
        publish_to=channel_publisher(app, "slack"),
        admin_user_ids=slack.admin_user_ids,
        default_tz=app.settings.timezone,
        signing_secret=None if slack.app_token else secret,
    )
    app.live_chats["slack"] = SlackChat(client, app.clock, min_interval_s=slack.min_interval_s)
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
        default_tz=app.settings.timezone,
        sync_guild_id=settings.sync_guild_id,
        sharded=settings.sharded or bool(settings.shard_ids),
        shard_ids=settings.shard_ids or None,
        shard_count=settings.shard_count,
        guild_ready_timeout=settings.guild_ready_timeout_s,
        requests_per_s=settings.requests_per_s,
    )
    app.live_chats["discord"] = bot.chat()
    return bot


async def health_report(
    app: App, scheduler: Scheduler | None, bots: Sequence[tuple[str, PlatformBot]]
) -> HealthReport:
    """Return the bot's health now: database, platforms, sources, subscriptions, jobs."""
    now = app.clock.now()
    platforms = {name: bot.connected() for name, bot in bots}
    try:
        runs = await app.store.last_source_runs()
        subscriptions = await app.store.subscriptions()
        pending = await app.store.count_delivery_jobs(["pending", "claimed"])
    except Exception as exc:  # any database failure: report it, the probe decides
        return HealthReport(
            now, False, platforms, problem=f"{exc.__class__.__name__}: {str(exc)[:200]}"
        )
    return HealthReport(
        at=now,
        database_ok=True,
        platforms=platforms,
        failing_sources=failing(runs),
        paused=paused(subscriptions),
        next_jobs=scheduler.next_jobs() if scheduler is not None else (),
        pending_deliveries=pending,
        counters=scheduler.counters if scheduler is not None else Counters(),
    )


def build_scheduler(app: App) -> Scheduler:
    """Return the schedule of ingest, compose and deliveries for ``app``."""

    async def run_ingest() -> object:
        return await ingest(app)

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
    )


def noticeboard(app: App, chats: Mapping[str, ChatAdapter]) -> Noticeboard:
    """Return where pause notices go: each subscriber, and each platform's admin channel."""
    admin_channels = {
        "slack": app.settings.slack.admin_channel,
        "discord": app.settings.discord.admin_channel,
    }
    return Noticeboard(chats, admin_channels)


async def run_until(app: App, stop: asyncio.Event) -> list[str]:
    """Connect every configured platform and run the schedule until ``stop``; then close.

    Returns the names of the platforms that ran. Slack runs in Socket Mode when
    SLACK_APP_TOKEN is set, else in HTTP mode when SLACK_SIGNING_SECRET is; Discord when
    DISCORD_BOT_TOKEN is set. /healthz and /metrics listen on DIGEST_HTTP_HOST:PORT (on
    Slack's HTTP server in HTTP mode). Raises `PlatformStartError` when one cannot connect.
    """
    scheduler = build_scheduler(app) if app.settings.schedule.enabled else None
    bots: list[tuple[str, PlatformBot]] = []

    async def report() -> HealthReport:
        return await health_report(app, scheduler, bots)

    def health_routes(web_app: web.Application) -> None:
        add_health_routes(web_app, report)

    slack_bot = _slack_bot(app, health_routes)
    bots += [
        (name, bot)
        for name, bot in (("slack", slack_bot), ("discord", _discord_bot(app)))
        if bot is not None
    ]
    if not bots:
        raise NothingToRunError(
            "nothing to run: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) "
            "or SLACK_SIGNING_SECRET (HTTP mode), or DISCORD_BOT_TOKEN"
        )
    await seed_subscriptions(app.store, app.settings, app.clock)  # [[subscriptions]] in TOML
    services: list[tuple[str, PlatformBot | HealthServer]] = []
    if not isinstance(slack_bot, SlackHttpBot):
        services.append(
            ("health", HealthServer(report, app.settings.http.host, app.settings.http.port))
        )
    services += bots
    started: list[tuple[str, PlatformBot | HealthServer]] = []
    try:
        for name, service in services:
            try:
                await service.start()
            except Exception as exc:
                await service.aclose()
                raise PlatformStartError(f"{name} could not start: {exc}") from exc
            started.append((name, service))
            logger.warning("%s started", name)
        if scheduler is not None:
            await scheduler.start()
        try:
            await stop.wait()
        finally:
            if scheduler is not None:
                await scheduler.aclose()  # the send in flight ends and is recorded first
    finally:
        for _, service in reversed(started):
            await service.aclose()
        app.live_chats.clear()
    return [name for name, _ in started if name != "health"]
