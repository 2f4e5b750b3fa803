"""Chat messages that link the web archive: "Read on the web" and each item's page.

`WebLinkedChat` wraps a platform's poster when DIGEST_PUBLIC_URL is set: the parent message of
an edition links its page, every item reply (and an edited one) its item page. The links are
our public base URL plus an escaped path (`bot.web.links`); nothing else changes.
"""

from __future__ import annotations

from bot.delivery.ports import ChatAdapter
from bot.edition.render import Digest, DigestItem
from bot.web.links import Links, linked_item, with_web_link


class WebLinkedChat:
    """A `ChatAdapter` that adds the archive's links to what another one posts."""

    def __init__(self, inner: ChatAdapter, links: Links) -> None:
        self.inner = inner
        self._links = links

    async def send_parent(self, channel: str, digest: Digest, key: str) -> str:
        """Post the parent message, linking the edition's page."""
        return await self.inner.send_parent(channel, with_web_link(digest, self._links), key)

    async def send_item(self, channel: str, thread: str, item: DigestItem, key: str) -> str:
        """Post one item, linking its page."""
        linked = linked_item(item, self._links)
        return await self.inner.send_item(channel, thread, linked, key)

    async def find_sent(self, channel: str, thread: str | None, key: str) -> str | None:
        """Return the id of a message already sent with ``key``."""
        return await self.inner.find_sent(channel, thread, key)

    async def edit_item(
        self, channel: str, thread: str, message_id: str, item: DigestItem, key: str
    ) -> None:
        """Replace an item reply in place, linking its page."""
        linked = linked_item(item, self._links)
        await self.inner.edit_item(channel, thread, message_id, linked, key)

    async def send_direct(self, user: str, text: str) -> None:
        """Send a notice by direct message."""
        await self.inner.send_direct(user, text)

    async def send_notice(self, channel: str, text: str) -> None:
        """Post a notice in a channel."""
        await self.inner.send_notice(channel, text)


def linked_chat(inner: ChatAdapter, links: Links | None) -> ChatAdapter:
    """Return ``inner`` linking the archive when ``links`` is given, else ``inner`` itself."""
    if links is None or isinstance(inner, WebLinkedChat):
        return inner
    return WebLinkedChat(inner, links)
