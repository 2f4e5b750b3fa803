"""Slack reactions as feedback: ``reaction_added`` / ``reaction_removed`` become votes.

Slack names reactions by shortcode: 👍 is ``+1`` (alias ``thumbsup``), 👎 ``-1`` (alias
``thumbsdown``), and a skin tone is a suffix (``+1::skin-tone-2``). Other reactions, and
reactions on anything but a message, are not feedback and are dropped here; which messages
carry votes (an edition's item replies) is for `bot.feedback.reactions` to decide.

Slack sends these events only to an app subscribed to them (``bot_events`` in
slack-manifest.yml) with the ``reactions:read`` scope, in channels the bot is a member of.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.domain import Platform, Reaction, Vote
from bot.feedback.ports import FeedbackStore
from bot.feedback.reactions import record_reaction
from bot.ports import Clock

logger = logging.getLogger(__name__)
VOTES = {"+1": Vote.UP, "thumbsup": Vote.UP, "-1": Vote.DOWN, "thumbsdown": Vote.DOWN}


def vote_of(name: str) -> Vote | None:
    """Return the vote a reaction's shortcode gives (skin tones aside), or None."""
    return VOTES.get(name.partition("::")[0])


def reaction_of(event: Mapping[str, Any], bot_user_id: str | None) -> Reaction | None:
    """Translate a ``reaction_added`` / ``reaction_removed`` event; None when not a vote."""
    item = event.get("item") or {}
    vote = vote_of(str(event.get("reaction") or ""))
    if item.get("type") != "message" or vote is None:
        return None
    user = str(event.get("user") or "")
    return Reaction(
        Platform.SLACK,
        channel=str(item.get("channel") or ""),
        message_id=str(item.get("ts") or ""),
        user=user,
        vote=vote,
        added=event.get("type") == "reaction_added",
        by_bot=bool(bot_user_id) and user == bot_user_id,
    )


def add_reaction_listeners(app: AsyncApp, store: FeedbackStore, clock: Clock) -> None:
    """Listen for reactions on ``app`` and keep the votes they give in ``store``."""

    async def handle(event: dict[str, Any], context: AsyncBoltContext) -> None:
        reaction = reaction_of(event, context.bot_user_id)
        if reaction is not None:
            await record_reaction(reaction, store, clock)

    # Bolt acknowledges events itself (before the listener runs); nothing is answered.
    app.event("reaction_added")(handle)
    app.event("reaction_removed")(handle)
