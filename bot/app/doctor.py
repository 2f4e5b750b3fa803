"""The checks of ``digestbot doctor``: every dependency, one small request each.

The database (reachable, at the latest schema: never created nor migrated here), Slack (the
token and its scopes against slack-manifest.yml), Discord (the token, and the bot's
permissions in each subscribed channel), the model (a one-token call) and each configured
source (one bounded GET). Every check ends as ``ok``, ``FAIL`` or ``skip`` with a reason in
one line; none raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import httpx
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.chat.checks import (
    SLACK_BOT_SCOPES,
    ProbeError,
    discord_access,
    slack_identity,
)
from adapters.sources.http_fetch import fetch_limited
from bot.app.wiring import build_http_client, configure_discord
from bot.config import Settings
from bot.ports import LanguageModelError, SourceError
from storage.db import DatabaseError, head_revision, normalise_url, redact
from storage.store import Store

PROBE_TIMEOUT_S = 20.0
"""No check waits longer than this (or the sources' own timeout, when shorter)."""


class CheckState(StrEnum):
    """How one check ended."""

    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    name: str
    state: CheckState
    detail: str


def _ok(name: str, detail: str) -> Check:
    return Check(name, CheckState.OK, detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, CheckState.FAIL, detail)


def _skip(name: str, detail: str) -> Check:
    return Check(name, CheckState.SKIP, detail)


def _shown_url(url: str) -> str:
    return redact(url, url)


def _bounded(url: str) -> str:
    """Return ``url`` with a connect timeout on PostgreSQL (libpq waits for minutes otherwise)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return url  # Store.open_existing says what is wrong with it
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return url
    bounded = parsed.update_query_dict({"connect_timeout": str(round(PROBE_TIMEOUT_S))})
    return bounded.render_as_string(hide_password=False)


async def check_database(settings: Settings) -> tuple[Check, list[str]]:
    """Check the database as is; return the check and the subscribed Discord channels."""
    url = settings.database_url
    try:
        store = await Store.open_existing(_bounded(url))
        try:
            records = await store.subscription_records()
        finally:
            await store.aclose()
    except DatabaseError as exc:
        return _fail("database", str(exc)), []
    except Exception as exc:  # a driver's error is this check's failure
        return _fail("database", redact(f"{type(exc).__name__}: {exc}"[:300], url)), []
    channels = [r.subscription.channel for r in records if r.subscription.platform == "discord"]
    return _ok("database", f"{_shown_url(url)} at the latest schema ({head_revision()})"), channels


async def check_slack(settings: Settings, timeout_s: float) -> list[Check]:
    """Check SLACK_BOT_TOKEN with auth.test, and its scopes against the manifest's."""
    token = settings.slack.bot_token
    if token is None:
        return [_skip("slack", "SLACK_BOT_TOKEN is not set (Slack off)")]
    try:
        who = await slack_identity(
            token.get_secret_value(), settings.slack.api_url, timeout_s=timeout_s
        )
    except ProbeError as exc:
        return [_fail("slack", exc.reason)]
    checks = [_ok("slack", f"auth.test: {who.user or 'the bot'} in {who.team or who.team_id}")]
    if who.scopes is None:
        checks.append(_fail("slack-scopes", "Slack sent no x-oauth-scopes header"))
        return checks
    missing = sorted(SLACK_BOT_SCOPES - who.scopes)
    if missing:
        checks.append(
            _fail(
                "slack-scopes",
                f"missing {', '.join(missing)}: add them (paste slack-manifest.yml under App "
                "Manifest) and reinstall the app",
            )
        )
    else:
        checks.append(_ok("slack-scopes", f"all {len(SLACK_BOT_SCOPES)} of slack-manifest.yml"))
    return checks


async def check_discord(settings: Settings, channels: list[str], timeout_s: float) -> list[Check]:
    """Check DISCORD_BOT_TOKEN, and the bot's permissions in each subscribed channel."""
    token = settings.discord.bot_token
    if token is None:
        return [_skip("discord", "DISCORD_BOT_TOKEN is not set (Discord off)")]
    configure_discord(settings)
    try:
        access = await discord_access(token.get_secret_value(), channels, timeout_s=timeout_s)
    except ProbeError as exc:
        return [_fail("discord", exc.reason)]
    checks = [_ok("discord", f"logged in as {access.user}")]
    for channel in access.channels:
        name = f"discord:{channel.channel}"
        where = f"#{channel.name}" if channel.name else "the channel"
        if channel.problem:
            checks.append(_fail(name, channel.problem))
        elif channel.missing:
            checks.append(_fail(name, f"the bot lacks {', '.join(channel.missing)} in {where}"))
        else:
            checks.append(_ok(name, f"every permission the bot needs in {where}"))
    return checks


class _Ping(BaseModel):
    ok: bool


async def check_model(settings: Settings, timeout_s: float) -> Check:
    """Ask the model for a one-token answer (when OPENAI_API_KEY is set)."""
    llm = settings.llm
    if llm.api_key is None:
        return _skip("model", "OPENAI_API_KEY is not set (offline summaries)")
    # Imported here, as in bot.app.wiring: the openai package is heavy and often unused.
    from adapters.llm import OpenAiModel

    model = OpenAiModel(
        api_key=llm.api_key.get_secret_value(),
        model=llm.model,
        base_url=llm.base_url,
        timeout_s=min(llm.timeout_s, timeout_s),
        max_retries=0,  # a check, not a job: one try
        reasoning_effort=llm.reasoning_effort,
        reasoning=llm.reasoning_model,
    )
    try:
        async with model:
            answer = await model.complete(
                'Answer with {"ok": true}.',
                "ok?",
                _Ping,
                purpose="doctor",
                max_output_tokens=8,
            )
    except LanguageModelError as exc:
        return _fail("model", f"{llm.model}: {exc.reason}")
    if answer.refusal:
        return _fail("model", f"{llm.model} refused: {answer.refusal[:120]}")
    tokens = answer.input_tokens + answer.output_tokens
    return _ok("model", f"{answer.model or llm.model} answered ({tokens} tokens)")


def _source_requests(settings: Settings) -> list[tuple[str, str, dict[str, str | int]]]:
    """Return (source, URL, query) of one small request per configured source."""
    sources = settings.sources
    wanted: list[tuple[str, str, dict[str, str | int]]] = []
    if sources.hf.enabled:
        wanted.append(("hf", sources.hf.url, {"limit": 1}))
    if sources.arxiv.enabled:
        query: dict[str, str | int] = {"search_query": sources.arxiv.query, "max_results": 1}
        wanted.append(("arxiv", sources.arxiv.url, query))
    for feed in sources.feeds:
        wanted.append((feed.name, feed.url, {}))
    if sources.semantic_scholar.enabled:
        s2 = sources.semantic_scholar.url.rstrip("/") + "/paper/search"
        wanted.append(("semantic_scholar", s2, {"query": "llm", "limit": 1, "fields": "title"}))
    return wanted


async def _check_source(
    client: httpx.AsyncClient,
    settings: Settings,
    name: str,
    url: str,
    params: dict[str, str | int],
    timeout_s: float,
) -> Check:
    headers = {}
    key = settings.sources.semantic_scholar.api_key
    if name == "semantic_scholar" and key is not None:
        headers["x-api-key"] = key.get_secret_value()
    try:
        body = await fetch_limited(
            client,
            url,
            params=params,
            headers=headers,
            max_bytes=settings.sources.max_bytes,
            deadline_s=timeout_s,
        )
    except SourceError as exc:
        return _fail(f"source:{name}", exc.reason)
    if body.status == 429:
        return _ok(f"source:{name}", f"reachable, but rate limiting now (HTTP 429): {url}")
    if body.status >= 400:
        return _fail(f"source:{name}", f"HTTP {body.status} from {url}")
    return _ok(f"source:{name}", f"HTTP {body.status} from {url}")


async def check_sources(settings: Settings, timeout_s: float) -> list[Check]:
    """Send one bounded request to each configured source, side by side."""
    allow_private = settings.sources.allow_private_redirects
    async with build_http_client(allow_private_redirects=allow_private) as client:
        return list(
            await asyncio.gather(
                *(
                    _check_source(client, settings, name, url, params, timeout_s)
                    for name, url, params in _source_requests(settings)
                )
            )
        )


async def _guarded(name: str, work: Callable[[], Awaitable[list[Check]]]) -> list[Check]:
    # A check that breaks in a way nobody foresaw is one FAIL line, never a traceback.
    try:
        return await work()
    except Exception as exc:  # reported as that check's failure
        return [_fail(name, f"{type(exc).__name__}: {str(exc)[:160]}")]


async def run_checks(settings: Settings) -> list[Check]:
    """Run every check (the outside ones side by side) and return them in a fixed order."""
    timeout_s = min(PROBE_TIMEOUT_S, settings.sources.timeout_s)
    database, channels = await check_database(settings)
    # Channels the settings file subscribes count even before `run` seeds them.
    for entry in settings.subscriptions:
        if entry.platform == "discord" and entry.channel not in channels:
            channels.append(entry.channel)
    slack, discord, model, sources = await asyncio.gather(
        _guarded("slack", lambda: check_slack(settings, timeout_s)),
        _guarded("discord", lambda: check_discord(settings, channels, timeout_s)),
        _guarded("model", lambda: _listed(check_model(settings, timeout_s))),
        _guarded("sources", lambda: check_sources(settings, timeout_s)),
    )
    return [database, *slack, *discord, *model, *sources]


async def _listed(check: Awaitable[Check]) -> list[Check]:
    return [await check]
