"""The faithfulness guard: what a written summary states that its source does not support.

A summary (the model's, or an editor's rewrite) may only state what its source supports;
`unsupported_claims` lists what it cannot find, and the summarizer rewrites or falls back to the
offline text rather than publish it. Four kinds of claim are checked, each in its own module:

* figures, matched whole with their unit ("16%" is not "16 hours") — ``guard_figures``;
* names anywhere in a sentence, generic vocabulary and spelled-out acronyms excepted —
  ``guard_names`` and ``guard_words``;
* comparisons ("beats", "state of the art", "the first") the source does not make, and hedges
  ("may", "up to") the source makes and the summary drops — ``guard_claims``.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain import Item
from bot.edition.guard_claims import comparison_problems, hedge_problems
from bot.edition.guard_figures import figure_problems, source_figures
from bot.edition.guard_names import NameChecker
from bot.edition.guard_text import Source

SOURCE_CHARS = 2500


def unsupported_claims(texts: Iterable[str], source: str) -> list[str]:
    """Return a short description of each claim in ``texts`` that ``source`` does not support.

    An empty list means the texts are faithful. Each entry names the problem as the summary
    wrote it: a figure ("16%", "3 days"), a name ("GPT-7"), a comparison ("beats GPT-4") or a
    dropped hedge ("drops the hedge 'up to' (16%)"); duplicates are listed once.
    """
    prepared = Source(source)
    stated = source_figures(prepared)
    names = NameChecker(prepared)
    missing: list[str] = []
    for text in texts:
        missing.extend(figure_problems(text, prepared, stated))
        missing.extend(names.problems(text))
        missing.extend(comparison_problems(text, prepared))
        missing.extend(hedge_problems(text, prepared))
    return list(dict.fromkeys(missing))


def source_text(item: Item) -> str:
    """Return what a summary may draw on: title, authors, text and HF's own summary."""
    content = item.content
    parts = [content.title, ", ".join(content.authors), content.summary[:SOURCE_CHARS]]
    hf_summary = content.data.get("hf_summary")
    if isinstance(hf_summary, str):
        parts.append(hf_summary)
    return "\n".join(part for part in parts if part)
