"""Reactions become votes: a 👍 or 👎 on an item's threaded reply is that reader's vote on it.

Chat adapters translate platform events into `bot.domain.Reaction` (only 👍 and 👎; other
emoji never get here) and hand them to `record_reaction`. Only the replies of a delivered
edition carry votes: a reaction on the parent message, on a message the bot never sent, or by
the bot itself changes nothing. One vote per item, destination and user: the latest reaction
wins, and removing a reaction removes the vote it gave.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from bot.domain import Reaction
from bot.feedback.ports import FeedbackStore
from bot.ports import Clock

logger = logging.getLogger(__name__)


class ReactionOutcome(StrEnum):
    """What a reaction did to the votes."""

    VOTED = "voted"
    REMOVED = "removed"
    UNCHANGED = "unchanged"
    IGNORED = "ignored"


async def record_reaction(
    reaction: Reaction, store: FeedbackStore, clock: Clock
) -> ReactionOutcome:
    """Keep, replace or remove the vote ``reaction`` gives; say what it did."""
    if reaction.by_bot:
        return ReactionOutcome.IGNORED
    # An item split over several messages is recorded by its last one; the others are found
    # by their place before it, when the platform's ids say the order and the message is
    # (or may be) the bot's.
    split = reaction.ordered_ids and reaction.on_own_message is not False
    part = await store.reacted_part(
        reaction.platform, reaction.channel, reaction.message_id, or_earlier=split
    )
    if part is None or part.part == 0 or part.canonical_id is None:
        return ReactionOutcome.IGNORED  # not an item reply of ours
    if reaction.added:
        changed = await store.set_vote(
            part.destination, part.canonical_id, reaction.user, reaction.vote, clock.now()
        )
        outcome = ReactionOutcome.VOTED if changed else ReactionOutcome.UNCHANGED
    else:
        removed = await store.remove_vote(
            part.destination, part.canonical_id, reaction.user, reaction.vote
        )
        outcome = ReactionOutcome.REMOVED if removed else ReactionOutcome.UNCHANGED
    logger.info(
        "%s %s on %s (%s) by %s: %s",
        reaction.vote,
        "added" if reaction.added else "removed",
        part.canonical_id,
        part.destination,
        reaction.user,
        outcome,
    )
    return outcome
