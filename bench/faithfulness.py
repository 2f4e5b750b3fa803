"""Benchmark: the faithfulness guard on a real edition, and on fabrications planted into it.

Run: ``.venv/bin/python -m bench.faithfulness [SEED_TEXT] [ABSTRACTS_DIR]`` from the repository
root. It reads the edition dated 2026-04-13 (``../shared/seeds/000_*.txt``) and the recorded
abstracts of its papers (``../shared/fixtures/real/hf_daily_2026-04``) at run time only.

1. False alarms: every real "why" paragraph and takeaway of an item whose abstract is recorded
   is checked against that abstract (with title and authors, as the summarizer's guard sees
   it). Any problem found is a false alarm. Goal: at most 5% of the checked texts.
2. Catch rate: fabrications planted by ``bench.plant`` (fixed seed) into those texts. A plant is
   caught when the guard reports a problem for the planted text that it did not report for the
   original. Goal: at least 300 plants, at least 95% caught.

Prints both figures (and every false alarm and miss); exits 1 if a goal is missed.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from bench.edition_text import SHARED, checked_items
from bench.plant import KINDS, plant_all
from bot.edition.guard import unsupported_claims

MAX_FALSE_ALARM_RATE = 0.05
MIN_CATCH_RATE = 0.95
MIN_PLANTS = 300


def main(argv: list[str]) -> int:
    seed = Path(argv[0]) if argv else next(iter(sorted((SHARED / "seeds").glob("000_*.txt"))))
    abstracts = Path(argv[1]) if len(argv) > 1 else SHARED / "fixtures/real/hf_daily_2026-04"
    items, skipped = checked_items(seed, abstracts)
    texts = [([item.why, *item.takeaways], source) for item, source in items]
    print(f"edition: {seed.name}; items checked: {len(items)}; skipped (no recorded source "
          f"text): {skipped}")  # fmt: skip

    checked = alarms = 0
    for item, source in items:
        for text in (item.why, *item.takeaways):
            checked += 1
            problems = unsupported_claims([text], source)
            if problems:
                alarms += 1
                print(f"  false alarm [{item.arxiv_id}] {problems}: {text}")
    rate = alarms / checked if checked else 0.0
    print(f"false alarms: {alarms}/{checked} texts = {rate:.1%} (goal <= 5%)")

    plants = plant_all(texts)
    total, caught = Counter[str](), Counter[str]()
    for plant in plants:
        source = texts[plant.item][1]
        before = set(unsupported_claims([plant.original], source))
        after = unsupported_claims([plant.planted], source)
        total[plant.kind] += 1
        if set(after) - before:
            caught[plant.kind] += 1
        else:
            print(f"  missed {plant.kind} ({plant.change}): {plant.planted}")
    overall = sum(caught.values()) / max(1, sum(total.values()))
    print(f"planted: {sum(total.values())}; caught: {sum(caught.values())} = {overall:.1%} "
          "(goal >= 95% of >= 300)")  # fmt: skip
    for kind in KINDS:
        share = caught[kind] / total[kind] if total[kind] else 0.0
        print(f"  {kind:<11} {caught[kind]:>4}/{total[kind]:<4} = {share:.1%}")

    ok = rate <= MAX_FALSE_ALARM_RATE and overall >= MIN_CATCH_RATE
    ok = ok and sum(total.values()) >= MIN_PLANTS and checked > 0
    print("goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
