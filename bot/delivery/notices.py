"""Notices: telling a subscription's admins, on their platform, that it needs them.

A permanent delivery failure (the channel deleted or archived, the bot removed, a permission
missing) pauses the subscription; ``digestbot status``, ``/digest-admin status``, ``/healthz``
and the log show it. A paused channel cannot say so itself, so a notice also goes to people:

- the admin who subscribed the channel with ``/digest-admin subscribe``, by direct message
  (subscriptions from the CLI or the TOML file have no such person);
- the platform's admin channel, when one is set (``DIGEST_SLACK__ADMIN_CHANNEL``,
  ``DIGEST_DISCORD__ADMIN_CHANNEL``), for every pause on that platform.

Notices are best effort: a closed DM, a missing scope or a deleted admin channel is logged,
and delivery to the other subscriptions goes on. The text is plain; adapters escape it like
any other untrusted text (a reason may quote the platform's own error message).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Mapping

from bot.delivery.deliver import DeliveryError
from bot.delivery.ports import NoticeSender
from bot.delivery.subscriptions import describe
from bot.domain import Platform, SubscriptionRecord

logger = logging.getLogger(__name__)

# Who may be told directly: a Slack member id, a Discord user snowflake. ``cli`` and
# ``config`` (and anything else) are not people on the platform.
_USER_IDS: dict[str, re.Pattern[str]] = {
    Platform.SLACK: re.compile(r"[UW][A-Z0-9]{2,20}"),
    Platform.DISCORD: re.compile(r"\d{15,21}"),
}


def platform_user(platform: str, created_by: str) -> str | None:
    """Return ``created_by`` when it is a person on ``platform`` (not ``cli`` or ``config``)."""
    pattern = _USER_IDS.get(platform)
    return created_by if pattern is not None and pattern.fullmatch(created_by) else None


def pause_notice(record: SubscriptionRecord) -> str:
    """Return the notice for a paused subscription: where, why, and how to resume it."""
    subscription = record.subscription
    destination = f"{subscription.platform}:{subscription.channel}"
    return (
        f"LLM News Digest paused the digest for channel {destination} "
        f"({describe(subscription)}).\n"
        f"Why: {subscription.paused_reason}\n"
        "Once that is fixed, run `/digest-admin resume` in that channel, or "
        f"`digestbot resume {destination}`. Editions are kept; the next one is posted then."
    )


class Noticeboard:
    """Sends notices through each platform's sender to the people who should know."""

    def __init__(
        self, senders: Mapping[str, NoticeSender], admin_channels: Mapping[str, str | None]
    ) -> None:
        self._senders = senders
        self._admin_channels = admin_channels

    async def subscription_paused(self, record: SubscriptionRecord) -> list[str]:
        """Tell the subscription's admin and the admin channel; return who was told.

        Entries are ``user:<id>`` and ``channel:<id>``; a failure is logged, never raised.
        """
        subscription = record.subscription
        sender = self._senders.get(subscription.platform)
        if sender is None:
            return []
        text = pause_notice(record)
        told: list[str] = []
        user = platform_user(subscription.platform, record.created_by)
        if user is not None and await self._try(sender.send_direct(user, text), f"user {user}"):
            told.append(f"user:{user}")
        channel = self._admin_channels.get(subscription.platform)
        # The paused channel cannot be told, even when it is the admin channel.
        if (
            channel
            and channel != subscription.channel
            and await self._try(sender.send_notice(channel, text), f"channel {channel}")
        ):
            told.append(f"channel:{channel}")
        if not told:
            logger.warning(
                "nobody could be told that %s:%s was paused; it shows in `digestbot status`",
                subscription.platform,
                subscription.channel,
            )
        return told

    async def _try(self, sending: Awaitable[None], whom: str) -> bool:
        # A notice must never stop delivery to the other subscriptions: any failure, even
        # an unexpected one, is logged and swallowed.
        try:
            await sending
        except DeliveryError as exc:
            logger.warning("could not tell %s about a paused subscription: %s", whom, exc.reason)
            return False
        except Exception:
            logger.exception("could not tell %s about a paused subscription", whom)
            return False
        return True
