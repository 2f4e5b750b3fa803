"""Discord reactions as feedback: MESSAGE_REACTION_ADD / _REMOVE become votes.

discord.py's raw events (``on_raw_reaction_add`` / ``_remove``) are used because the reacted
message is rarely in the client's cache (an edition posted days ago, or by another process).
Discord sends them only to a client that asked for the Guild Message Reactions intent
(``Intents.guild_reactions``, not privileged; see `adapters.chat.discord_chat.client_options`).

Only 👍 and 👎 (any skin tone) are votes; custom emoji and every other emoji are dropped here.
Which messages carry votes (an edition's item replies) is for `bot.feedback.reactions` to say.
"""

from __future__ import annotations

import logging
import re

import discord

from bot.domain import Platform, Reaction, Vote
from bot.feedback.ports import FeedbackStore
from bot.feedback.reactions import record_reaction
from bot.ports import Clock

logger = logging.getLogger(__name__)
VOTES = {"👍": Vote.UP, "👎": Vote.DOWN}
# Skin-tone modifiers and the emoji variation selector: 👍🏽 is still 👍.
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def vote_of(emoji: discord.PartialEmoji) -> Vote | None:
    """Return the vote an emoji gives, or None (custom emoji never are votes)."""
    if emoji.id is not None or not emoji.name:
        return None
    return VOTES.get(_MODIFIERS.sub("", emoji.name))


def reaction_of(payload: discord.RawReactionActionEvent, bot_id: int | None) -> Reaction | None:
    """Translate a raw reaction event; None when it is not a vote."""
    vote = vote_of(payload.emoji)
    if vote is None:
        return None
    # Bots' reactions, ours above all, are nobody's vote.
    by_bot = payload.user_id == bot_id or bool(payload.member and payload.member.bot)
    # Only an add says whose message it is (MESSAGE_REACTION_ADD's message_author_id).
    author = payload.message_author_id
    return Reaction(
        Platform.DISCORD,
        channel=str(payload.channel_id),
        message_id=str(payload.message_id),
        user=str(payload.user_id),
        vote=vote,
        added=payload.event_type == "REACTION_ADD",
        by_bot=by_bot,
        on_own_message=None if author is None or bot_id is None else author == bot_id,
        ordered_ids=True,  # snowflakes
    )


def listen_for_reactions(client: discord.Client, store: FeedbackStore, clock: Clock) -> None:
    """Keep the votes that reactions give in ``store`` (``client`` needs the reactions intent)."""

    async def handle(payload: discord.RawReactionActionEvent) -> None:
        reaction = reaction_of(payload, client.user.id if client.user else None)
        if reaction is not None:
            await record_reaction(reaction, store, clock)

    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        await handle(payload)

    async def on_raw_reaction_remove(payload: discord.RawReactionActionEvent) -> None:
        await handle(payload)

    # Client.event registers a coroutine under its own name: these two names are the events.
    client.event(on_raw_reaction_add)
    client.event(on_raw_reaction_remove)
