"""A junk validator for written summaries, independent of the writer's own screening.

It counts what must never appear as a summary sentence or a takeaway: rhetorical questions,
background and related-work sentences, first person, tag lists, timestamps, list debris,
truncated sentences, URLs and Markdown. It also measures how many written sentences are
near-verbatim copies of a source sentence. The patterns are written here afresh (not
imported from bot.edition.sentences) so that a gap in the writer is not hidden by the same gap
in its test.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

JUNK: dict[str, re.Pattern[str]] = {
    "question": re.compile(r"\?"),
    "first person": re.compile(
        r"\b(?:I|I['’](?:m|ve|d|ll)|me|[Mm]y|[Ww]e|[Ww]e['’](?:re|ve|d|ll)|[Oo]urs?|us)\b"
    ),
    "background": re.compile(
        r"^(?:Prior|Previous|Existing|Recent|Past|Many) (?:\w+ )?(?:work|works|studies|research|"
        r"methods|approaches)\b|\b(?:has|have) (?:attracted|gained|received|drawn) (?:\w+ ){0,2}"
        r"attention|^(?:In recent years|Over the past|Recently,)|\b(?:existing|previous|prior) "
        r"(?:works?|methods|approaches|studies) (?:have|has|fall|suffer|rely)\b",
        re.IGNORECASE,
    ),
    "tag list": re.compile(
        r"^(?:Tags|Tagged|Keywords|Key terms|Threads it touches|Topics|Categories)\s*:",
        re.IGNORECASE,
    ),
    "timestamp": re.compile(r"\b\d{1,2}:\d{2}\b"),
    "list debris": re.compile(
        r"^\s*(?:[-•*–]|\d+[.)])\s|:\s*\.?$|\band more\b[.…]*$|^[^A-Za-z0-9“\"']|,\s*[.]$|"
        r"\s[-–—]\s*\.?$|;\s*\.?$"
    ),
    "truncated": re.compile(
        r"(?:…|\.\.)$|[^.!]$|\b(?:the|a|an|their|its|of|in|to|and|or|with|for|by|on|at|from|as|"
        r"into|than|that|which|is|are)\.$",
        re.IGNORECASE,
    ),
    "url": re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|org|net|io|ai|dev)\b"),
    "markdown": re.compile(r"\*\*|__|`|\[[^\]]*\]\(|^#|^>"),
}
AUTHORS = re.compile(r"\bthe authors\b", re.IGNORECASE)
_SPLIT = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9“\"'(])")


def sentences(text: str) -> list[str]:
    """Split written text into sentences (figures like "0.3B" and "e.g." stay whole)."""
    return [part.strip() for part in _SPLIT.split(text.strip()) if part.strip()]


def junk_in(sentence: str) -> list[str]:
    """Return the names of the junk patterns one written sentence shows."""
    return [name for name, pattern in JUNK.items() if pattern.search(sentence)]


def junk_count(why: str, takeaways: Sequence[str]) -> Counter[str]:
    """Count junk patterns in one summary and its takeaways.

    A takeaway may also not say "the authors", run past 220 characters or hold two sentences.
    """
    found: Counter[str] = Counter()
    for sentence in sentences(why):
        found.update(junk_in(sentence))
    for takeaway in takeaways:
        found.update(junk_in(takeaway))
        if AUTHORS.search(takeaway):
            found["the authors in a takeaway"] += 1
        if len(takeaway) > 220:
            found["long takeaway"] += 1
        if len(sentences(takeaway)) != 1:
            found["takeaway of several sentences"] += 1
    return found


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+(?:[.,][0-9]+)*", text.lower()))


def near_verbatim(sentence: str, source: str, threshold: float = 0.8) -> bool:
    """Return whether ``sentence`` is a near copy of one sentence of ``source``.

    Near copy: more than ``threshold`` of the words are shared, against the longer of the two,
    so trimming a third of a sentence no longer counts as a copy but swapping one word does.
    """
    mine = _words(sentence)
    for theirs in map(_words, sentences(source.replace("\n", " "))):
        if mine and theirs and len(mine & theirs) / max(len(mine), len(theirs)) > threshold:
            return True
    return False


def verbatim_share(written: Iterable[str], source: str) -> tuple[int, int]:
    """Return (near-verbatim, all) counts of the written sentences against a source."""
    all_sentences = [s for text in written for s in sentences(text)]
    return sum(near_verbatim(s, source) for s in all_sentences), len(all_sentences)
