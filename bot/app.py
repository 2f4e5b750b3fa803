"""The composition root: builds adapters from settings and plugs them into the core's stages.

This is the one module of bot/ that may import adapters, storage and httpx. Everything it
builds has an explicit lifecycle: `open_app` is an async context manager that closes the HTTP
client and disposes the database engine on the way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from adapters.chat.slack_bot import SlackHttpBot, SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import SlackChat, web_client
from adapters.llm import OpenAiModel
from adapters.sources.arxiv import ArxivSource
from adapters.sources.feeds import FeedSource
from adapters.sources.hf_papers import HfPapersSource
from adapters.sources.manual import ManualResolver
from adapters.sources.semantic_scholar import SemanticScholarCitations
from bot.commands import Reply, fetch_paper
from bot.compose import ComposeResult, compose_edition
from bot.config import Settings
from bot.deliver import ChatAdapter, DeliveryReport, Destination, deliver
from bot.domain import Edition
from bot.ingest import CITATIONS_SOURCE, MANUAL_SOURCE, Ingester, IngestProgress, IngestReport
from bot.llm_rank import LlmRanker
from bot.llm_summarize import LlmEditor, LlmSummarizer, TokenBudget
from bot.ports import CitationLookup, Clock, LinkResolver, Source
from bot.profile import load_profile
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


def chat_for(app: App, destination: Destination) -> ChatAdapter:
    """Return the adapter that posts to ``destination``'s platform."""
    if destination.platform == "slack":
        token = app.settings.slack.bot_token
        if token is None:
            raise DestinationUnavailableError(f"{destination} needs SLACK_BOT_TOKEN")
        return SlackChat(
            web_client(token.get_secret_value(), app.settings.slack.api_url), app.clock
        )
    raise DestinationUnavailableError(
        f"{destination}: posting to {destination.platform} is not available in this version"
    )


async def publish(
    app: App, edition: Edition, destinations: Sequence[Destination]
) -> list[DeliveryReport]:
    """Deliver ``edition`` to each destination now (resuming, never duplicating)."""
    adapters = [chat_for(app, destination) for destination in destinations]
    return [
        await deliver(edition, destination, adapter, app.store, app.clock)
        for destination, adapter in zip(destinations, adapters, strict=True)
    ]


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


def channel_publisher(app: App) -> Callable[[str], Awaitable[Reply]]:
    """Return the admin's "post the latest edition in this Slack channel now"."""

    async def publish_here(channel: str) -> Reply:
        edition = await app.store.edition()
        if edition is None:
            return Reply(text="There is no edition yet.", error=True)
        (report,) = await publish(app, edition, [Destination("slack", channel)])
        if report.error is not None:
            return Reply(text=f"Posting stopped: {report.error.reason}", error=True)
        return Reply(text=f"Posted the edition of {edition.date}: {report.sent} messages sent.")

    return publish_here


class NothingToRunError(ValueError):
    """``digestbot run`` found no platform configured."""


async def run_until(app: App, stop: asyncio.Event) -> list[str]:
    """Connect every configured platform, wait for ``stop``, then close them all.

    Returns the names of the platforms that ran. Slack runs in Socket Mode when
    SLACK_APP_TOKEN is set, else in HTTP mode when SLACK_SIGNING_SECRET is.
    """
    slack = app.settings.slack
    bots: list[tuple[str, SlackSocketBot | SlackHttpBot]] = []
    transport = slack.app_token or slack.signing_secret
    if slack.bot_token is not None and transport is not None:
        client = web_client(slack.bot_token.get_secret_value(), slack.api_url)
        secret = slack.signing_secret.get_secret_value() if slack.signing_secret else None
        slack_app = build_slack_app(
            client,
            app.store,
            app.clock,
            fetch_paper=paper_fetcher(app),
            publish_to=channel_publisher(app),
            admin_user_ids=slack.admin_user_ids,
            default_tz=app.settings.timezone,
            signing_secret=None if slack.app_token else secret,
        )
        bot: SlackSocketBot | SlackHttpBot = (
            SlackSocketBot(slack_app, slack.app_token.get_secret_value())
            if slack.app_token
            else SlackHttpBot(slack_app, app.settings.http.host, app.settings.http.port)
        )
        bots.append(("slack", bot))
    if not bots:
        raise NothingToRunError(
            "nothing to run: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) "
            "or SLACK_SIGNING_SECRET (HTTP mode)"
        )
    started: list[tuple[str, SlackSocketBot | SlackHttpBot]] = []
    try:
        for name, bot in bots:
            await bot.start()
            started.append((name, bot))
            logger.warning("%s connected", name)
        await stop.wait()
    finally:
        for _, bot in reversed(started):
            await bot.aclose()
    return [name for name, _ in started]
