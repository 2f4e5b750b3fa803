"""Deliver: one edition to one destination, as a parent message and a threaded reply per item.

Every send is recorded (destination, edition, part, message id) before the next one, so a
re-run resumes the same thread and sends nothing twice (DESIGN.md §7). A send whose record was
lost (a crash between the two) is found again through the adapter: each part carries a stable
key the platform keeps (Slack message metadata, Discord nonce) and `ChatAdapter.find_sent`
looks for it before sending.

Sends to one destination are sequential and recorded one by one, so only the first part a
run sends can have been sent already, by a run that died between its send and its record:
`find_sent` is asked for that part only, and not at all when no delivery of this edition to
this destination ever began (`DeliveryLog.begin_delivery`). A first delivery costs no request
beyond its messages; a resumed one costs one lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.delivery.ports import ChatAdapter, DeliveryLog
from bot.domain import Edition, Platform
from bot.edition.render import to_digest
from bot.ports import Clock

_CHANNEL = re.compile(r"[A-Za-z0-9_-]{1,80}")


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an edition goes: a platform and a channel id (``slack:C0123456``)."""

    platform: Platform
    channel: str

    @classmethod
    def parse(cls, text: str) -> Destination:
        """Parse ``platform:CHANNEL_ID``; raise `ValueError` saying what would be right."""
        platform, _, channel = text.strip().partition(":")
        platform = platform.lower()
        if platform not in set(Platform) or not _CHANNEL.fullmatch(channel):
            raise ValueError(
                f"{text[:60]!r} is not a destination; use slack:CHANNEL_ID or discord:CHANNEL_ID"
            )
        return cls(Platform(platform), channel)

    def __str__(self) -> str:
        return f"{self.platform}:{self.channel}"


class DeliveryError(Exception):
    """A send failed; ``permanent`` when retrying cannot help (channel gone, no permission)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery did: parts sent now, parts already there, and a failure if any."""

    destination: Destination
    sent: int
    already: int
    recovered: int
    error: DeliveryError | None = None
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        """True when every part of the edition is in the channel."""
        return self.error is None and not self.interrupted


def part_key(edition_id: int, part: int) -> str:
    """Return the stable key of one part of one edition (for the platform to keep)."""
    return f"llm-news-digest:{edition_id}:{part}"


def parse_part_key(key: str) -> tuple[int, int]:
    """Return the (edition id, part) a `part_key` names; raise `ValueError` for anything else."""
    prefix, edition_id, part = key.split(":")
    if prefix != "llm-news-digest":
        raise ValueError(f"not a part key: {key!r}")
    return int(edition_id), int(part)


async def deliver(
    edition: Edition,
    destination: Destination,
    adapter: ChatAdapter,
    log: DeliveryLog,
    clock: Clock,
    *,
    stop: Callable[[], bool] | None = None,
    scope: str = "",
) -> DeliveryReport:
    """Send what ``destination`` does not have yet of ``edition``, recording every send.

    ``stop`` is asked before each part: when it says so (shutting down) the delivery ends
    after the part in flight, recorded, and reports itself interrupted; a later run resumes.
    ``scope`` is the parent's count line when the channel gets only part of the edition
    (`bot.delivery.content.select_items`: ``edition`` then holds that part only).
    """
    digest = replace(to_digest(edition), scope=scope)
    where = str(destination)
    done = await log.sent_parts(where, edition.id)
    sent = recovered = 0
    already = len(done)
    thread = done[0][0] if 0 in done else None
    # Whether the next send may already have happened (see the module docstring).
    unsure = bool(done) or not await log.begin_delivery(where, edition.id, clock.now())

    async def find(thread: str | None, key: str) -> str | None:
        nonlocal unsure, recovered
        if not unsure:
            return None
        unsure = False
        found = await adapter.find_sent(destination.channel, thread, key)
        recovered += found is not None
        return found

    try:
        if thread is None:
            key = part_key(edition.id, 0)
            found = await find(None, key)
            thread = found or await adapter.send_parent(destination.channel, digest, key)
            sent += found is None
            await log.record_sent(where, edition.id, 0, thread, thread, clock.now())
        for item in digest.items:
            if item.position in done:
                continue
            if stop is not None and stop():
                return DeliveryReport(destination, sent, already, recovered, interrupted=True)
            key = part_key(edition.id, item.position)
            found = await find(thread, key)
            message = found or await adapter.send_item(destination.channel, thread, item, key)
            sent += found is None
            await log.record_sent(where, edition.id, item.position, message, thread, clock.now())
    except DeliveryError as exc:
        return DeliveryReport(destination, sent, already, recovered, exc)
    return DeliveryReport(destination, sent, already, recovered)
