"""The archive's pages and feeds as text: jinja2 templates with autoescaping, and JSON Feed.

Every template escapes what it prints (autoescape on for ``.html`` and ``.atom``; nothing is
marked safe but the HTML these templates made themselves), and link targets come from
`bot.web.links` only. The feed has one entry per edition with its whole content; entry ids
are derived from the edition's date, so they never change.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.domain import Difficulty
from bot.edition.render import DIGEST_NAME, long_date
from bot.web.links import Links, safe_href
from bot.web.pages import (
    SEARCH_LIMIT,
    EditionsView,
    EditionView,
    HomeView,
    ItemView,
    SearchView,
)

FEED_NAMESPACE = uuid.UUID("6f1c1f0e-2b8e-4a55-9c1e-6b7f0c1d2e3a")
"""Entry ids are uuid5(this, "edition:DATE"): stable whatever the URL the site moves to."""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("adapters.web", "templates"),
        autoescape=select_autoescape(["html", "atom"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(
        name=DIGEST_NAME, external=safe_href, long_date=long_date, difficulties=list(Difficulty)
    )
    return env


def entry_id(view: EditionView) -> str:
    """Return the feed id of an edition: a URN that depends on its date only."""
    return uuid.uuid5(FEED_NAMESPACE, f"edition:{view.digest.date.isoformat()}").urn


def _rfc3339(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    title: str
    link: str
    published: str
    updated: str
    summary: str
    html: str


class SiteRenderer:
    """Renders the archive's pages and feeds (templates loaded once, then cached)."""

    def __init__(self) -> None:
        self._env = _environment()

    def _page(self, template: str, links: Links, **context: object) -> str:
        return self._env.get_template(template).render(links=links, **context)

    def home(self, view: HomeView, links: Links) -> str:
        """Return the latest edition and the few before it."""
        return self._page("home.html", links, view=view)

    def editions(self, view: EditionsView, links: Links) -> str:
        """Return one page of the list of editions."""
        return self._page("editions.html", links, view=view)

    def edition(self, view: EditionView, links: Links) -> str:
        """Return one edition in the seeds' shape."""
        return self._page("edition.html", links, view=view)

    def item(self, view: ItemView, links: Links) -> str:
        """Return one item's card and the editions it was in."""
        return self._page("item.html", links, view=view)

    def search(self, view: SearchView, links: Links) -> str:
        """Return the search form and its results."""
        return self._page("search.html", links, view=view, limit=SEARCH_LIMIT)

    def error(self, heading: str, message: str, links: Links) -> str:
        """Return a page saying what went wrong in one line."""
        return self._page("error.html", links, heading=heading, message=message)

    def edition_html(self, view: EditionView, links: Links) -> str:
        """Return the body of an edition as an HTML fragment (a feed entry's content)."""
        macro = self._env.get_template("_macros.html").module.edition_body  # type: ignore[attr-defined]
        return str(macro(view, links, heading=False))

    def _entries(self, views: list[EditionView], links: Links) -> list[_Entry]:
        entries = []
        for view in views:
            digest = view.digest
            published = datetime.combine(digest.date, time(0), tzinfo=UTC)
            changed = max((i.updated for i in digest.items if i.updated), default=None)
            updated = datetime.combine(changed, time(0), tzinfo=UTC) if changed else published
            entries.append(
                _Entry(
                    id=entry_id(view),
                    title=f"{digest.title} ({digest.date_label})",
                    link=links.edition(digest.date),
                    published=_rfc3339(published),
                    updated=_rfc3339(max(updated, published)),
                    summary=digest.intro,
                    html=self.edition_html(view, links),
                )
            )
        return entries

    def atom(self, views: list[EditionView], links: Links) -> str:
        """Return the Atom feed: one entry per edition, newest first, with its whole content."""
        entries = self._entries(views, links)
        updated = max((e.updated for e in entries), default=_rfc3339(datetime(2000, 1, 1)))
        return self._page(
            "feed.atom",
            links,
            entries=entries,
            updated=updated,
            feed_id=uuid.uuid5(FEED_NAMESPACE, "feed").urn,
        )

    def json_feed(self, views: list[EditionView], links: Links) -> str:
        """Return the JSON Feed (version 1.1) of the same entries."""
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": DIGEST_NAME,
            "home_page_url": links.home(),
            "feed_url": links.feed_json(),
            "items": [
                {
                    "id": entry.id,
                    "url": entry.link,
                    "title": entry.title,
                    "summary": entry.summary,
                    "content_html": entry.html,
                    "date_published": entry.published,
                    "date_modified": entry.updated,
                }
                for entry in self._entries(views, links)
            ],
        }
        return json.dumps(feed, ensure_ascii=False, indent=1)
