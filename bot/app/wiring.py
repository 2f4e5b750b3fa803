"""The composition root: builds adapters from settings and plugs them into the core's stages.

This is the one module of bot/ that may import adapters, storage and httpx. Everything it
builds has an explicit lifecycle: `open_app` is an async context manager that closes the HTTP
client and disposes the database engine on the way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import httpx

from adapters.chat.discord_chat import (
    DiscordChat,
    configure_endpoints,
    rest_client,
)
from adapters.chat.discord_pace import RequestPacer
from adapters.chat.slack_chat import SlackChat, web_client
from adapters.sources.arxiv import ArxivSource
from adapters.sources.feeds import FeedSource
from adapters.sources.hf_papers import HfPapersSource
from adapters.sources.manual import ManualResolver
from adapters.sources.safe_fetch import AddressPolicy, redirect_guard
from adapters.sources.semantic_scholar import SemanticScholarCitations
from bot.app.model_watch import MODEL_STATE, WatchedModel, model_state, problem_line
from bot.app.slack_workspaces import slack_tokens
from bot.clock import SystemClock
from bot.commands.status import StatusReport, collect_status
from bot.config import LlmSettings, Settings
from bot.delivery.content import ContentFilter, select_items
from bot.delivery.deliver import DeliveryError, DeliveryReport, Destination, deliver
from bot.delivery.notices import Noticeboard
from bot.delivery.ports import ChatAdapter, DeliveryLog
from bot.delivery.schedule import Scheduler
from bot.delivery.worker import Counters
from bot.domain import Edition, Platform
from bot.edition.compose import ComposeResult, compose_edition
from bot.edition.llm_rank import LlmRanker
from bot.edition.llm_summarize import LlmEditor, LlmSummarizer
from bot.edition.model import TokenBudget
from bot.edition.ports import ComposeProgress
from bot.edition.profile import EditorialProfile, load_profile
from bot.edition.summarize import OfflineSummarizer
from bot.ingest.ingester import CITATIONS_SOURCE, MANUAL_SOURCE, Ingester, IngestReport
from bot.ports import (
    CitationLookup,
    Clock,
    IngestProgress,
    LanguageModel,
    LinkResolver,
    Source,
)
from bot.web.chat import linked_chat
from bot.web.links import Links, public_links
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
    # Why the last compose could not use the model (refused key, unreachable), or None.
    model_problem: str | None = None

    @property
    def profile(self) -> EditorialProfile:
        """Return the editorial profile: DIGEST_PROFILE_PATH's, else the bundled one."""
        return load_profile(self.settings.profile_path)


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


def build_http_client(
    transport: httpx.AsyncBaseTransport | None = None, *, allow_private_redirects: bool = False
) -> httpx.AsyncClient:
    """Return the HTTP client every source shares (redirects followed, bounded per request).

    Redirects to loopback, private, link-local and metadata addresses are refused unless
    ``allow_private_redirects`` (self-hosted feeds on a LAN).
    """
    policy = AddressPolicy(allow_private=allow_private_redirects)
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(30.0, connect=10.0),
        follow_redirects=True,
        max_redirects=5,
        transport=transport,
        event_hooks={"response": [redirect_guard(policy)]},
    )


@asynccontextmanager
async def open_app(
    settings: Settings,
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    read_only: bool = False,
) -> AsyncIterator[App]:
    """Open the store (migrated to the latest schema) and the HTTP client; close both after.

    ``read_only`` (status, preview, ...): the database must already exist at the latest
    schema; it is never created nor migrated (`storage.db.DatabaseError` says what to run).
    """
    if read_only:
        store = await Store.open_existing(settings.database_url)
    else:
        store = await Store.open(settings.database_url)
    try:
        allow_private = settings.sources.allow_private_redirects
        async with build_http_client(transport, allow_private_redirects=allow_private) as client:
            yield App(settings=settings, clock=clock, store=store, http=client)
    finally:
        await store.aclose()


async def ingest(
    app: App,
    only: Sequence[str] = (),
    progress: IngestProgress | None = None,
    days: tuple[date, date] | None = None,
) -> IngestReport:
    """Run one ingest of the configured sources (or those in ``only``) into the store.

    With ``days`` (first, last), HF and arXiv are asked for those past days.
    """
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
        days=days,
    )


