"""Chat and delivery-log fakes that fail on purpose: a send that fails, a record lost in a crash.

They wrap our own ports (the console adapter, the store), so delivery's error paths run against
real code on both sides.
"""

from __future__ import annotations

import io
from datetime import datetime

from adapters.chat.console_chat import ConsoleChat
from bot.delivery.deliver import DeliveryError
from bot.edition.render import Digest, DigestItem
from storage.store import Store


class FailingAfter(ConsoleChat):
    """Sends ``limit`` messages, then fails every send."""

    def __init__(self, stream: io.StringIO, limit: int, *, permanent: bool = False) -> None:
        super().__init__(stream)
        self.limit = limit
        self.permanent = permanent
        self.sends = 0

    def _count(self) -> None:
        if self.sends >= self.limit:
            raise DeliveryError("channel_not_found", permanent=self.permanent)
        self.sends += 1

    async def send_parent(self, channel: str, digest: Digest, key: str) -> str:
        self._count()
        return await super().send_parent(channel, digest, key)

    async def send_item(self, channel: str, thread: str, item: DigestItem, key: str) -> str:
        self._count()
        return await super().send_item(channel, thread, item, key)


class CrashBeforeRecording:
    """A delivery log that loses the record of part ``part``, as a crash after the send would."""

    def __init__(self, store: Store, part: int) -> None:
        self.store = store
        self.part = part

    async def begin_delivery(self, destination: str, edition_id: int, at: datetime) -> bool:
        return await self.store.begin_delivery(destination, edition_id, at)

    async def sent_parts(self, destination: str, edition_id: int) -> dict[int, tuple[str, str]]:
        return await self.store.sent_parts(destination, edition_id)

    async def record_sent(
        self,
        destination: str,
        edition_id: int,
        part: int,
        message_id: str,
        thread_id: str,
        at: datetime,
    ) -> None:
        if part == self.part:
            raise DeliveryError("process killed", permanent=False)
        await self.store.record_sent(destination, edition_id, part, message_id, thread_id, at)
