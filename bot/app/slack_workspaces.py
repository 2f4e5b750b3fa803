"""Wiring of "Add to Slack" (many workspaces): OAuth, tokens, and workspaces that leave.

Bolt's OAuth runs over the store; deliveries and notices get a token per workspace; a
workspace that removed the app has its subscriptions paused.

All of it is on only with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (HTTP mode); otherwise
Slack runs on the one SLACK_BOT_TOKEN as before.
"""

from __future__ import annotations

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from adapters.chat.slack_oauth import WorkspaceGone, WorkspaceTokens, oauth_settings
from bot.config import Settings
from bot.delivery.notices import Noticeboard
from bot.domain import Platform, SubscriptionRecord
from bot.ports import Clock
from storage.store import Store


def slack_oauth(settings: Settings, store: Store, clock: Clock) -> AsyncOAuthSettings | None:
    """Return Bolt's OAuth settings when Add to Slack is configured, else None."""
    slack = settings.slack
    if slack.client_id is None or slack.client_secret is None:
        return None
    return oauth_settings(
        slack.client_id,
        slack.client_secret.get_secret_value(),
        store,
        clock,
        api_url=slack.api_url,
        public_url=settings.public_url,
    )


def slack_tokens(settings: Settings, store: Store) -> WorkspaceTokens | None:
    """Return the per-workspace tokens when Add to Slack is on, else None (one token)."""
    if not settings.slack.oauth:
        return None
    token = settings.slack.bot_token
    return WorkspaceTokens(store, token.get_secret_value() if token else None)


def workspace_gone(store: Store, clock: Clock, notices: Noticeboard) -> WorkspaceGone:
    """Return what a workspace removing the app does: pause its subscriptions, tell admins."""

    async def gone(team: str, reason: str) -> list[SubscriptionRecord]:
        paused = []
        for subscription in await store.subscriptions(Platform.SLACK):
            if subscription.workspace != team or not subscription.active:
                continue
            record = await store.pause_subscription(
                Platform.SLACK, subscription.channel, reason, clock.now()
            )
            if record is not None:
                paused.append(record)
                await notices.subscription_paused(record)
        return paused

    return gone