@asynccontextmanager
async def language_model(llm: LlmSettings) -> AsyncIterator[tuple[LanguageModel, TokenBudget]]:
    """Open the configured model (OPENAI_API_KEY must be set) and a fresh edition budget."""
    assert llm.api_key is not None, "callers check for a key first"
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
        reasoning_effort=llm.reasoning_effort,
        reasoning=llm.reasoning_model,
    ) as model:
        yield model, budget


async def compose(
    app: App,
    edition_date: date | None = None,
    *,
    force: bool = False,
    progress: ComposeProgress | None = None,
) -> ComposeResult:
    """Compose (or with ``force`` rebuild) the edition dated ``edition_date``.

    With OPENAI_API_KEY set, the model writes the summaries, title and intro (validated,
    within the edition's token budget); without, everything is written offline.
    """
    profile = app.profile
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
            freshness_days=app.settings.edition.freshness_days,
            force=force,
            progress=progress,
        )
    async with language_model(llm) as (plain_model, budget):
        model = WatchedModel(plain_model)
        result = await compose_edition(
            app.store,
            app.clock,
            LlmSummarizer(model, offline, budget),
            profile,
            edition_date=edition_date,
            size=app.settings.edition.size,
            window_days=app.settings.edition.window_days,
            freshness_days=app.settings.edition.freshness_days,
            force=force,
            editor=LlmEditor(model, budget, app.store, app.clock),
            ranker=LlmRanker(
                model,
                budget,
                app.store,
                app.clock,
                profile=profile,
                concurrency=llm.concurrency,
                shortlist=llm.rank_shortlist,
                budget_share=llm.rank_budget_share,
            ),
            budget=budget,
            concurrency=llm.concurrency,
            progress=progress,
        )
    app.model_problem = model.problem
    now = app.clock.now()
    await app.store.save_source_state(MODEL_STATE, model_state(model.problem, now), now)
    return result


class DestinationUnavailableError(ValueError):
    """A destination whose platform is not configured (or not supported yet)."""


class NotDeliverableError(DestinationUnavailableError):
    """An edition that goes nowhere: an imported one is history, never delivered."""


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
                if token is None and not app.settings.slack.oauth:
                    raise DestinationUnavailableError("slack: destinations need SLACK_BOT_TOKEN")
                client = web_client(
                    token.get_secret_value() if token else None, app.settings.slack.api_url
                )
                adapters[platform] = SlackChat(
                    client,
                    app.clock,
                    min_interval_s=app.settings.slack.min_interval_s,
                    tokens=slack_tokens(app.settings, app.store),
                )
            elif platform == "discord":
                adapters[platform] = await _discord_chat(app, stack)
            else:
                raise DestinationUnavailableError(f"{platform}: is not a chat platform")
        links = web_links(app.settings)
        yield {platform: linked_chat(chat, links) for platform, chat in adapters.items()}


def web_links(settings: Settings) -> Links | None:
    """Return the archive's absolute links when DIGEST_PUBLIC_URL is set (and the web on)."""
    public = settings.public_url
    return public_links(public) if public and settings.web.enabled else None


def configure_discord(settings: Settings) -> None:
    """Point discord.py at DISCORD_API_URL and DISCORD_GATEWAY_URL."""
    configure_endpoints(str(settings.discord.api_url), settings.discord.gateway_url)


async def _discord_chat(app: App, stack: AsyncExitStack) -> ChatAdapter:
    token = app.settings.discord.bot_token
    if token is None:
        raise DestinationUnavailableError("discord: destinations need DISCORD_BOT_TOKEN")
    configure_discord(app.settings)
    pacer = RequestPacer(app.clock, app.settings.discord.requests_per_s)
    try:
        client = await stack.enter_async_context(rest_client(token.get_secret_value(), pacer))
    except DeliveryError as exc:
        raise DestinationUnavailableError(exc.reason) from None
    return DiscordChat(client, app.clock)


