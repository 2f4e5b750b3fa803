"""Which week an item belongs to: the week of its source's date, not of when we fetched it.

An edition dated Monday M covers the items its sources dated in the seven days ending on M
(Tuesday to Monday): HF lists papers on the Monday itself before the edition goes out, and the
seeds' edition of 2026-04-13 featured one listed that day. Fetching a past week later
(``digestbot backfill``) therefore composes the same edition it would have composed then.

Two more kinds of item are candidates, both bounded by when they reached us:

- late arrivals: an item first seen between the previous Monday and the end of M whose source
  date is older than the week but no older than the freshness bound (arXiv announces a paper
  days after the date it gives it, HF keeps listing on the Monday after the compose). The
  bound keeps a newly added feed's 2012 backlog out of the first edition after it.
- editors' picks submitted in that same span, whatever their date: an editor may pick an
  older paper on purpose.

The spans overlap by the Monday on purpose; an item featured once is never featured again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.domain import WeekWindow

DEFAULT_FRESHNESS_DAYS = 14


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def edition_week(
    monday: date, days: int = 7, freshness_days: int = DEFAULT_FRESHNESS_DAYS
) -> WeekWindow:
    """Return the candidates' window of the edition dated ``monday`` (see the module)."""
    return WeekWindow(
        monday=monday,
        first_day=monday - timedelta(days=days - 1),
        last_day=monday,
        seen_from=_midnight(monday - timedelta(days=days)),
        seen_until=_midnight(monday + timedelta(days=1)),
        fresh_since=monday - timedelta(days=freshness_days),
    )


def describe(window: WeekWindow) -> str:
    """Say in words what the window holds (for an empty week's reason)."""
    return (
        f"no new items: none dated {window.first_day:%Y-%m-%d} to {window.last_day:%Y-%m-%d}, "
        "no recent late arrival and no editor's pick submitted that week"
    )
