"""The learned ranker (bot.edition.learned) on invented histories: no real edition is read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.domain import Item, ItemContent, ItemKind
from bot.edition.imports import import_files
from bot.edition.learned import TasteHistory, blend_weight, gather_history, learn_taste
from bot.edition.profile import load_profile
from bot.edition.select import score
from bot.edition.weeks import edition_week
from storage.store import Store
from tests.builders import IN_WEEK, MONDAY, seed_week
from tests.conftest import DATA

PROFILE = load_profile()
AT = datetime(2026, 4, 13, tzinfo=UTC)
# Neither theme names a profile topic, so the profile scores both alike: only taste differs.
LIKED = ["sourdough starter hydration", "rye sourdough fermentation", "levain timing for bread",
         "crumb structure of sourdough loaves", "baking bread with wild yeast"]  # fmt: skip
PASSED = ["tomato seedlings in spring", "pruning apple orchards", "compost for vegetable beds",
          "watering a herb garden", "mulching strawberry patches"]  # fmt: skip


def an_item(n: int, title: str, body: str) -> Item:
    content = ItemContent(
        f"https://example.org/{n}", ItemKind.POST, title, f"https://example.org/{n}", body,
        (), AT, None, None, {}, f"hash{n}",
    )  # fmt: skip
    return Item(n, content, ("rss-a",), AT, AT)


def history(positives: int, negatives: int = 60) -> TasteHistory:
    liked = [
        an_item(n, f"Notes on {LIKED[n % 5]} #{n}", f"A baker's notes on {LIKED[n % 5]}.")
        for n in range(positives)
    ]
    passed = [
        an_item(1000 + n, f"Notes on {PASSED[n % 5]} #{n}", f"A gardener on {PASSED[n % 5]}.")
        for n in range(negatives)
    ]
    return TasteHistory(tuple(liked), tuple(passed))


SIMILAR = an_item(5001, "Sourdough starter hydration, revisited", "More notes on sourdough.")
DISSIMILAR = an_item(5002, "Tomato seedlings, revisited", "More notes on tomato seedlings.")


def test_an_item_like_past_picks_rises_above_one_unlike_them_at_equal_profile_fit() -> None:
    plain = [score(item, PROFILE, AT) for item in (SIMILAR, DISSIMILAR)]
    assert plain[0].fit == plain[1].fit  # the profile cannot tell them apart

    tastes = learn_taste(history(60), [SIMILAR, DISSIMILAR], PROFILE).tastes
    similar = score(SIMILAR, PROFILE, AT, taste=tastes[SIMILAR.id])
    dissimilar = score(DISSIMILAR, PROFILE, AT, taste=tastes[DISSIMILAR.id])

    assert tastes[SIMILAR.id].score > 0.5 > tastes[DISSIMILAR.id].score
    assert similar.score > dissimilar.score
    assert similar.fit > plain[0].fit


def test_the_reason_names_the_nearest_past_picks() -> None:
    tastes = learn_taste(history(60), [SIMILAR, DISSIMILAR], PROFILE).tastes
    nearest = tastes[SIMILAR.id].nearest
    assert len(nearest) == 2
    assert all("sourdough starter hydration" in title for title in nearest)
    reason = score(SIMILAR, PROFILE, AT, taste=tastes[SIMILAR.id]).reason
    assert f"close to: “{nearest[0]}”; “{nearest[1]}”" in reason


def test_with_little_history_the_profile_carries_the_score() -> None:
    assert blend_weight(0) == blend_weight(4) == 0.0
    assert 0 < blend_weight(10) < blend_weight(25) < blend_weight(50) == 0.6
    assert blend_weight(500) == 0.6

    assert learn_taste(history(4), [SIMILAR, DISSIMILAR], PROFILE).tastes == {}
    few = learn_taste(history(8), [SIMILAR, DISSIMILAR], PROFILE).tastes[SIMILAR.id]
    many = learn_taste(history(60), [SIMILAR, DISSIMILAR], PROFILE).tastes[SIMILAR.id]
    assert few.weight < many.weight
    plain = score(SIMILAR, PROFILE, AT)
    # The profile keeps most of the say with a short history.
    assert abs(score(SIMILAR, PROFILE, AT, taste=few).fit - plain.fit) < abs(
        score(SIMILAR, PROFILE, AT, taste=many).fit - plain.fit
    )


def test_a_team_that_featured_security_sees_new_security_work_rise_whatever_its_wording() -> None:
    # The team's past picks were about guardrails and safety; the stream it reads from is
    # mostly vision work. Neither new candidate shares a word with any past item beyond the
    # profile's terms, so only the topics they name can tell them apart.
    liked = [
        an_item(n, f"Guardrails for deployed assistants, part {n}", f"On safety case {n}.")
        for n in range(30)
    ]
    passed = [
        an_item(1000 + n, f"Image captioning study {n}", f"Vision encoders, video {n}.")
        for n in range(200)
    ]
    prompt_attack = an_item(
        5003, "Jailbreak transfer across chat frontends", "Prompt injection hides in pasted docs."
    )
    pictures = an_item(
        5004, "Multimodal grounding of diagrams", "Images of plots paired with captions."
    )

    learned = learn_taste(
        TasteHistory(tuple(liked), tuple(passed)), [prompt_attack, pictures], PROFILE
    )
    tastes = learned.tastes

    assert tastes[prompt_attack.id].score > tastes[pictures.id].score
    assert tastes[prompt_attack.id].leaning == ("security",)
    assert tastes[pictures.id].leaning == ()
    reason = score(prompt_attack, PROFILE, AT, taste=tastes[prompt_attack.id]).reason
    assert "the team favours: security" in reason
    # Said in a line by digestbot candidates: what the team picks more and less than its stream.
    assert learned.more[0] == "security"
    assert "multimodal" in learned.less
    assert learned.describe().startswith("Taste learned from 30 past picks against 200 others")
    assert "more security" in learned.describe()


def test_with_too_few_picks_it_says_the_profile_ranks_alone() -> None:
    learned = learn_taste(history(3), [SIMILAR, DISSIMILAR], PROFILE)
    assert learned.tastes == {}
    assert learned.describe() == (
        "No taste learned yet: 3 past picks (it learns from 6 on); the profile alone ranks."
    )


async def test_an_archive_imported_in_a_first_week_is_told_apart_from_that_week(
    tmp_path: Path,
) -> None:
    # A new team: the store holds this week's items and nothing else, then its newsletter
    # archive is imported. The week's candidates stand in as the background the picks are
    # told apart from (never as picks), so the taste is learned now rather than weeks later.
    store = await Store.open(f"sqlite:///{tmp_path / 'first.db'}")
    try:
        await seed_week(store, IN_WEEK)
        await import_files(store, [DATA / "history" / "invented_edition.txt"], IN_WEEK)
        featured = await store.featured_item_ids(except_date=MONDAY)
        pool = [
            candidate
            for candidate in await store.week_candidates(edition_week(MONDAY, 7, 14))
            if candidate.id not in featured
        ]
        history = await gather_history(store, MONDAY, pool)
    finally:
        await store.aclose()

    assert pool, "the week has candidates"
    assert len(history.positives) == 5
    assert {n.id for n in history.negatives} == {candidate.id for candidate in pool}
    # Five picks are not yet enough to trust, and the candidates command says so.
    learned = learn_taste(history, pool, PROFILE)
    assert learned.describe() == (
        "No taste learned yet: 5 past picks (it learns from 6 on); the profile alone ranks."
    )
