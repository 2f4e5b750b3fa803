"""The console: command replies rendered as plain text for the terminal (demo, CLI)."""

from __future__ import annotations

from bot.commands import Reply
from bot.render import DigestItem, render_item_text


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
