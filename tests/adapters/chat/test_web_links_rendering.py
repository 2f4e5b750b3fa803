"""Chat renderings of the archive's links: on Slack and Discord, only when a page is known."""

from __future__ import annotations

from dataclasses import replace

from adapters.chat.discord_bot import reply_message
from adapters.chat.discord_chat import item_embeds, parent_message
from adapters.chat.slack_chat import item_blocks, parent_blocks
from bot.commands.reply import Reply
from bot.domain import Difficulty
from bot.edition.render import Digest, DigestItem
from bot.web.links import public_links, with_item_links, with_web_link
from tests.builders import MONDAY

LINKS = public_links("https://digest.example")
ITEM = DigestItem(
    1, "A (title) with <brackets>", "https://arxiv.org/abs/2604.31415", Difficulty.ADVANCED,
    (), "Why it matters.", ("One.", "Two.", "Three."), "api-hf", "2604.31415", None,
    canonical_id="arxiv:2604.31415",
)  # fmt: skip
DIGEST = Digest(1, MONDAY, "Title", "Intro.", False, (ITEM,))


def test_discord_parent_and_items_link_their_pages() -> None:
    linked = with_web_link(DIGEST, LINKS)
    _, embeds = parent_message(linked, "marker")
    assert "[Read on the web](<https://digest.example/editions/2026-04-13>)" in str(
        embeds[-1].description
    )
    (card,) = item_embeds(linked.items[0], None)
    source = card.fields[-1].value
    assert (
        source
        == "via api-hf · arXiv:2604.31415 · [On the web](<https://digest.example/items/arxiv:2604.31415>)"
    )
    answer = reply_message(with_item_links(Reply("Best matches", items=(ITEM,)), LINKS))
    assert "https://digest.example/items/arxiv:2604.31415" in str(answer["embeds"][0].description)


def test_without_a_page_nothing_links_the_archive() -> None:
    _, embeds = parent_message(DIGEST, "marker")
    assert "on the web" not in str(embeds[-1].description).lower()
    assert "on the web" not in str(parent_blocks(DIGEST)).lower()
    assert "on the web" not in str(item_blocks(ITEM)).lower()
    assert with_item_links(Reply("x"), LINKS) == Reply("x")
    unknown = replace(ITEM, canonical_id="")
    assert with_item_links(Reply("x", items=(unknown,)), LINKS).items == (unknown,)
