"""The console: editions and command replies as plain text for the terminal (demo, CLI)."""

from __future__ import annotations

from typing import TextIO

from bot.commands.reply import Reply
from bot.edition.render import DIGEST_NAME, Digest, DigestItem, render_item_text


def _line(item: DigestItem) -> str:
    why = item.summary.split(". ")[0].rstrip(".") + "."
    return f"• {item.title} [{item.difficulty.label}]\n  {why}\n  {item.url}"


def render_reply(reply: Reply) -> str:
    """Return a reply as terminal text: a headline, then one line per item or full cards."""
    if reply.error:
        return f"⚠ {reply.text}"
    if reply.full_cards:
        body = "\n\n".join(render_item_text(item) for item in reply.items)
    else:
        body = "\n".join(_line(item) for item in reply.items)
    return f"{reply.text}\n{body}".rstrip()


class ConsoleChat:
    """A chat adapter that writes editions to a text stream (implements `ChatAdapter`).

    It keeps the keys it has written, so a resumed delivery finds what is already out.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._sent: dict[str, str] = {}

    def _write(self, key: str, text: str) -> str:
        message_id = f"console-{len(self._sent) + 1}"
        self._stream.write(text.rstrip("\n") + "\n\n")
        self._stream.flush()
        self._sent[key] = message_id
        return message_id

    async def send_parent(self, channel: str, digest: Digest, key: str) -> str:
        """Write the edition's header and intro."""
        header = f"{DIGEST_NAME}\n\n{digest.title}\n\n{digest.date_label} · {digest.count_label}"
        return self._write(key, f"{header}\n\n{digest.intro}")

    async def send_item(self, channel: str, thread: str, item: DigestItem, key: str) -> str:
        """Write one item in the seeds' text shape."""
        return self._write(key, render_item_text(item))

    async def edit_item(
        self, channel: str, thread: str, message_id: str, item: DigestItem, key: str
    ) -> None:
        """Write the item again, marked as replacing ``message_id`` (a terminal cannot edit)."""
        self._stream.write(f"[edit of {message_id}]\n{render_item_text(item)}\n\n")
        self._stream.flush()

    async def find_sent(self, channel: str, thread: str | None, key: str) -> str | None:
        """Return the id of what was already written with ``key``."""
        return self._sent.get(key)

    async def send_direct(self, user: str, text: str) -> None:
        """Write a notice addressed to ``user`` (implements `NoticeSender`)."""
        self._stream.write(f"[notice to user {user}]\n{text}\n\n")
        self._stream.flush()

    async def send_notice(self, channel: str, text: str) -> None:
        """Write a notice for the admin channel ``channel``."""
        self._stream.write(f"[notice in channel {channel}]\n{text}\n\n")
        self._stream.flush()
