"""Discord: editing a delivered item reply in place after a rewrite (``PATCH`` a message).

The reply keeps its id, its thread and its footer marker (so `DiscordChat.find_sent` still
knows it); its embeds are replaced and it goes out with ``AllowedMentions.none()``. An item
is one message in practice (an item's embeds stay far under Discord's 6,000 characters); one
that would need several cannot be edited into the single recorded message, and says so.
Discord refuses to edit another author's message (403, code 50005) and a deleted one (404,
code 10008): both are permanent, and neither marks the channel as dead.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
import discord

from bot.delivery.deliver import DeliveryError


def single_message(messages: Sequence[list[discord.Embed]]) -> list[discord.Embed]:
    """Return an item's packed embeds as the one message an edit replaces, or refuse."""
    if len(messages) != 1:
        raise DeliveryError(
            f"Discord: the rewritten item needs {len(messages)} messages; "
            "only one recorded message can be edited",
            permanent=True,
        )
    return messages[0]


async def edit_message(
    client: discord.Client, thread: str, message_id: str, embeds: list[discord.Embed]
) -> None:
    """Replace the embeds of the bot's message ``message_id`` in ``thread`` (no pings)."""
    where = client.get_partial_messageable(int(thread), type=discord.ChannelType.public_thread)
    await where.get_partial_message(int(message_id)).edit(
        embeds=embeds, allowed_mentions=discord.AllowedMentions.none()
    )


def edit_failure(exc: Exception, message_id: str) -> DeliveryError:
    """Map a failed edit to a delivery error: gone or not ours is permanent, 5xx/429 passing."""
    if isinstance(exc, discord.HTTPException):
        permanent = 400 <= exc.status < 500 and exc.status != 429
        return DeliveryError(
            f"Discord: cannot edit message {message_id}: HTTP {exc.status}: {exc.text}",
            permanent=permanent,
        )
    if isinstance(exc, aiohttp.ClientError | TimeoutError):
        return DeliveryError(f"Discord: {exc.__class__.__name__}: {exc}", permanent=False)
    return DeliveryError(f"Discord: {exc}", permanent=False)