@dataclass(slots=True)
class _CountingLog:
    """The store as `deliver` records sends in it, telling ``on_part`` of each part."""

    store: Store
    destination: Destination
    total: int
    on_part: Callable[[Destination, int, int], object]
    parts: int = 0

    async def begin_delivery(self, destination: str, edition_id: int, at: datetime) -> bool:
        return await self.store.begin_delivery(destination, edition_id, at)

    async def sent_parts(self, destination: str, edition_id: int) -> dict[int, tuple[str, str]]:
        done = await self.store.sent_parts(destination, edition_id)
        self.parts = len(done)
        self.on_part(self.destination, self.parts, self.total)
        return done

    async def record_sent(
        self,
        destination: str,
        edition_id: int,
        part: int,
        message_id: str,
        thread_id: str,
        at: datetime,
    ) -> None:
        await self.store.record_sent(destination, edition_id, part, message_id, thread_id, at)
        self.parts += 1
        self.on_part(self.destination, self.parts, self.total)


async def publish(
    app: App,
    edition: Edition,
    destinations: Sequence[Destination],
    on_done: Callable[[DeliveryReport], object] | None = None,
    on_part: Callable[[Destination, int, int], object] | None = None,
) -> list[DeliveryReport]:
    """Deliver ``edition`` to each destination now (resuming, never duplicating).

    Destinations go side by side, up to ``schedule.workers`` at once, as `digestbot run`
    delivers them: the adapters pace each platform (Slack per channel, Discord per bot), so
    twenty channels take about as long as one. ``on_done`` hears of each as it finishes,
    ``on_part`` of each message recorded (destination, messages there, messages in all).
    """
    if edition.imported:
        raise NotDeliverableError(
            f"the edition of {edition.date} was imported: it is history and is never delivered"
        )
    unique = list(dict.fromkeys(destinations))  # the same channel twice is one delivery
    slots = asyncio.Semaphore(app.settings.schedule.workers)
    # A subscribed channel gets its own part of the edition, as the schedule would send it.
    profile = app.profile
    wants = {
        Destination(Platform(s.platform), s.channel): ContentFilter(
            s.difficulty, s.topics, s.exclude
        )
        for s in await app.store.subscriptions()
        if s.platform in set(Platform)
    }
    async with chat_adapters(app, [d.platform for d in unique]) as adapters:

        async def one(destination: Destination) -> DeliveryReport:
            chosen = select_items(edition, wants.get(destination, ContentFilter()), profile)
            async with slots:
                adapter = adapters[destination.platform]
                log: DeliveryLog = app.store
                if on_part is not None:
                    # The parent, then one reply per item this destination gets.
                    total = 1 + len(chosen.edition.entries)
                    log = _CountingLog(app.store, destination, total, on_part)
                report = await deliver(
                    chosen.edition, destination, adapter, log, app.clock, scope=chosen.label
                )
            if on_done is not None:
                on_done(report)
            return report

        return list(await asyncio.gather(*(one(d) for d in unique)))


async def _nothing(*_: object) -> None:
    return None


def noticeboard(app: App, chats: Mapping[str, ChatAdapter]) -> Noticeboard:
    """Return where pause notices go: each subscriber, and each platform's admin channel."""
    admin_channels = {
        "slack": app.settings.slack.admin_channel,
        "discord": app.settings.discord.admin_channel,
    }
    return Noticeboard(chats, admin_channels)


async def publish_due(app: App) -> Counters:
    """Deliver what is due to every active subscription now, as the schedule would.

    Platforms without their token are left out (their deliveries wait for an instance that
    has it); the rest share ``schedule.workers`` deliveries at once.
    """
    configured = {
        "slack": app.settings.slack.bot_token is not None or app.settings.slack.oauth,
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
            profile=app.profile,
        )
        return await scheduler.deliver_due()


async def read_status(settings: Settings) -> StatusReport:
    """Open the store once (as it is: never created nor migrated) and read the status report."""
    async with open_app(settings, SystemClock(), read_only=True) as app:
        report = await collect_status(app.store, settings.schedule, app.clock)
        kept = await app.store.source_state(MODEL_STATE)
        return replace(report, model_problem=problem_line(kept) if settings.llm.api_key else "")
